using System.Net;
using System.Security.Cryptography;
using System.Text;
using JwtApi.Tests.Support;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Tests.Tokens;

/// <summary>An active key with a configured KeyId signs under that kid, and its tokens are accepted.</summary>
public sealed class NamedActiveKeyTests
{
    public static TheoryData<TestSigningKey> Keys => new()
    {
        new("HS256", Active: true, KeyId: "2026-11-hs", Secret: TestKeys.HmacBase64),
        new("RS256", Active: true, KeyId: "2026-11-rs", PemPath: TestKeys.RsaPemPath),
        new("ES256", Active: true, KeyId: "2026-11-es", PemPath: TestKeys.EcPemPath),
    };

    [Theory]
    [MemberData(nameof(Keys))]
    public async Task SignsUnderTheConfiguredKeyIdAndAcceptsItsTokens(TestSigningKey key)
    {
        using var app = new JwtApiFactory();
        app.UseSigningKeys(key);

        var token = await app.LoginAsync(await app.CreateUserAsync());

        new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(token).Kid.Should().Be(key.KeyId);
        (await app.ClientWithToken(token).GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.OK);
    }
}

/// <summary>A set of three keys: a new RSA key signs; an old RSA key (public half only) and an HMAC key validate.</summary>
public sealed class KeySetTests(KeySetTests.Factory app) : IClassFixture<KeySetTests.Factory>
{
    public static readonly RSA OldRsa = RSA.Create(2048);

    public sealed class Factory : JwtApiFactory
    {
        public Factory() => UseSigningKeys(
            new("RS256", Active: true, PemPath: TestKeys.RsaPemPath),
            new("RS256", KeyId: "old-rsa", Pem: OldRsa.ExportSubjectPublicKeyInfoPem()),
            new("HS256", KeyId: "shared", Secret: TestKeys.HmacBase64));
    }

    private TokenMinter Minter => new(app.JwtOptions, "RS256");

    private async Task<HttpResponseMessage> MeAsync(string token) => await app.ClientWithToken(token).GetAsync("/me");

    [Fact]
    public async Task SignsWithTheActiveKey()
    {
        var token = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(await app.LoginAsync(await app.CreateUserAsync()));

        token.Alg.Should().Be("RS256");
        token.Kid.Should().Be(TestKeys.RsaKeyId);
    }

    [Fact]
    public async Task AcceptsTokensOfEveryValidatingKey()
    {
        var oldRsa = Minter.Mint(credentials: new SigningCredentials(new RsaSecurityKey(OldRsa) { KeyId = "old-rsa" }, "RS256"));
        var shared = Minter.Mint(credentials: new SigningCredentials(new SymmetricSecurityKey(TestKeys.HmacSecret) { KeyId = "shared" }, "HS256"));

        (await MeAsync(oldRsa)).Should().HaveStatusCode(HttpStatusCode.OK);
        (await MeAsync(shared)).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Returns401WrongAlgorithmGivenHs256UnderAnRsaKeysKid()
    {
        // HS256 is allowed in this set, but only for the key bound to it: an RSA key's public PEM as an HMAC
        // secret, under that key's kid, is refused
        var confused = TokenMinter.Raw(new { alg = "HS256", kid = "old-rsa", typ = "at+jwt" }, Minter.Payload(),
            Encoding.ASCII.GetBytes(OldRsa.ExportSubjectPublicKeyInfoPem()));
        var crossed = Minter.Mint(credentials: new SigningCredentials(new SymmetricSecurityKey(TestKeys.HmacSecret) { KeyId = "old-rsa" }, "HS256"));

        foreach (var token in new[] { confused, crossed })
        {
            var response = await MeAsync(token);
            response.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
            (await response.JsonAsync()).GetProperty("reason").GetString().Should().Be("wrong_algorithm");
        }
    }

    [Fact]
    public async Task Returns401GivenEmbeddedKeyHeadersOrUnknownKid()
    {
        // a token that brings its own key (jwk) or points at one (jku, x5u) is judged by our keys only
        using var attacker = RSA.Create(2048);
        var attackerJwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(attacker.ExportParameters(false)));
        Action<SecurityTokenDescriptor> descriptor = d => d.AdditionalHeaderClaims = new Dictionary<string, object>
        {
            ["jwk"] = new Dictionary<string, object> { ["kty"] = "RSA", ["n"] = attackerJwk.N, ["e"] = attackerJwk.E },
            ["jku"] = "https://attacker.example/jwks.json",
            ["x5u"] = "https://attacker.example/cert.pem",
        };

        var ownKey = Minter.Mint(descriptor, new SigningCredentials(new RsaSecurityKey(attacker) { KeyId = "attacker" }, "RS256"));
        var ourKid = Minter.Mint(descriptor, new SigningCredentials(new RsaSecurityKey(attacker) { KeyId = TestKeys.RsaKeyId }, "RS256"));

        (await MeAsync(ownKey)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await MeAsync(ourKid)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
    }
}
