using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Clients;

/// <summary>
/// Client secrets: 256 random bits, shown once, stored as a salted HMAC-SHA256. A fast keyed hash is right here:
/// a random 256-bit secret cannot be guessed from its hash however fast the hash is, which is why BCrypt (slow on
/// purpose, for passwords people choose) would only cost CPU on every token request.
/// </summary>
public static class ClientSecrets
{
    private const string Scheme = "hmac-sha256";

    /// <summary>A new secret: 32 random bytes, base64url (43 characters).</summary>
    public static string Generate() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    /// <summary><c>hmac-sha256$salt$mac</c>: the secret keyed by a random salt of its own.</summary>
    public static string Hash(string secret)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        return $"{Scheme}${Base64UrlEncoder.Encode(salt)}${Base64UrlEncoder.Encode(Mac(salt, secret))}";
    }

    /// <summary>True when <paramref name="secret"/> is the one <paramref name="hash"/> was made of; constant time.</summary>
    public static bool Verify(string? secret, string? hash)
    {
        if (string.IsNullOrEmpty(secret) || secret.Length > 256 || hash?.Split('$') is not [Scheme, var salt, var mac])
        {
            return false;
        }
        try
        {
            return CryptographicOperations.FixedTimeEquals(Mac(Base64UrlEncoder.DecodeBytes(salt), secret), Base64UrlEncoder.DecodeBytes(mac));
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static byte[] Mac(byte[] salt, string secret) => HMACSHA256.HashData(salt, Encoding.UTF8.GetBytes(secret));
}
