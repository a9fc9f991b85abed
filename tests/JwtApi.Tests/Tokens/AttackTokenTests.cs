using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using JwtApi.Hosting;
using JwtApi.Tests.Support;
using JwtApi.Tokens;
using JwtApi.Users;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Tests.Tokens;

/// <summary>
/// The hardening issue's attack tokens: each one a real token of the service, changed in one way an attacker
/// would try, sent through the real JwtBearer pipeline to a user endpoint and an admin one. Every one must be
/// refused 401 with an RFC 6750 <c>invalid_token</c> challenge and a stable reason; none may reach a handler
/// (2xx) or break the service (5xx). Runs once per signing algorithm.
/// </summary>
public abstract class AttackTokenTests<TFactory>(TFactory app) where TFactory : JwtApiFactory
{
    private TokenMinter Minter => new(app.JwtOptions, app.Algorithm);

    private static readonly string[] ProtectedPaths = ["/me", "/users"];

    public static TheoryData<string, string> Attacks => new()
    {
        // alg: none in its spellings, with and without a signature segment
        { "alg none, unsigned", "wrong_algorithm" },
        { "alg None, unsigned", "wrong_algorithm" },
        { "alg NONE, unsigned", "wrong_algorithm" },
        { "alg nOnE, unsigned", "wrong_algorithm" },
        { "alg none, signature kept", "wrong_algorithm" },
        { "alg None, signature kept", "wrong_algorithm" },
        { "alg NONE, signature kept", "wrong_algorithm" },
        { "alg nOnE, signature kept", "wrong_algorithm" },
        // algorithm confusion
        { "HS256 keyed with the public key, PEM", "wrong_algorithm" },
        { "HS256 keyed with the public key, DER", "wrong_algorithm" },
        { "sibling algorithm with the service key", "wrong_algorithm" },
        // signature
        { "signature stripped", "bad_signature" },
        { "signature segment removed", "malformed" },
        { "signature bit flipped", "bad_signature" },
        { "signature of another token", "bad_signature" },
        // the valid signature spelled another way (RFC 7515 §2: base64url without padding, spare bits zero)
        { "signature with padding", "non_canonical_signature" },
        { "signature with a spare bit set in its last character", "non_canonical_signature" },
        { "payload adds admin role", "bad_signature" },
        { "payload names another subject", "bad_signature" },
        // claims, signed with the service key
        { "expired", "token_expired" },
        { "nbf in the future", "token_not_yet_valid" },
        { "iat a day in the future", "issued_in_future" },
        { "iat just past the clock skew", "issued_in_future" },
        { "exp missing", "no_expiry" },
        { "iat missing", "missing_claims" },
        { "iss of another issuer", "wrong_issuer" },
        { "aud of another API", "wrong_audience" },
        // RFC 7519 NumericDate: a JSON number, never a string of digits IdentityModel would read as one
        { "exp a string", "invalid_numeric_date" },
        { "nbf a string", "invalid_numeric_date" },
        { "iat a string", "invalid_numeric_date" },
        // signed by a key holder for longer than the service ever issues
        { "lifetime one second past lifetime + skew", "lifetime_too_long" },
        { "lifetime a year", "lifetime_too_long" },
        // keys named or carried by the token
        { "embedded jwk, attacker kid", "unknown_key" },
        { "embedded jwk, service kid", "bad_signature" },
        { "jku at an attacker URL", "bad_signature" },
        { "x5u at an attacker URL", "bad_signature" },
        { "x5c of an attacker certificate", "bad_signature" },
        { "kid unknown", "unknown_key" },
        { "kid missing", "unknown_key" },
        { "kid ../../../../dev/null", "unknown_key" },
        { "kid /etc/passwd", "unknown_key" },
        { "kid ' OR '1'='1", "unknown_key" },
        { "kid 1; DROP TABLE users--", "unknown_key" },
        // type
        { "typ JWT", "wrong_type" },
        { "typ missing", "wrong_type" },
        { "typ rt+jwt", "wrong_type" },
        // IdentityModel checks lifetime, audience and issuer before it reports an unknown kid: the refresh key's kid
        // is not ours, but its audience is refused first
        { "refresh token as bearer", "wrong_audience" },
        // size and encoding
        { "100 KB token", "token_too_large" },
        { "8193 characters", "token_too_large" },
        { "signature padded to 8192 characters", "bad_signature" },
        { "header not base64url", "malformed" },
        { "payload not base64url", "malformed" },
        { "header not JSON", "malformed" },
        { "header a JSON array", "malformed" },
        { "payload not JSON", "malformed" },
        { "four segments", "malformed" },
        { "empty segments", "malformed" },
        // five segments are a JWE: only signed tokens are accepted, and IdentityModel's refusal has no own code
        { "five segments", "invalid_token" },
        { "encrypted (JWE) token", "invalid_token" },
        // RFC 7515 §4.1.11: an extension the recipient does not understand, marked critical
        { "crit naming exp", "unsupported_critical_header" },
        { "crit naming an extension", "unsupported_critical_header" },
        { "crit naming b64 (unencoded payload)", "unsupported_critical_header" },
        { "crit empty", "unsupported_critical_header" },
        { "crit a string", "unsupported_critical_header" },
        // base64url decoding skips whitespace, so the token parses, but the signed bytes are not the ones sent
        { "space inside the header", "bad_signature" },
        { "tab inside the payload", "bad_signature" },
        { "space inside the signature", "bad_signature" },
    };

    [Fact]
    public async Task Returns200GivenTheTokensTheAttacksAreBuiltFrom()
    {
        // the controls: the attacks fail for their one change, not because taking a token apart and signing it
        // again breaks it
        var token = await ValidTokenAsync();

        foreach (var control in new[] { token, JwtParts.Of(token).SignedWith(Minter.ServiceCredentials) })
        {
            (await GetAsync("/me", "Bearer " + control)).Should().HaveStatusCode(HttpStatusCode.OK);
        }
        // and the admin role, had the service signed it, would open the admin endpoint
        var promoted = JwtParts.Of(token);
        promoted.Payload["role"]!.AsArray().Add(Roles.Admin);
        (await GetAsync("/users", "Bearer " + promoted.SignedWith(Minter.ServiceCredentials))).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Theory]
    [MemberData(nameof(Attacks))]
    public async Task Returns401InvalidTokenGivenAttackToken(string attack, string reason)
    {
        var token = await ForgeAsync(attack);

        // three times each: the validated-token cache admits a token on its second sighting, so a third would be
        // answered from it had a refused token been admitted
        foreach (var path in ProtectedPaths.SelectMany(p => Enumerable.Repeat(p, 3)))
        {
            var response = await GetAsync(path, "Bearer " + token);

            response.Should().HaveStatusCode(HttpStatusCode.Unauthorized, $"{attack} on {path}");
            response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
            var body = await response.JsonAsync();
            body.GetProperty("error").GetString().Should().Be("invalid_token");
            body.GetProperty("reason").GetString().Should().Be(reason, $"{attack} on {path}");
            response.Headers.WwwAuthenticate.ToString().Should().Be(
                $"Bearer error=\"invalid_token\", error_description=\"{body.GetProperty("detail").GetString()}\"");
        }
    }

    [Fact]
    public async Task Returns200GivenLifetimeOfExactlyTheConfiguredLifetime()
    {
        // what the service itself issues: exp - iat = Jwt:AccessTokenLifetime
        var token = JwtParts.Of(await ValidTokenAsync());
        var iat = token.Payload["iat"]!.GetValue<long>();
        token.Payload["exp"].Should().NotBeNull();
        token.Payload["exp"]!.GetValue<long>().Should().Be(iat + (long)app.JwtOptions.AccessTokenLifetime.TotalSeconds);
        token.Payload["iat"] = iat - 7;
        token.Payload["exp"] = iat - 7 + (long)app.JwtOptions.AccessTokenLifetime.TotalSeconds;

        (await GetAsync("/me", "Bearer " + token.SignedWith(Minter.ServiceCredentials))).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Returns401NonCanonicalSignatureGivenCachedTokenSpelledAnotherWay()
    {
        // the validated-token cache is keyed on the token string: another spelling of a cached token misses it
        // and must still be refused, however often the canonical one was seen
        var token = await ValidTokenAsync();
        for (var i = 0; i < 3; i++)
        {
            (await GetAsync("/me", "Bearer " + token)).Should().HaveStatusCode(HttpStatusCode.OK);
        }
        var parts = JwtParts.Of(token);

        foreach (var respelled in new[] { parts.WithSignature(Padded(parts.Signature)), parts.WithSignature(WithSpareBitSet(parts.Signature)) })
        {
            for (var i = 0; i < 3; i++)
            {
                var response = await GetAsync("/me", "Bearer " + respelled);
                response.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
                (await response.JsonAsync()).GetProperty("reason").GetString().Should().Be("non_canonical_signature");
            }
        }
    }

    [Fact]
    public async Task Returns200GivenIatInTheFutureWithinTheClockSkew()
    {
        // clocks differ by a little: the same allowance as for nbf and exp
        var token = JwtParts.Of(await ValidTokenAsync());
        token.Payload["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + (long)app.JwtOptions.ClockSkew.TotalSeconds - 5;

        (await GetAsync("/me", "Bearer " + token.SignedWith(Minter.ServiceCredentials))).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task IssuesTokensFarBelowTheSizeLimit()
    {
        // the most a user can hold: 16 roles of 32 characters
        var roles = Enumerable.Range(0, 16).Select(i => $"r{i:D2}".PadRight(32, 'x')).ToArray();

        var pair = await app.LoginPairAsync(await app.CreateUserAsync(roles));

        pair.Access.Length.Should().BeLessThan(BearerEvents.MaxTokenLength / 4);
        pair.Refresh.Length.Should().BeLessThan(BearerEvents.MaxTokenLength / 4);
    }

    [Fact]
    public async Task Returns401WithBareChallengeGivenValidTokenInTheQueryString()
    {
        // RFC 6750 §2.3 allows access_token in the URI but says not to; it ends up in logs and browser
        // history, so the service does not look there: as if no token was sent
        var token = await ValidTokenAsync();

        foreach (var path in ProtectedPaths)
        {
            using var client = app.CreateClient();
            var response = await client.GetAsync($"{path}?access_token={token}");

            response.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
            response.Headers.WwwAuthenticate.ToString().Should().Be("Bearer");
            response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        }
    }

    [Theory]
    [InlineData("bearer")]
    [InlineData("BEARER")]
    [InlineData("bEaReR")]
    public async Task Returns200GivenValidTokenUnderSchemeInAnyCase(string scheme)
    {
        // RFC 9110 §11.1: the authentication scheme is case-insensitive
        var response = await GetAsync("/me", $"{scheme} {await ValidTokenAsync()}");

        response.Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("Basic")]
    [InlineData("Token")]
    [InlineData("Bearer:")]
    [InlineData("JWT")]
    public async Task Returns401WithBareChallengeGivenValidTokenUnderAnotherScheme(string scheme)
    {
        var response = await GetAsync("/me", $"{scheme} {await ValidTokenAsync()}");

        response.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().Should().Be("Bearer");
    }

    private async Task<HttpResponseMessage> GetAsync(string path, string authorization)
    {
        using var client = app.CreateClient();
        return await AttackRequest.GetAsync(client, path, authorization);
    }

    /// <summary>An access token from the real <c>POST /login</c>, of a user without the admin role.</summary>
    private async Task<string> ValidTokenAsync() => await app.LoginAsync(await app.CreateUserAsync());

    private async Task<string> ForgeAsync(string attack)
    {
        var valid = await ValidTokenAsync();
        var token = JwtParts.Of(valid);
        var service = Minter.ServiceCredentials;
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var admin = (await app.AdminAsync()).Id;
        return attack switch
        {
            "alg none, unsigned" => AlgNone(token, "none", signature: ""),
            "alg None, unsigned" => AlgNone(token, "None", signature: ""),
            "alg NONE, unsigned" => AlgNone(token, "NONE", signature: ""),
            "alg nOnE, unsigned" => AlgNone(token, "nOnE", signature: ""),
            "alg none, signature kept" => AlgNone(token, "none", token.Signature),
            "alg None, signature kept" => AlgNone(token, "None", token.Signature),
            "alg NONE, signature kept" => AlgNone(token, "NONE", token.Signature),
            "alg nOnE, signature kept" => AlgNone(token, "nOnE", token.Signature),

            "HS256 keyed with the public key, PEM" => KeyConfusion(token, der: false),
            "HS256 keyed with the public key, DER" => KeyConfusion(token, der: true),
            "sibling algorithm with the service key" => token.SignedWith(service.Key, service.Algorithm switch
            {
                SecurityAlgorithms.HmacSha256 => "HS512",
                SecurityAlgorithms.RsaSha256 => "PS256",
                _ => "ES384",
            }),

            "signature stripped" => token.WithSignature(""),
            "signature segment removed" => token.SigningInput,
            "signature bit flipped" => token.WithSignature(FlipOneBit(token.Signature)),
            "signature of another token" => token.WithSignature(JwtParts.Of(await ValidTokenAsync()).Signature),
            "signature with padding" => token.WithSignature(Padded(token.Signature)),
            "signature with a spare bit set in its last character" => token.WithSignature(WithSpareBitSet(token.Signature)),
            "payload adds admin role" => Altered(token, p => p["role"]!.AsArray().Add(Roles.Admin)),
            "payload names another subject" => Altered(token, p => p["sub"] = admin.ToString()),

            "expired" => Resigned(token, p => { p["iat"] = now - 1200; p["nbf"] = now - 1200; p["exp"] = now - 600; }),
            "nbf in the future" => Resigned(token, p => { p["nbf"] = now + 600; p["exp"] = now + 1200; }),
            "iat a day in the future" => Resigned(token, p => p["iat"] = now + 86400),
            "iat just past the clock skew" => Resigned(token, p => p["iat"] = now + (long)app.JwtOptions.ClockSkew.TotalSeconds + 30),
            "exp missing" => Resigned(token, p => p.Remove("exp")),
            "iat missing" => Resigned(token, p => p.Remove("iat")),
            "iss of another issuer" => Resigned(token, p => p["iss"] = "https://evil.example"),
            "aud of another API" => Resigned(token, p => p["aud"] = "another-api"),
            "exp a string" => Resigned(token, p => p["exp"] = (now + 600).ToString(CultureInfo.InvariantCulture)),
            "nbf a string" => Resigned(token, p => p["nbf"] = (now - 5).ToString(CultureInfo.InvariantCulture)),
            "iat a string" => Resigned(token, p => p["iat"] = (now - 5).ToString(CultureInfo.InvariantCulture)),
            "lifetime one second past lifetime + skew" => Resigned(token, p =>
                p["exp"] = p["iat"]!.GetValue<long>() + (long)(app.JwtOptions.AccessTokenLifetime + app.JwtOptions.ClockSkew).TotalSeconds + 1),
            "lifetime a year" => Resigned(token, p => p["exp"] = p["iat"]!.GetValue<long>() + 365 * 86400),

            "embedded jwk, attacker kid" => Attacker(token, h => { h["jwk"] = PublicJwk(Minter.ForeignCredentials.Key); h["kid"] = "attacker"; }),
            "embedded jwk, service kid" => Attacker(token, h => h["jwk"] = PublicJwk(Minter.ForeignCredentials.Key)),
            "jku at an attacker URL" => Attacker(token, h => h["jku"] = "https://attacker.example/jwks.json"),
            "x5u at an attacker URL" => Attacker(token, h => h["x5u"] = "https://attacker.example/cert.pem"),
            "x5c of an attacker certificate" => Attacker(token, h => h["x5c"] = new JsonArray(AttackerCertificate())),
            "kid unknown" => ResignedHeader(token, h => h["kid"] = "no-such-key"),
            "kid missing" => ResignedHeader(token, h => h.Remove("kid")),
            "kid ../../../../dev/null" => ResignedHeader(token, h => h["kid"] = "../../../../dev/null"),
            "kid /etc/passwd" => ResignedHeader(token, h => h["kid"] = "/etc/passwd"),
            "kid ' OR '1'='1" => ResignedHeader(token, h => h["kid"] = "' OR '1'='1"),
            "kid 1; DROP TABLE users--" => ResignedHeader(token, h => h["kid"] = "1; DROP TABLE users--"),

            "typ JWT" => ResignedHeader(token, h => h["typ"] = "JWT"),
            "typ missing" => ResignedHeader(token, h => h.Remove("typ")),
            "typ rt+jwt" => ResignedHeader(token, h => h["typ"] = RefreshTokens.TokenType),
            "refresh token as bearer" => (await app.LoginPairAsync(await app.CreateUserAsync())).Refresh,

            "100 KB token" => Resigned(token, p => p["pad"] = new string('a', 100 * 1024)),
            "8193 characters" => valid + new string('A', BearerEvents.MaxTokenLength + 1 - valid.Length),
            "signature padded to 8192 characters" => valid + new string('A', BearerEvents.MaxTokenLength - valid.Length),
            "header not base64url" => "!!!." + valid.Split('.', 2)[1],
            "payload not base64url" => $"{valid.Split('.')[0]}.!!!.{token.Signature}",
            "header not JSON" => $"{TokenMinter.B64("not json")}.{valid.Split('.', 2)[1]}",
            "header a JSON array" => $"{TokenMinter.B64("[\"alg\"]")}.{valid.Split('.', 2)[1]}",
            "payload not JSON" => $"{valid.Split('.')[0]}.{TokenMinter.B64("not json")}.{token.Signature}",
            "four segments" => valid + ".e30",
            "five segments" => valid + ".e30.e30",
            "empty segments" => "..",
            "encrypted (JWE) token" => Jwe(token.Header["kid"]!.GetValue<string>()),
            "crit naming exp" => ResignedHeader(token, h => h["crit"] = new JsonArray("exp")),
            "crit naming an extension" => ResignedHeader(token, h =>
            {
                h["crit"] = new JsonArray("http://example.com/ext");
                h["http://example.com/ext"] = true;
            }),
            // RFC 7797: the signature would cover the payload as is; a recipient that ignored crit would verify
            // the wrong bytes
            "crit naming b64 (unencoded payload)" => ResignedHeader(token, h => { h["crit"] = new JsonArray("b64"); h["b64"] = false; }),
            "crit empty" => ResignedHeader(token, h => h["crit"] = new JsonArray()),
            "crit a string" => ResignedHeader(token, h => h["crit"] = "exp"),
            "space inside the header" => valid.Insert(10, " "),
            "tab inside the payload" => valid.Insert(valid.IndexOf('.') + 10, "\t"),
            "space inside the signature" => valid.Insert(valid.LastIndexOf('.') + 10, " "),
            _ => throw new ArgumentOutOfRangeException(nameof(attack), attack, null),
        };
    }

    private static string AlgNone(JwtParts token, string spelling, string signature)
    {
        token.Header["alg"] = spelling;
        return token.WithSignature(signature);
    }

    /// <summary>
    /// Under RS256 and ES256 the classic confusion: HS256 keyed with the service's public key, as PEM text or
    /// as DER (SubjectPublicKeyInfo) bytes, both of which anyone can fetch. Under HS256 there is no public key:
    /// a valid RS256 (PEM row) or ES256 (DER row) signature from a key of the attacker, under the service kid.
    /// </summary>
    private string KeyConfusion(JwtParts token, bool der)
    {
        AsymmetricAlgorithm? published = app.Algorithm switch
        {
            SigningAlgorithms.RS256 => TestKeys.Rsa,
            SigningAlgorithms.ES256 => TestKeys.Ec,
            _ => null,
        };
        if (published is not null)
        {
            return token.SignedWithHmac(der
                ? published.ExportSubjectPublicKeyInfo()
                : Encoding.ASCII.GetBytes(published.ExportSubjectPublicKeyInfoPem()));
        }
        return der
            ? token.SignedWith(new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)), "ES256")
            : token.SignedWith(new RsaSecurityKey(TestKeys.OtherRsa), "RS256");
    }

    /// <summary>A well-formed JWE compact token for direct encryption under the service kid, of random bytes.</summary>
    private static string Jwe(string kid)
    {
        var header = JwtParts.Encode(new JsonObject { ["alg"] = "dir", ["enc"] = "A256GCM", ["kid"] = kid, ["typ"] = "at+jwt" });
        string Random(int bytes) => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(bytes));
        return $"{header}..{Random(12)}.{Random(200)}.{Random(16)}";
    }

    private const string Base64UrlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    /// <summary>Padded to a multiple of 4 with <c>=</c>, as base64 (not base64url) would be.</summary>
    private static string Padded(string signature) => signature.PadRight((signature.Length + 3) / 4 * 4, '=');

    /// <summary>
    /// The last character with its lowest spare bit set: it decodes to the same bytes. A signature of 4n + 3
    /// characters (HS256: 32 bytes, 43 characters) ends in a character holding 4 bits of the last byte and 2
    /// spare; one of 4n + 2 (RS256: 256 bytes, 342; ES256: 64 bytes, 86) in one holding 2 bits and 4 spare.
    /// </summary>
    private static string WithSpareBitSet(string signature)
    {
        signature.Length.Should().Match(n => n % 4 == 2 || n % 4 == 3, "a signature whose last character has spare bits");
        var changed = signature[..^1] + Base64UrlAlphabet[Base64UrlAlphabet.IndexOf(signature[^1], StringComparison.Ordinal) | 1];
        // .NET's base64 decoding ignores spare bits (IdentityModel's refuses them, so the check gives its own reason)
        Lenient(changed).Should().Equal(Lenient(signature), "the same signature spelled another way");
        return changed;

        static byte[] Lenient(string base64Url) => Convert.FromBase64String(Padded(base64Url.Replace('-', '+').Replace('_', '/')));
    }

    private static string FlipOneBit(string signature)
    {
        var bytes = Base64UrlEncoder.DecodeBytes(signature);
        bytes[bytes.Length / 2] ^= 0x01;
        return Base64UrlEncoder.Encode(bytes);
    }

    /// <summary>The payload changed, the original signature kept.</summary>
    private static string Altered(JwtParts token, Action<JsonObject> change)
    {
        change(token.Payload);
        return token.WithSignature(token.Signature);
    }

    /// <summary>The payload changed and signed again with the service key: the claim alone is wrong.</summary>
    private string Resigned(JwtParts token, Action<JsonObject> change)
    {
        change(token.Payload);
        return token.SignedWith(Minter.ServiceCredentials);
    }

    /// <summary>The header changed and signed again with the service key.</summary>
    private string ResignedHeader(JwtParts token, Action<JsonObject> change)
    {
        change(token.Header);
        return token.SignedWith(Minter.ServiceCredentials);
    }

    /// <summary>The header points at or carries the attacker's key, and the attacker's key signs.</summary>
    private string Attacker(JwtParts token, Action<JsonObject> change)
    {
        change(token.Header);
        return token.SignedWith(Minter.ForeignCredentials);
    }

    /// <summary>The public members of a key as a JWK (for a symmetric key, the secret itself: that is the attack).</summary>
    private static JsonObject PublicJwk(SecurityKey key)
    {
        var jwk = JsonWebKeyConverter.ConvertFromSecurityKey(key);
        var json = new JsonObject { ["kty"] = jwk.Kty };
        foreach (var (name, value) in new[] { ("n", jwk.N), ("e", jwk.E), ("crv", jwk.Crv), ("x", jwk.X), ("y", jwk.Y), ("k", jwk.K) })
        {
            if (value is not null)
            {
                json[name] = value;
            }
        }
        return json;
    }

    /// <summary>A self-signed certificate of the attacker's RSA key, base64 DER as x5c carries it.</summary>
    private static string AttackerCertificate()
    {
        var request = new CertificateRequest("CN=attacker.example", TestKeys.OtherRsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return Convert.ToBase64String(certificate.RawData);
    }
}

public sealed class Hs256AttackTokenTests(JwtApiFactory app)
    : AttackTokenTests<JwtApiFactory>(app), IClassFixture<JwtApiFactory>;

public sealed class Rs256AttackTokenTests(Rs256JwtApiFactory app)
    : AttackTokenTests<Rs256JwtApiFactory>(app), IClassFixture<Rs256JwtApiFactory>;

public sealed class Es256AttackTokenTests(Es256JwtApiFactory app)
    : AttackTokenTests<Es256JwtApiFactory>(app), IClassFixture<Es256JwtApiFactory>;

/// <summary>The size limits: JwtBearer's own behind the check in BearerEvents, and Kestrel's in front of both.</summary>
public sealed class AttackTokenLimitTests
{
    /// <summary>Correctly signed and current: only its size is wrong.</summary>
    private static string OversizedValidToken(IServiceProvider services, int padding) =>
        new TokenMinter(services.GetRequiredService<IOptions<JwtOptions>>().Value, SigningAlgorithms.HS256)
            .Mint(d => d.Claims["pad"] = new string('a', padding));

    [Fact]
    public async Task Returns401MalformedGivenOversizedValidTokenWhenTheEventCheckIsOff()
    {
        using var factory = new JwtApiFactory();
        using var unguarded = factory.WithWebHostBuilder(web => web.ConfigureTestServices(services =>
            services.PostConfigure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme,
                bearer => bearer.Events.OnMessageReceived = _ => Task.CompletedTask)));
        using var client = unguarded.CreateClient();

        var response = await AttackRequest.MeAsync(client, OversizedValidToken(unguarded.Services, BearerEvents.MaxTokenLength));

        response.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await response.JsonAsync()).GetProperty("reason").GetString().Should().Be("malformed");
    }

    [Fact]
    public async Task RefusesOversizedTokensOverRealKestrel()
    {
        // TestServer has no header limits. Kestrel refuses request headers over 32 KB in all with a bare 431
        // before the service sees them; the 8 KB check answers for the tokens in between.
        using var factory = new JwtApiFactory();
        factory.UseKestrel(0);
        factory.StartServer();
        using var client = factory.CreateClient();

        var nineKilobytes = await AttackRequest.MeAsync(client, OversizedValidToken(factory.Services, 9 * 1024));
        var hundredKilobytes = await AttackRequest.MeAsync(client, OversizedValidToken(factory.Services, 100 * 1024));

        nineKilobytes.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await nineKilobytes.JsonAsync()).GetProperty("reason").GetString().Should().Be("token_too_large");
        hundredKilobytes.Should().HaveStatusCode(HttpStatusCode.RequestHeaderFieldsTooLarge);
    }
}

/// <summary>Each refusal is logged with its reason, and no log record of any category ever holds a token.</summary>
public sealed class AttackTokenLoggingTests
{
    [Fact]
    public async Task LogsEachRejectionWithItsReasonAndNeverTheToken()
    {
        using var factory = new JwtApiFactory();
        using var logged = factory.WithWebHostBuilder(web => web.ConfigureLogging(logging => logging
            .AddFakeLogging()
            // every level of every category, the framework's included
            .AddFilter<FakeLoggerProvider>(null, LogLevel.Trace)));
        using var client = logged.CreateClient();
        var valid = (await (await client.LoginAsync(JwtApiFactory.AdminUsername, JwtApiFactory.AdminPassword)).JsonAsync())
            .GetProperty("access_token").GetString()!;
        var minter = new TokenMinter(logged.Services.GetRequiredService<IOptions<JwtOptions>>().Value, factory.Algorithm);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var sent = new Dictionary<string, string>
        {
            ["bad_signature"] = Changed(valid, t => t.Payload["role"]!.AsArray().Add("root"), t => t.WithSignature(t.Signature)),
            ["wrong_algorithm"] = Changed(valid, t => t.Header["alg"] = "none", t => t.WithSignature("")),
            ["token_expired"] = Changed(valid, t => { t.Payload["nbf"] = now - 1200; t.Payload["exp"] = now - 600; }, t => t.SignedWith(minter.ServiceCredentials)),
            ["unsupported_critical_header"] = Changed(valid, t => t.Header["crit"] = new JsonArray("exp"), t => t.SignedWith(minter.ServiceCredentials)),
            ["token_too_large"] = valid + new string('A', BearerEvents.MaxTokenLength),
            ["malformed"] = valid.Replace('.', '!'),
        };

        (await AttackRequest.MeAsync(client, valid)).Should().HaveStatusCode(HttpStatusCode.OK);
        foreach (var token in sent.Values)
        {
            (await AttackRequest.MeAsync(client, token)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        }

        var records = logged.Services.GetFakeLogCollector().GetSnapshot();
        var rejections = records.Where(r => r.Id.Id == 2006).ToList();
        rejections.Select(r => r.GetStructuredStateValue("Reason")).Should().BeEquivalentTo(sent.Keys);
        rejections.Should().AllSatisfy(r =>
        {
            r.Id.Name.Should().Be("TokenRejected");
            r.Level.Should().Be(LogLevel.Information);
            r.Category.Should().Be(AuditLog.Category);
            r.Message.Should().StartWith("Bearer token rejected from ").And.EndWith($": {r.GetStructuredStateValue("Reason")}");
            r.StructuredState!.Select(p => p.Key).Should().Contain("ClientAddress");
        });
        // the haystack holds the framework's records too, not only ours
        records.Should().Contain(r => r.Category != null && r.Category.StartsWith("Microsoft.AspNetCore.Authentication", StringComparison.Ordinal));
        var secrets = sent.Values.Append(valid).SelectMany(t => t.Split('.').Prepend(t)).Where(p => p.Length >= 16).Distinct().ToList();
        foreach (var record in records)
        {
            var text = string.Join("\n", new[] { record.Message, record.Exception?.ToString() }
                .Concat(record.StructuredState?.Select(p => p.Value) ?? [])
                .Concat(record.Scopes.Select(s => s?.ToString())));
            secrets.Should().NotContain(secret => text.Contains(secret, StringComparison.Ordinal), $"{record.Category} logged '{record.Message}'");
        }
    }

    private static string Changed(string token, Action<JwtParts> change, Func<JwtParts, string> assemble)
    {
        var parts = JwtParts.Of(token);
        change(parts);
        return assemble(parts);
    }
}

/// <summary>A GET with the Authorization header as given, unvalidated: several attacks are not well-formed header values.</summary>
file static class AttackRequest
{
    public static async Task<HttpResponseMessage> GetAsync(HttpClient client, string path, string authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        return await client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> MeAsync(HttpClient client, string token) => GetAsync(client, "/me", "Bearer " + token);
}
