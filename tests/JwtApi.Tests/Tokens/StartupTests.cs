using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using JwtApi.Tests.Support;

namespace JwtApi.Tests.Tokens;

/// <summary>Misconfiguration stops the service at start, with a message that says how to fix it.</summary>
public sealed class StartupTests
{
    private static JwtApiFactory Factory(string environment, params (string Key, string? Value)[] settings) =>
        Factory(environment, null, settings);

    private static JwtApiFactory Factory(string environment, TestStorage? storage, params (string Key, string? Value)[] settings)
    {
        var factory = storage is null
            ? new JwtApiFactory { Environment = environment }
            : new JwtApiFactory { Environment = environment, Storage = storage };
        factory.Settings["Passwords:WorkFactor"] = "10";
        foreach (var (key, value) in settings)
        {
            factory.Settings[key] = value;
        }
        return factory;
    }

    private static string StartupError(JwtApiFactory factory) => StartupFailure.Of(factory);

    [Fact]
    public void RefusesToStartGivenHmacKeyShorterThan256Bits()
    {
        var error = StartupError(Factory("Production", ("Jwt:SigningKey", Convert.ToBase64String(RandomNumberGenerator.GetBytes(31)))));

        error.Should().Contain("248 bits").And.Contain("at least 256 bits").And.Contain("openssl rand -base64 32");
    }

    [Fact]
    public void RefusesToStartGivenSigningKeyThatIsNotBase64()
    {
        StartupError(Factory("Production", ("Jwt:SigningKey", "not base64 at all!"))).Should().Contain("not valid base64");
    }

    [Theory]
    [InlineData("Production")]
    [InlineData("Staging")]
    public void RefusesToStartGivenNoHmacKeyOutsideDevelopment(string environment)
    {
        StartupError(Factory(environment, ("Jwt:SigningKey", null))).Should().Contain("No signing key").And.Contain("Jwt__SigningKey");
    }

    [Fact]
    public void RefusesToStartGivenNoRsaKeyOutsideDevelopment()
    {
        StartupError(Factory("Production", ("Jwt:Algorithm", "RS256"), ("Jwt:SigningKey", null)))
            .Should().Contain("No signing key").And.Contain("Jwt:PrivateKeyPath");
    }

    [Fact]
    public void RefusesToStartGivenRsaKeyUnder2048Bits()
    {
        using var rsa = RSA.Create(1024);
        var path = TestKeys.WritePem(rsa.ExportPkcs8PrivateKeyPem());

        StartupError(Factory("Production", ("Jwt:Algorithm", "RS256"), ("Jwt:PrivateKeyPath", path)))
            .Should().Contain("1024-bit").And.Contain("at least 2048 bits");
    }

    [Fact]
    public void RefusesToStartGivenRsaPublicKeyOnly()
    {
        var path = TestKeys.WritePem(TestKeys.Rsa.ExportSubjectPublicKeyInfoPem());

        StartupError(Factory("Production", ("Jwt:Algorithm", "RS256"), ("Jwt:PrivateKeyPath", path)))
            .Should().Contain("public key only");
    }

    [Fact]
    public void RefusesToStartGivenMissingPemFile()
    {
        StartupError(Factory("Production", ("Jwt:Algorithm", "RS256"), ("Jwt:PrivateKeyPath", "/nonexistent/key.pem")))
            .Should().Contain("does not exist");
    }

    [Theory]
    [InlineData("none")]
    [InlineData("HS512")]
    [InlineData("hs256")]
    public void RefusesToStartGivenUnsupportedAlgorithm(string algorithm)
    {
        StartupError(Factory("Testing", ("Jwt:Algorithm", algorithm))).Should().Contain("HS256, RS256, ES256");
    }

    [Theory]
    [InlineData("Jwt:AccessTokenLifetime", "01:00:01", "Jwt:AccessTokenLifetime")]
    [InlineData("Jwt:AccessTokenLifetime", "00:00:30", "Jwt:AccessTokenLifetime")]
    [InlineData("Jwt:ClockSkew", "00:10:00", "Jwt:ClockSkew")]
    [InlineData("Jwt:Issuer", null, "Jwt:Issuer")]
    [InlineData("Jwt:Audience", null, "Jwt:Audience")]
    public void RefusesToStartGivenOutOfBoundsSetting(string key, string? value, string message)
    {
        StartupError(Factory("Testing", (key, value))).Should().Contain(message);
    }

    [Theory]
    [InlineData("true", "true", "exactly one must be active")]
    [InlineData("false", "false", "exactly one must be active")]
    public void RefusesToStartGivenOtherThanOneActiveKey(string first, string second, string message)
    {
        StartupError(Factory("Testing",
            ("Jwt:SigningKeys:0:Algorithm", "HS256"), ("Jwt:SigningKeys:0:Secret", TestKeys.HmacBase64), ("Jwt:SigningKeys:0:Active", first),
            ("Jwt:SigningKeys:1:Algorithm", "RS256"), ("Jwt:SigningKeys:1:PemPath", TestKeys.RsaPemPath), ("Jwt:SigningKeys:1:Active", second)))
            .Should().Contain(message);
    }

    [Fact]
    public void RefusesToStartGivenDuplicateKid()
    {
        StartupError(Factory("Testing",
            ("Jwt:SigningKeys:0:Algorithm", "HS256"), ("Jwt:SigningKeys:0:Secret", TestKeys.HmacBase64), ("Jwt:SigningKeys:0:Active", "true"), ("Jwt:SigningKeys:0:KeyId", "k"),
            ("Jwt:SigningKeys:1:Algorithm", "RS256"), ("Jwt:SigningKeys:1:PemPath", TestKeys.RsaPemPath), ("Jwt:SigningKeys:1:KeyId", "k")))
            .Should().Contain("kid 'k' more than once");
    }

    [Fact]
    public void RefusesToStartGivenEcKeyOffP256()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var path = TestKeys.WritePem(p384.ExportPkcs8PrivateKeyPem());

        StartupError(Factory("Production", ("Jwt:Algorithm", "ES256"), ("Jwt:PrivateKeyPath", path)))
            .Should().Contain("not on P-256");
    }

    [Fact]
    public void RefusesToStartGivenActiveKeyWithoutPrivateHalf()
    {
        StartupError(Factory("Testing",
            ("Jwt:SigningKeys:0:Algorithm", "ES256"), ("Jwt:SigningKeys:0:Pem", TestKeys.Ec.ExportSubjectPublicKeyInfoPem()), ("Jwt:SigningKeys:0:Active", "true")))
            .Should().Contain("public key only");
    }

    [Fact]
    public void RefusesToStartGivenNoRefreshKeyOutsideDevelopment()
    {
        StartupError(Factory("Production", ("Jwt:RefreshSigningKey", null)))
            .Should().Contain("No refresh-token key").And.Contain("Jwt__RefreshSigningKey");
    }

    [Fact]
    public void RefusesToStartGivenRefreshKeyEqualToAccessKey()
    {
        StartupError(Factory("Production", ("Jwt:RefreshSigningKey", TestKeys.HmacBase64)))
            .Should().Contain("Jwt:RefreshSigningKey must differ from Jwt:SigningKey");
    }

    public static TheoryData<string> RespelledAccessKeys => new()
    {
        // the same 32 bytes, spelled otherwise: whitespace around and inside, and a spare bit set before the padding
        " " + TestKeys.HmacBase64 + "\n",
        TestKeys.HmacBase64.Insert(20, " "),
        WithSpareBitSet(TestKeys.HmacBase64),
    };

    [Theory]
    [MemberData(nameof(RespelledAccessKeys))]
    public void RefusesToStartGivenRefreshKeyThatDecodesToTheAccessKey(string refreshKey)
    {
        StartupError(Factory("Production", ("Jwt:RefreshSigningKey", refreshKey)))
            .Should().Contain("Jwt:RefreshSigningKey must differ from Jwt:SigningKey");
    }

    [Fact]
    public void RefusesToStartGivenRefreshKeyListedInTheKeySet()
    {
        var other = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var factory = Factory("Production", ("Jwt:RefreshSigningKey", TestKeys.HmacBase64));
        factory.UseSigningKeys(new("HS256", Active: true, Secret: other), new("HS256", Secret: TestKeys.HmacBase64.Insert(8, "\n")));

        StartupError(factory).Should().Contain("Jwt:RefreshSigningKey must differ from Jwt:SigningKeys:1:Secret")
            .And.Contain("openssl rand -base64 32");
    }

    private static string WithSpareBitSet(string base64)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        var last = base64.TrimEnd('=').Length - 1;
        var respelled = base64[..last] + alphabet[alphabet.IndexOf(base64[last], StringComparison.Ordinal) | 1] + base64[(last + 1)..];
        respelled.Should().NotBe(base64);
        Convert.FromBase64String(respelled).Should().Equal(Convert.FromBase64String(base64));
        return respelled;
    }

    [Fact]
    public void RefusesToStartGivenShortRefreshKey()
    {
        StartupError(Factory("Production", ("Jwt:RefreshSigningKey", Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)))))
            .Should().Contain("Jwt:RefreshSigningKey is 128 bits");
    }

    [Fact]
    public void RefusesToStartGivenAbsoluteLifetimeShorterThanIdleLifetime()
    {
        StartupError(Factory("Testing", ("Jwt:RefreshTokenLifetime", "10.00:00:00"), ("Jwt:RefreshTokenAbsoluteLifetime", "5.00:00:00")))
            .Should().Contain("Jwt:RefreshTokenAbsoluteLifetime must be at least Jwt:RefreshTokenLifetime");
    }

    [Fact]
    public void RefusesToStartGivenLowWorkFactorOutsideTesting()
    {
        StartupError(Factory("Production", ("Passwords:WorkFactor", "9"))).Should().Contain("Passwords:WorkFactor is 9");
    }

    [Fact]
    public void RefusesToStartGivenSeedPasswordAgainstPolicy()
    {
        StartupError(Factory("Testing", ("Seed:AdminPassword", "short"))).Should().Contain("Seed:AdminPassword");
    }

    [Fact]
    public async Task StartsGivenHmacKeyOutsideDevelopment()
    {
        using var factory = Factory("Production");

        var response = await factory.CreateClient().GetAsync("/health");

        response.Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("HS256", "jwt-signing-key.hs256")]
    [InlineData("RS256", "jwt-signing-key.pem")]
    public async Task GeneratesAndKeepsKeyGivenNoKeyInDevelopment(string algorithm, string file)
    {
        using var storage = new TestStorage();
        (string, string?)[] settings =
            [("Jwt:Algorithm", algorithm), ("Jwt:SigningKey", null), ("Jwt:PrivateKeyPath", null), ("Jwt:RefreshSigningKey", null)];
        TokenSet tokens;
        using (var first = Factory("Development", storage, settings))
        {
            await first.CreateClient().PostAsJsonAsync("/register", new { username = "devuser", password = "correct horse battery" });
            tokens = await first.LoginPairAsync(new TestUser(Guid.Empty, "devuser", "correct horse battery"));
        }

        foreach (var keyFile in new[] { Path.Combine(storage.DataPath, file), Path.Combine(storage.DataPath, "jwt-refresh-key.hs256") })
        {
            File.Exists(keyFile).Should().BeTrue();
            if (!OperatingSystem.IsWindows())
            {
                File.GetUnixFileMode(keyFile).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }
        using var second = Factory("Development", storage, settings);
        // a restart keeps issued tokens valid
        (await second.ClientWithToken(tokens.Access).GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.OK);
        (await second.RefreshAsync(tokens.Refresh)).Should().HaveStatusCode(HttpStatusCode.OK);
    }
}

/// <summary>The real process: a configuration error ends it with exit code 1 and one line saying why.</summary>
public sealed class StartupProcessTests
{
    [Fact]
    public async Task ExitsWithCode1AndTheReasonGivenBadKey()
    {
        var data = Directory.CreateTempSubdirectory("jwtapi-exit-").FullName;
        ProcessRun run;
        try
        {
            run = await ServiceProcess.RunAsync(["--urls", "http://127.0.0.1:0"], new Dictionary<string, string?>
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["ConnectionStrings__Users"] = $"Data Source={Path.Combine(data, "users.db")}",
                ["Jwt__SigningKey"] = "c2hvcnQta2V5",
                ["Jwt__RefreshSigningKey"] = TestKeys.RefreshHmacBase64,
            }, data);
        }
        finally
        {
            try { Directory.Delete(data, recursive: true); } catch (IOException) { }
        }

        run.ExitCode.Should().Be(1);
        run.Stderr.Should().StartWith("JwtApi did not start: ").And.Contain("Jwt:SigningKey is 72 bits");
    }
}
