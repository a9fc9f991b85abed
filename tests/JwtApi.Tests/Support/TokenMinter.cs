using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using JwtApi.Tokens;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Tests.Support;

/// <summary>Forges what the service never issues: other keys, other algorithms, bad claims, broken encodings.</summary>
public sealed class TokenMinter(JwtOptions options, string algorithm)
{
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>The service's own signing key, as the test configured it.</summary>
    public SigningCredentials ServiceCredentials => algorithm switch
    {
        SigningAlgorithms.HS256 => new SigningCredentials(new SymmetricSecurityKey(TestKeys.HmacSecret) { KeyId = TestKeys.HmacKeyId }, SecurityAlgorithms.HmacSha256),
        SigningAlgorithms.RS256 => new SigningCredentials(new RsaSecurityKey(TestKeys.Rsa) { KeyId = TestKeys.RsaKeyId }, SecurityAlgorithms.RsaSha256),
        _ => new SigningCredentials(new ECDsaSecurityKey(TestKeys.Ec) { KeyId = TestKeys.EcKeyId }, SecurityAlgorithms.EcdsaSha256),
    };

    /// <summary>A key of the same kind the service does not know, presented under the service's kid.</summary>
    public SigningCredentials ForeignCredentials => algorithm switch
    {
        SigningAlgorithms.HS256 => new SigningCredentials(new SymmetricSecurityKey(TestKeys.OtherHmacSecret) { KeyId = TestKeys.HmacKeyId }, SecurityAlgorithms.HmacSha256),
        SigningAlgorithms.RS256 => new SigningCredentials(new RsaSecurityKey(TestKeys.OtherRsa) { KeyId = TestKeys.RsaKeyId }, SecurityAlgorithms.RsaSha256),
        _ => new SigningCredentials(new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = TestKeys.EcKeyId }, SecurityAlgorithms.EcdsaSha256),
    };

    /// <summary>A token like the service's own, with <paramref name="tweak"/> applied before signing.</summary>
    public string Mint(Action<SecurityTokenDescriptor>? tweak = null, SigningCredentials? credentials = null, params string[] roles)
    {
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = options.Issuer,
            Audience = options.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddMinutes(5),
            TokenType = TokenIssuer.AccessTokenType,
            Claims = new Dictionary<string, object>
            {
                ["sub"] = Guid.NewGuid().ToString(),
                ["name"] = "mallory",
                ["jti"] = TokenIssuer.NewTokenId(),
                ["role"] = roles.Length == 0 ? new[] { "user" } : roles,
            },
            SigningCredentials = credentials ?? ServiceCredentials,
        };
        tweak?.Invoke(descriptor);
        return Handler.CreateToken(descriptor);
    }

    /// <summary>Header and payload as given, signed with HMAC-SHA256 over <paramref name="secret"/> (or unsigned).</summary>
    public static string Raw(object header, object payload, byte[]? secret)
    {
        var input = $"{B64(JsonSerializer.Serialize(header))}.{B64(JsonSerializer.Serialize(payload))}";
        var signature = secret is null ? "" : Base64UrlEncoder.Encode(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(input)));
        return $"{input}.{signature}";
    }

    /// <summary>The payload a valid token of the service would carry, for building raw variants.</summary>
    public Dictionary<string, object> Payload(params string[] roles)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return new()
        {
            ["iss"] = options.Issuer,
            ["aud"] = options.Audience,
            ["sub"] = Guid.NewGuid().ToString(),
            ["name"] = "mallory",
            ["jti"] = TokenIssuer.NewTokenId(),
            ["role"] = roles.Length == 0 ? new[] { "user" } : roles,
            ["iat"] = now,
            ["nbf"] = now,
            ["exp"] = now + 300,
        };
    }

    public static string B64(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));
}
