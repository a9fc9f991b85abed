using System.Net;
using System.Text;
using JwtApi.Tests.Support;
using JwtApi.Tokens;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Tests.Tokens;

/// <summary>
/// Tokens the service never issued, each refused by the real JwtBearer pipeline with the exact RFC 6750 header
/// and a problem body carrying the same code. Runs once per signing algorithm.
/// </summary>
public abstract class BearerValidationTests<TFactory>(TFactory app) where TFactory : JwtApiFactory
{
    private TokenMinter Minter => new(app.JwtOptions, app.Algorithm);

    [Fact]
    public async Task Returns200GivenTokenMintedWithTheServiceKey()
    {
        // the control: the forgeries below fail for their one defect, not because the minter is wrong
        using var client = app.ClientWithToken(Minter.Mint());
        var response = await client.GetAsync("/me");
        response.Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Returns401LifetimeTooLongGivenServiceSignedTokenExpiringAfterYear9999()
    {
        // Found by FuzzTests: JwtBearer accepts an exp later than any DateTimeOffset, and /me answered 500. Such a
        // token now outlives what the service issues, and is refused before any handler reads its exp.
        using var client = app.ClientWithToken(Minter.Mint(d => { d.Expires = null; d.Claims["exp"] = 253_402_300_800L; }));

        var response = await client.GetAsync("/me");

        response.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await response.JsonAsync()).GetProperty("reason").GetString().Should().Be("lifetime_too_long");
    }

    [Fact]
    public async Task Returns401WithBareChallengeGivenNoToken()
    {
        var response = await app.CreateClient().GetAsync("/me");

        response.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().Should().Be("Bearer");
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
    }

    [Theory]
    [InlineData("expired", "token_expired", "The token has expired.")]
    [InlineData("not_yet_valid", "token_not_yet_valid", "The token is not valid yet.")]
    [InlineData("no_exp", "no_expiry", "The token has no expiry.")]
    [InlineData("wrong_issuer", "wrong_issuer", "The token was issued by an untrusted issuer.")]
    [InlineData("wrong_audience", "wrong_audience", "The token is meant for another audience.")]
    [InlineData("typ_jwt", "wrong_type", "The token is not an access token.")]
    [InlineData("typ_refresh", "wrong_type", "The token is not an access token.")]
    [InlineData("foreign_key", "bad_signature", "The token's signature is invalid.")]
    [InlineData("tampered_payload", "bad_signature", "The token's signature is invalid.")]
    [InlineData("signature_stripped", "bad_signature", "The token's signature is invalid.")]
    [InlineData("alg_none", "wrong_algorithm", "The token's signing algorithm is not accepted.")]
    [InlineData("other_algorithm", "wrong_algorithm", "The token's signing algorithm is not accepted.")]
    [InlineData("unknown_kid", "unknown_key", "The token was signed with an unknown key.")]
    [InlineData("no_kid", "unknown_key", "The token was signed with an unknown key.")]
    [InlineData("garbage", "malformed", "The token is malformed.")]
    public async Task Returns401InvalidTokenGivenForgedToken(string forgery, string reason, string description)
    {
        using var client = app.ClientWithToken(Forge(forgery));

        var response = await client.GetAsync("/me");

        response.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString()
            .Should().Be($"Bearer error=\"invalid_token\", error_description=\"{description}\"");
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var body = await response.JsonAsync();
        body.GetProperty("status").GetInt32().Should().Be(401);
        body.GetProperty("error").GetString().Should().Be("invalid_token");
        body.GetProperty("reason").GetString().Should().Be(reason);
    }

    private string Forge(string forgery)
    {
        var minter = Minter;
        var kid = app.Algorithm switch
        {
            SigningAlgorithms.HS256 => TestKeys.HmacKeyId,
            SigningAlgorithms.RS256 => TestKeys.RsaKeyId,
            _ => TestKeys.EcKeyId,
        };
        var past = DateTime.UtcNow.AddMinutes(-30);
        return forgery switch
        {
            "expired" => minter.Mint(d => { d.IssuedAt = past; d.NotBefore = past; d.Expires = past.AddMinutes(15); }),
            "not_yet_valid" => minter.Mint(d => { d.NotBefore = DateTime.UtcNow.AddMinutes(10); d.Expires = DateTime.UtcNow.AddMinutes(20); }),
            "no_exp" => minter.Mint(d => d.Expires = null),
            "wrong_issuer" => minter.Mint(d => d.Issuer = "https://evil.example"),
            "wrong_audience" => minter.Mint(d => d.Audience = "another-api"),
            "typ_jwt" => minter.Mint(d => d.TokenType = "JWT"),
            "typ_refresh" => minter.Mint(d => d.TokenType = "rt+jwt"),
            "foreign_key" => minter.Mint(credentials: minter.ForeignCredentials),
            "tampered_payload" => ReplacePayload(minter.Mint(), minter.Payload("user", "admin")),
            "signature_stripped" => string.Join('.', minter.Mint().Split('.')[..2]) + ".",
            "alg_none" => TokenMinter.Raw(new { alg = "none", kid, typ = "at+jwt" }, minter.Payload(), secret: null),
            "other_algorithm" => OtherAlgorithm(minter, kid),
            "unknown_kid" => minter.Mint(credentials: WithKid(minter.ServiceCredentials, "no-such-key")),
            "no_kid" => minter.Mint(credentials: WithKid(minter.ServiceCredentials, null)),
            "garbage" => "not-a-jwt",
            _ => throw new ArgumentOutOfRangeException(nameof(forgery)),
        };
    }

    /// <summary>
    /// Under RS256 and ES256 the classic key confusion: HS256 keyed with the public key's PEM. Under HS256, a
    /// valid RS256 signature from some RSA key.
    /// </summary>
    private static string OtherAlgorithm(TokenMinter minter, string kid) => minter.ServiceCredentials.Key switch
    {
        RsaSecurityKey => TokenMinter.Raw(new { alg = "HS256", kid, typ = "at+jwt" }, minter.Payload(),
            Encoding.ASCII.GetBytes(TestKeys.Rsa.ExportSubjectPublicKeyInfoPem())),
        ECDsaSecurityKey => TokenMinter.Raw(new { alg = "HS256", kid, typ = "at+jwt" }, minter.Payload(),
            Encoding.ASCII.GetBytes(TestKeys.Ec.ExportSubjectPublicKeyInfoPem())),
        _ => minter.Mint(credentials: new SigningCredentials(
            new RsaSecurityKey(TestKeys.OtherRsa) { KeyId = kid }, SecurityAlgorithms.RsaSha256)),
    };

    private static SigningCredentials WithKid(SigningCredentials credentials, string? kid)
    {
        SecurityKey key = credentials.Key switch
        {
            SymmetricSecurityKey s => new SymmetricSecurityKey(s.Key) { KeyId = kid },
            RsaSecurityKey r => new RsaSecurityKey(r.Rsa) { KeyId = kid },
            ECDsaSecurityKey e => new ECDsaSecurityKey(e.ECDsa) { KeyId = kid },
            _ => throw new NotSupportedException(),
        };
        return new SigningCredentials(key, credentials.Algorithm);
    }

    private static string ReplacePayload(string token, object payload)
    {
        var parts = token.Split('.');
        parts[1] = TokenMinter.B64(System.Text.Json.JsonSerializer.Serialize(payload));
        return string.Join('.', parts);
    }
}

public sealed class Hs256BearerValidationTests(JwtApiFactory app)
    : BearerValidationTests<JwtApiFactory>(app), IClassFixture<JwtApiFactory>;

public sealed class Rs256BearerValidationTests(Rs256JwtApiFactory app)
    : BearerValidationTests<Rs256JwtApiFactory>(app), IClassFixture<Rs256JwtApiFactory>;

public sealed class Es256BearerValidationTests(Es256JwtApiFactory app)
    : BearerValidationTests<Es256JwtApiFactory>(app), IClassFixture<Es256JwtApiFactory>;
