using System.Security.Cryptography;
using JwtApi.Storage;
using JwtApi.Tests.Support;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace JwtApi.Tests.Storage;

/// <summary>
/// The Data Protection key ring lives in the database, each key encrypted with the key-ring key from configuration:
/// every instance reads what another protected, and the database alone opens nothing.
/// </summary>
public sealed class KeyRingTests : IDisposable
{
    private const string Purpose = "JwtApi.Tests.KeyRing";
    private static readonly string KeyA = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private static readonly string KeyB = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private readonly TestStorage _storage = new();
    private readonly List<IDisposable> _apps = [];

    public void Dispose()
    {
        _apps.ForEach(app => app.Dispose());
        _storage.Dispose();
    }

    private JwtApiFactory Instance(string? keyRingKey, params string[] previous)
    {
        var app = new JwtApiFactory { Storage = _storage };
        _apps.Add(app);
        app.Settings["DataProtection:KeyRingKey"] = keyRingKey;
        for (var i = 0; i < previous.Length; i++)
        {
            app.Settings[$"DataProtection:PreviousKeyRingKeys:{i}"] = previous[i];
        }
        return app;
    }

    private static IDataProtector Protector(WebApplicationFactory<Program> app) =>
        app.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose);

    private async Task<List<string>> StoredKeysAsync(WebApplicationFactory<Program> app)
    {
        using var scope = app.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<AppDb>().DataProtectionKeys.Select(k => k.Xml!).ToListAsync();
    }

    [Fact]
    public async Task ASecondInstanceOnTheSameDatabaseReadsWhatTheFirstProtected()
    {
        var first = Instance(KeyA);
        var secret = Protector(first).Protect("totp secret");

        var second = Instance(KeyA);

        Protector(second).Unprotect(secret).Should().Be("totp secret");
        (await StoredKeysAsync(second)).Should().ContainSingle("the second instance found the first one's key and made none");
    }

    [Fact]
    public async Task StoresEveryKeyEncryptedWithTheKeyRingKey()
    {
        var app = Instance(KeyA);
        Protector(app).Protect("anything");

        var stored = await StoredKeysAsync(app);

        stored.Should().NotBeEmpty().And.AllSatisfy(xml =>
        {
            xml.Should().Contain("<jwtapiEncryptedKey keyId=\"");
            xml.Should().NotContain("<masterKey", "the key's secret is never stored in clear");
        });
    }

    [Fact]
    public void AnInstanceWithAnotherKeyRingKeyCannotReadIt()
    {
        var secret = Protector(Instance(KeyA)).Protect("totp secret");

        var other = Instance(KeyB);

        FluentActions.Invoking(() => Protector(other).Unprotect(secret)).Should().Throw<CryptographicException>();
    }

    [Fact]
    public void ReadsOldDataAfterTheKeyRingKeyIsRotated()
    {
        var secret = Protector(Instance(KeyA)).Protect("totp secret");

        var rotated = Instance(KeyB, KeyA);

        Protector(rotated).Unprotect(secret).Should().Be("totp secret");
    }

    [Fact]
    public void ReadsOldDataWithoutThePreviousKeyOnceReencryptedAtStart()
    {
        var secret = Protector(Instance(KeyA)).Protect("totp secret");
        Protector(Instance(KeyB, KeyA)).Unprotect(secret).Should().Be("totp secret");

        // the rotated instance re-encrypted the stored key ring under KeyB at start: KeyA can go
        Protector(Instance(KeyB)).Unprotect(secret).Should().Be("totp secret");
    }

    [Fact]
    public void DerivesTheKeyRingKeyFromTheRefreshKeyWhenNoneIsSet()
    {
        var secret = Protector(Instance(null)).Protect("totp secret");

        Protector(Instance(null)).Unprotect(secret).Should().Be("totp secret");
        var newRefreshKey = Instance(null);
        newRefreshKey.Settings["Jwt:RefreshSigningKey"] = Convert.ToBase64String(TestKeys.OtherHmacSecret);
        FluentActions.Invoking(() => Protector(newRefreshKey).Unprotect(secret)).Should().Throw<CryptographicException>();
    }

    [Fact]
    public void KeepsTheKeyRingWhenAKeyRingKeyIsSetForTheFirstTimeAndThenTheRefreshKeyRotates()
    {
        var secret = Protector(Instance(null)).Protect("totp secret");

        // no previous key to list: the derived one still decrypts, and the ring is re-encrypted under KeyA at start
        Protector(Instance(KeyA)).Unprotect(secret).Should().Be("totp secret");
        var newRefreshKey = Instance(KeyA);
        newRefreshKey.Settings["Jwt:RefreshSigningKey"] = Convert.ToBase64String(TestKeys.OtherHmacSecret);

        Protector(newRefreshKey).Unprotect(secret).Should().Be("totp secret");
    }

    [Theory]
    [InlineData("DataProtection:KeyRingKey", "not base64!")]
    [InlineData("DataProtection:KeyRingKey", "c2hvcnQ=")]
    [InlineData("DataProtection:PreviousKeyRingKeys:0", "c2hvcnQ=")]
    public void RefusesToStartGivenAKeyRingKeyThatIsNot256Bits(string setting, string value)
    {
        var app = new JwtApiFactory();
        app.Settings[setting] = value;

        StartupFailure.Of(app).Should().Contain(setting.Split(":0")[0]).And.Contain("openssl rand -base64 32");
    }

    [Fact]
    public void LogsNoDataProtectionWarningAtStart()
    {
        var app = Instance(KeyA).WithWebHostBuilder(web => web.ConfigureLogging(logging => logging.AddFakeLogging()));
        _apps.Add(app);
        Protector(app).Protect("anything");

        app.Services.GetFakeLogCollector().GetSnapshot()
            .Where(r => r.Category?.StartsWith("Microsoft.AspNetCore.DataProtection", StringComparison.Ordinal) == true && r.Level >= LogLevel.Warning)
            .Select(r => r.Message).Should().BeEmpty();
    }
}
