using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Tests.Support;

/// <summary>
/// A compact JWS taken apart: header and payload as JSON to change in one place, then put back together with
/// its old signature, none, or a new one made with real crypto.
/// </summary>
public sealed class JwtParts
{
    private JwtParts(JsonObject header, JsonObject payload, string signature)
    {
        Header = header;
        Payload = payload;
        Signature = signature;
    }

    public JsonObject Header { get; }
    public JsonObject Payload { get; }

    /// <summary>The signature segment as it came, base64url.</summary>
    public string Signature { get; }

    public static JwtParts Of(string token)
    {
        var parts = token.Split('.');
        return new JwtParts(Decode(parts[0]), Decode(parts[1]), parts[2]);
    }

    /// <summary>Header and payload, encoded and joined: the JWS signing input.</summary>
    public string SigningInput => $"{Encode(Header)}.{Encode(Payload)}";

    /// <summary>The changed header and payload with the original signature (or any other).</summary>
    public string WithSignature(string signature) => $"{SigningInput}.{signature}";

    /// <summary>Signed anew: <c>alg</c> in the header becomes <paramref name="algorithm"/>, and the signature is made with it.</summary>
    public string SignedWith(SecurityKey key, string algorithm)
    {
        Header["alg"] = algorithm;
        var input = Encoding.ASCII.GetBytes(SigningInput);
        var signature = (key, algorithm) switch
        {
            (SymmetricSecurityKey s, "HS256") => HMACSHA256.HashData(s.Key, input),
            (SymmetricSecurityKey s, "HS512") => HMACSHA512.HashData(s.Key, input),
            (RsaSecurityKey r, "RS256") => r.Rsa.SignData(input, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            (RsaSecurityKey r, "PS256") => r.Rsa.SignData(input, HashAlgorithmName.SHA256, RSASignaturePadding.Pss),
            // IEEE P1363 (r || s), the JWS form
            (ECDsaSecurityKey e, "ES256") => e.ECDsa.SignData(input, HashAlgorithmName.SHA256),
            (ECDsaSecurityKey e, "ES384") => e.ECDsa.SignData(input, HashAlgorithmName.SHA384),
            _ => throw new NotSupportedException($"{algorithm} with a {key.GetType().Name}"),
        };
        return WithSignature(Base64UrlEncoder.Encode(signature));
    }

    public string SignedWith(SigningCredentials credentials) => SignedWith(credentials.Key, credentials.Algorithm);

    /// <summary>HS256 over <paramref name="secret"/>, whatever those bytes are (a public key, for key confusion).</summary>
    public string SignedWithHmac(byte[] secret) => SignedWith(new SymmetricSecurityKey(secret), "HS256");

    public static string Encode(JsonNode json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json.ToJsonString()));

    private static JsonObject Decode(string segment) => JsonNode.Parse(Base64UrlEncoder.DecodeBytes(segment))!.AsObject();
}
