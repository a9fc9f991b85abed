using System.Globalization;
using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Benchmarks;

/// <summary>
/// Tokens shaped like JwtApi's access tokens (an ES256 header, iss/aud/sub/name/role/jti/iat/nbf/exp, a 64-byte
/// signature: about 380 characters), each distinct, built without signing: the caches never look at the signature.
/// </summary>
public static class ValidationCacheLoad
{
    private static readonly string Header = Base64UrlEncoder.Encode("""{"alg":"ES256","kid":"es-2026-11","typ":"at+jwt"}""");

    /// <summary>Token number <paramref name="n"/>: the same n always gives the same string.</summary>
    public static string Token(int n, long exp)
    {
        var iat = exp - 900;
        var jti = Base64UrlEncoder.Encode(BitConverter.GetBytes(Mix(n)).Concat(BitConverter.GetBytes(Mix(~n))).ToArray());
        var payload = string.Create(CultureInfo.InvariantCulture,
            $$"""{"iss":"https://jwtapi.example","aud":"jwtapi","sub":"{{n}}","name":"user{{n}}","role":["user"],"jti":"{{jti}}","iat":{{iat}},"nbf":{{iat}},"exp":{{exp}}}""");
        var signature = new byte[64];
        new Random(n).NextBytes(signature);
        return $"{Header}.{Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(payload))}.{Base64UrlEncoder.Encode(signature)}";
    }

    /// <summary>An exp an hour from now: no entry expires during a run.</summary>
    public static long Exp() => DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();

    /// <summary>What JsonWebTokenHandler hands back for <paramref name="token"/>: the parsed token and its own identity.</summary>
    public static TokenValidationResult Result(string token)
    {
        var jwt = new JsonWebToken(token);
        var identity = new ClaimsIdentity(
            [new Claim("sub", jwt.Subject), new Claim("name", jwt.GetClaim("name").Value), new Claim("role", "user"), new Claim("jti", jwt.Id)],
            "Bearer", "name", "role");
        return new TokenValidationResult { IsValid = true, SecurityToken = jwt, ClaimsIdentity = identity, Issuer = jwt.Issuer, TokenType = "at+jwt" };
    }

    /// <summary>
    /// <paramref name="count"/> draws of token numbers 0..<paramref name="distinct"/>-1 with Zipf exponent
    /// <paramref name="s"/> (number 0 the most frequent), from a fixed seed.
    /// </summary>
    public static int[] Zipf(int distinct, double s, int count, int seed)
    {
        var cumulative = new double[distinct];
        var sum = 0.0;
        for (var k = 0; k < distinct; k++)
        {
            sum += 1 / Math.Pow(k + 1, s);
            cumulative[k] = sum;
        }
        var random = new Random(seed);
        var draws = new int[count];
        for (var i = 0; i < count; i++)
        {
            var index = Array.BinarySearch(cumulative, random.NextDouble() * sum);
            draws[i] = Math.Min(index < 0 ? ~index : index, distinct - 1);
        }
        return draws;
    }

    /// <summary>The share of draws that fall on the <paramref name="size"/> most frequent numbers: what an oracle would hit.</summary>
    public static double TopShare(int distinct, double s, int size)
    {
        double top = 0, all = 0;
        for (var k = 0; k < distinct; k++)
        {
            var weight = 1 / Math.Pow(k + 1, s);
            all += weight;
            top += k < size ? weight : 0;
        }
        return top / all;
    }

    private static long Mix(int n) => (long)((ulong)n * 0x9E3779B97F4A7C15UL);
}
