using System.Net;
using System.Reflection;
using System.Text;
using JwtApi.Hosting;
using JwtApi.Tests.Support;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace JwtApi.Tests.Hosting;

/// <summary>The start-up self-check: each misconfiguration stops start-up outside Development or is logged once.</summary>
public sealed class SelfCheckTests : IDisposable
{
    private static readonly string Passphrase = Convert.ToBase64String("correct horse battery staple, twice over!"u8.ToArray());

    // Disposing a factory made by WithWebHostBuilder leaves its parent (and the parent's database) alone.
    private readonly List<JwtApiFactory> _factories = [];

    public void Dispose() => _factories.ForEach(factory => factory.Dispose());

    private JwtApiFactory Factory(string environment, params (string Key, string? Value)[] settings)
    {
        var factory = new JwtApiFactory { Environment = environment };
        _factories.Add(factory);
        // Passwords:WorkFactor below 10 is for the Testing environment only
        factory.Settings["Passwords:WorkFactor"] = environment == "Testing" ? "4" : "10";
        // the test clients' Host; each check below is about one finding
        factory.Settings["Hosting:PublicOrigin"] = "http://localhost";
        factory.Settings["DataProtection:KeyRingKey"] = Convert.ToBase64String(new byte[32].Select((_, i) => (byte)(i * 7 + 1)).ToArray());
        foreach (var (key, value) in settings)
        {
            factory.Settings[key] = value;
        }
        return factory;
    }

    private static WebApplicationFactory<Program> WithLogs(WebApplicationFactory<Program> factory, Action<IServiceCollection>? services = null) =>
        factory.WithWebHostBuilder(web =>
        {
            web.ConfigureLogging(logging => logging.AddFakeLogging());
            if (services is not null)
            {
                web.ConfigureTestServices(services);
            }
        });

    private static IReadOnlyList<string> SelfCheckWarnings(WebApplicationFactory<Program> factory) =>
        factory.Services.GetFakeLogCollector().GetSnapshot()
            .Where(r => r.Category == "JwtApi.Hosting.StartupSelfCheck" && r.Level == LogLevel.Warning)
            .Select(r => r.Message).ToList();

    /// <summary>Real Kestrel on a free loopback port, so the server reports the address it listens on.</summary>
    private static WebApplicationFactory<Program> OnLoopbackPort(WebApplicationFactory<Program> factory)
    {
        var kestrel = factory.WithWebHostBuilder(web => web.UseSetting("urls", "http://127.0.0.1:0"));
        kestrel.UseKestrel();
        return kestrel;
    }

    private static void TurnOnClaimMapping(IServiceCollection services) =>
        services.PostConfigure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, bearer => bearer.MapInboundClaims = true);

    [Fact]
    public async Task LogsNothingGivenSoundConfiguration()
    {
        using var factory = WithLogs(Factory("Testing"));

        (await factory.CreateClient().GetAsync("/health")).Should().HaveStatusCode(HttpStatusCode.OK);

        SelfCheckWarnings(factory).Should().BeEmpty();
    }

    [Fact]
    public void StopsStartupGivenPassphraseHmacKeyOutsideDevelopment()
    {
        StartupFailure.Of(Factory("Production", ("Jwt:SigningKey", Passphrase)))
            .Should().Contain("self-check").And.Contain("passphrase").And.Contain("openssl rand -base64 32");
    }

    [Fact]
    public void StopsStartupGivenPassphraseRefreshKeyOutsideDevelopment()
    {
        StartupFailure.Of(Factory("Staging", ("Jwt:RefreshSigningKey", Passphrase))).Should().Contain("Jwt:RefreshSigningKey");
    }

    [Fact]
    public async Task WarnsGivenPassphraseHmacKeyInDevelopment()
    {
        using var factory = WithLogs(Factory("Development", ("Jwt:SigningKey", Passphrase)));

        (await factory.CreateClient().GetAsync("/health")).Should().HaveStatusCode(HttpStatusCode.OK);

        SelfCheckWarnings(factory).Should().ContainSingle().Which.Should().Contain("passphrase");
    }

    [Fact]
    public void StopsStartupGivenInboundClaimMappingOutsideDevelopment()
    {
        StartupFailure.Of(WithLogs(Factory("Production"), TurnOnClaimMapping)).Should().Contain("MapInboundClaims");
    }

    [Fact]
    public async Task WarnsGivenInboundClaimMappingInDevelopment()
    {
        using var factory = WithLogs(Factory("Development"), TurnOnClaimMapping);

        (await factory.CreateClient().GetAsync("/health")).Should().HaveStatusCode(HttpStatusCode.OK);

        SelfCheckWarnings(factory).Should().ContainSingle().Which.Should().Contain("MapInboundClaims");
    }

    [Fact]
    public void WarnsGivenPlainHttpOutsideDevelopment()
    {
        using var factory = OnLoopbackPort(WithLogs(Factory("Production")));

        factory.StartServer();

        SelfCheckWarnings(factory).Should().ContainSingle().Which.Should().Contain("No HTTPS endpoint").And.Contain("http://127.0.0.1:");
    }

    [Fact]
    public async Task WarnsGivenNoPublicOriginOutsideDevelopment()
    {
        using var factory = WithLogs(Factory("Production", ("Hosting:PublicOrigin", null)));

        (await factory.CreateClient().GetAsync("/health")).Should().HaveStatusCode(HttpStatusCode.OK);

        SelfCheckWarnings(factory).Should().ContainSingle().Which.Should().Contain("Hosting:PublicOrigin is not set")
            .And.Contain("no-store").And.Contain("Hosting__PublicOrigin");
    }

    [Fact]
    public async Task WarnsGivenNoKeyRingKeyOutsideDevelopment()
    {
        using var factory = WithLogs(Factory("Production", ("DataProtection:KeyRingKey", null)));

        (await factory.CreateClient().GetAsync("/health")).Should().HaveStatusCode(HttpStatusCode.OK);

        SelfCheckWarnings(factory).Should().ContainSingle().Which.Should().Contain("DataProtection:KeyRingKey is not set")
            .And.Contain("Jwt:RefreshSigningKey").And.Contain("DataProtection__KeyRingKey");
    }

    [Fact]
    public async Task WarnsNotGivenNoPublicOriginInDevelopment()
    {
        using var factory = WithLogs(Factory("Development", ("Hosting:PublicOrigin", null)));

        (await factory.CreateClient().GetAsync("/health")).Should().HaveStatusCode(HttpStatusCode.OK);

        SelfCheckWarnings(factory).Should().BeEmpty();
    }

    [Fact]
    public void WarnsNotGivenPlainHttpInDevelopment()
    {
        using var factory = OnLoopbackPort(WithLogs(Factory("Development")));

        factory.StartServer();

        SelfCheckWarnings(factory).Should().BeEmpty();
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", true)]
    [InlineData("http://[::]:80 http://localhost:5000", true)]
    [InlineData("http://127.0.0.1:8080 https://127.0.0.1:8443", false)]
    [InlineData("HTTPS://0.0.0.0:443", false)]
    [InlineData("", false)]
    public void FindsPlainHttpOnlyAsWarning(string addresses, bool found)
    {
        var finding = SelfCheck.PlainHttpOnly(addresses.Split(' ', StringSplitOptions.RemoveEmptyEntries));

        if (found)
        {
            finding.Should().NotBeNull();
            finding!.Fatal.Should().BeFalse();
        }
        else
        {
            finding.Should().BeNull();
        }
    }

    [Fact]
    public void FindsNoGuessableSecretAmongRandomOnes()
    {
        var random = new Random(20261123);
        var secret = new byte[32];
        for (var i = 0; i < 100_000; i++)
        {
            random.NextBytes(secret);
            SelfCheck.LooksGuessable(secret).Should().BeFalse($"random secret {Convert.ToBase64String(secret)} is not guessable");
        }
    }

    [Fact]
    public void FindsHexKeyNotGuessable()
    {
        // `openssl rand -hex 32` pasted where base64 is expected: odd bytes, but 256 random bits
        var random = new Random(7);
        var secret = new byte[32];
        for (var i = 0; i < 10_000; i++)
        {
            random.NextBytes(secret);
            SelfCheck.LooksGuessable(Convert.FromBase64String(Convert.ToHexStringLower(secret))).Should().BeFalse();
        }
    }

    [Theory]
    [InlineData("this is my super secret jwt key!")]
    [InlineData("c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LWtleQ==")]
    [InlineData("0123456789abcdef0123456789abcdef")]
    public void FindsTextSecretsGuessable(string text)
    {
        SelfCheck.LooksGuessable(Encoding.UTF8.GetBytes(text)).Should().BeTrue();
    }

    [Fact]
    public void FindsRepeatedBytesGuessable()
    {
        SelfCheck.LooksGuessable(new byte[32]).Should().BeTrue();
        SelfCheck.LooksGuessable(Enumerable.Range(0, 64).Select(i => (byte)(0x80 + i % 8)).ToArray()).Should().BeTrue();
    }

    [Fact]
    public void FindsMixedIdentityModelVersions()
    {
        AssemblyName[] loaded =
        [
            new("Microsoft.IdentityModel.Tokens, Version=8.23.0.0"),
            new("Microsoft.IdentityModel.JsonWebTokens, Version=8.23.0.0"),
            new("System.IdentityModel.Tokens.Jwt, Version=7.1.2.0"),
        ];

        var finding = SelfCheck.MixedIdentityModelVersions(loaded);

        finding.Should().NotBeNull();
        finding!.Fatal.Should().BeTrue();
        finding.Message.Should().Contain("System.IdentityModel.Tokens.Jwt 7.1.2.0").And.Contain("Microsoft.IdentityModel.Tokens 8.23.0.0");
        SelfCheck.MixedIdentityModelVersions(loaded[..2]).Should().BeNull();
    }

    [Fact]
    public void LoadsOneIdentityModelVersionInThisBuild()
    {
        var loaded = SelfCheck.LoadedIdentityModelAssemblies();

        loaded.Select(a => a.Name).Should().Contain([
            "Microsoft.IdentityModel.Tokens", "Microsoft.IdentityModel.JsonWebTokens", "Microsoft.IdentityModel.Logging",
            "Microsoft.IdentityModel.Abstractions", "System.IdentityModel.Tokens.Jwt"]);
        loaded.Select(a => a.Version).Distinct().Should().ContainSingle();
        SelfCheck.MixedIdentityModelVersions(loaded).Should().BeNull();
    }

    [Fact]
    public void FindsInboundClaimMappingOnFrameworkDefault()
    {
        // JwtBearer maps by default; JwtApi turns it off
        SelfCheck.InboundClaimMapping(new JwtBearerOptions()).Should().NotBeNull();
        SelfCheck.InboundClaimMapping(new JwtBearerOptions { MapInboundClaims = false }).Should().BeNull();
    }
}
