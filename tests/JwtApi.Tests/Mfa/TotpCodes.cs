using System.Buffers.Binary;
using System.Security.Cryptography;

namespace JwtApi.Tests.Mfa;

/// <summary>
/// RFC 6238 (HMAC-SHA-1, 6 digits, 30 s) written out here, independently of the Otp.NET the service uses, so a
/// test agrees with what an authenticator app computes, not with the service's own library.
/// </summary>
public static class TotpCodes
{
    public static string At(string base32Secret, DateTimeOffset time, int stepsFromNow = 0)
    {
        var counter = time.ToUnixTimeSeconds() / 30 + stepsFromNow;
        Span<byte> message = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(message, counter);
        var hash = HMACSHA1.HashData(Base32(base32Secret), message);
        var offset = hash[^1] & 0x0f;
        var binary = ((hash[offset] & 0x7f) << 24) | (hash[offset + 1] << 16) | (hash[offset + 2] << 8) | hash[offset + 3];
        return (binary % 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>RFC 4648 base32, padding optional.</summary>
    public static byte[] Base32(string text)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var bytes = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var c in text.TrimEnd('=').ToUpperInvariant())
        {
            buffer = (buffer << 5) | alphabet.IndexOf(c, StringComparison.Ordinal);
            bits += 5;
            if (bits >= 8)
            {
                bytes.Add((byte)(buffer >> (bits - 8)));
                bits -= 8;
            }
        }
        return [.. bytes];
    }
}
