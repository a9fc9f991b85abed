using System.Buffers.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Tokens;

/// <summary>What makes an access token acceptable. JwtBearer and the tests use this one definition.</summary>
public static class AccessTokenValidation
{
    public static TokenValidationParameters Parameters(JwtOptions options, SigningKeys keys) => new()
    {
        ValidIssuer = options.Issuer,
        // the second audience is of enrollment-only tokens, which authorization admits at /me/mfa only
        ValidAudiences = [options.Audience, TokenIssuer.EnrollmentAudience(options)],
        // Pinned: a token naming any other algorithm (none, HS256 with an RSA public key, ...) is refused
        // before its signature is looked at (RFC 8725 §3.1).
        ValidAlgorithms = keys.Validating.Select(k => k.Algorithm).Distinct().ToArray(),
        // ... and per key: the alg in the header must be the one algorithm its kid's key is bound to.
        AlgorithmValidator = (algorithm, key, _, _) => keys.Find(key.KeyId)?.Algorithm == algorithm,
        IssuerSigningKeys = keys.Validating.Select(k => k.Key).ToArray(),
        // The kid must name one of our keys; no guessing through every key (and a token without kid fails).
        // Keys come from here only: jwk, jku, x5u and x5c headers are never used to find one.
        TryAllIssuerSigningKeys = false,
        ValidateIssuer = true,
        ValidateAudience = true,
        ValidateLifetime = true,
        ValidateIssuerSigningKey = true,
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        RequireAudience = true,
        ClockSkew = options.ClockSkew,
        // RFC 9068 §4: only tokens typed as access tokens; an ID token or refresh token is not one.
        ValidTypes = [TokenIssuer.AccessTokenType, "application/" + TokenIssuer.AccessTokenType],
        NameClaimType = JwtClaimTypes.Name,
        RoleClaimType = JwtClaimTypes.Role,
    };

    /// <summary>
    /// What <see cref="Parameters"/> cannot express, for a token whose signature and claims have validated: why it
    /// is still refused, or null. These are the tokens a key holder signed badly (a bug in another issuer sharing
    /// the key, or the key in the wrong hands): the signature is good, the content is not what we issue.
    /// </summary>
    public static SecurityTokenException? Refusal(JsonWebToken token, DateTimeOffset now, TimeSpan clockSkew, TimeSpan accessTokenLifetime)
    {
        // The signature's spelling is not checked here but before any parsing, by each caller (BearerEvents'
        // OnMessageReceived, for every token the validated-token cache does not answer; introspection and /revoke):
        // once per request.
        // RFC 7519 §2: exp, nbf and iat are NumericDates, JSON numbers. IdentityModel also reads a string of digits
        // ("exp":"1900000000"), so the parsed token no longer tells; the payload as sent does.
        if (NonNumericDate(token.EncodedPayload) is { } claim)
        {
            return new SecurityTokenInvalidNumericDateException($"The token's {claim} is not a JSON number.");
        }
        // Every token we issue names its id, subject and issue time (RFC 9068 §2.2); endpoints rely on them.
        if (string.IsNullOrEmpty(token.Id) || string.IsNullOrEmpty(token.Subject) ||
            !token.TryGetPayloadValue<long>(JwtRegisteredClaimNames.Iat, out var iat))
        {
            return new SecurityTokenMissingClaimsException("The token lacks its jti, sub or iat claim.");
        }
        // RFC 7515 §4.1.11: a recipient that does not understand an extension crit lists must refuse the token.
        // This service understands none (and issues none), so any crit is refused; IdentityModel ignores crit (it
        // has not even a constant for the name).
        if (token.TryGetHeaderValue<object>("crit", out _))
        {
            return new SecurityTokenUnsupportedCriticalHeaderException("The token's header lists critical extensions.");
        }
        // IdentityModel checks nbf and exp but never iat. A token issued in the future was made on a wrong clock,
        // or by someone holding the key who picks the times: either way its lifetime cannot be trusted.
        if (token.IssuedAt > now.UtcDateTime + clockSkew)
        {
            return new SecurityTokenIssuedInFutureException("The token's iat is in the future.");
        }
        // We never issue a token living longer than Jwt:AccessTokenLifetime: a longer one (a year, signed by a key
        // holder) works for that long once stolen, whatever the configured lifetime promises. The skew allows for
        // an issuer whose clock moved while it signed.
        if (token.TryGetPayloadValue<long>(JwtRegisteredClaimNames.Exp, out var exp) &&
            exp - iat > (long)(accessTokenLifetime + clockSkew).TotalSeconds)
        {
            return new SecurityTokenLifetimeTooLongException("The token's lifetime (exp - iat) is longer than this service issues.");
        }
        return null;
    }

    /// <summary>The first of exp, nbf and iat in the base64url payload that is present but not a JSON number, or null.</summary>
    internal static string? NonNumericDate(string encodedPayload)
    {
        // decoded on the stack: this runs for every token seen for the first time (a token of ours is about 600 bytes)
        var length = Base64Url.GetMaxDecodedLength(encodedPayload.Length);
        Span<byte> json = length <= 2048 ? stackalloc byte[length] : new byte[length];
        if (Base64Url.DecodeFromChars(encodedPayload, json, out _, out var written) != System.Buffers.OperationStatus.Done)
        {
            return null;   // IdentityModel parsed it, so this does not happen; its own refusal stands if it does
        }
        var reader = new Utf8JsonReader(json[..written]);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            // compared as UTF-8: the char overload transcodes its argument on every call, three times per claim
            string? name = reader.ValueTextEquals("exp"u8) ? JwtRegisteredClaimNames.Exp
                : reader.ValueTextEquals("nbf"u8) ? JwtRegisteredClaimNames.Nbf
                : reader.ValueTextEquals("iat"u8) ? JwtRegisteredClaimNames.Iat
                : null;
            reader.Read();
            if (name is not null && reader.TokenType != JsonTokenType.Number)
            {
                return name;
            }
            reader.Skip();
        }
        return null;
    }

    /// <summary>
    /// True when the signature of a compact JWS (three segments) is spelled in a way base64url decoding forgives
    /// but RFC 7515 §2 does not allow: padding <c>=</c>, or set bits past the last byte in the final character.
    /// Such a token carries a valid signature under another spelling: a second token string for one token, which
    /// slips past anything keyed on the string (a cache, a list of seen tokens). Header and payload need no such
    /// check: their spelling is what is signed. A segment that is not base64url at all is left to IdentityModel.
    /// </summary>
    private static readonly System.Buffers.SearchValues<char> Base64UrlAlphabet =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    public static bool HasNonCanonicalSignature(ReadOnlySpan<char> token)
    {
        var dot = token.LastIndexOf('.');
        if (dot < 0 || token[..dot].Count('.') != 1)
        {
            return false;
        }
        var signature = token[(dot + 1)..];
        if (signature.Contains('='))
        {
            return true;
        }
        // 4n characters hold whole bytes (no spare bits); 4n + 1 cannot be decoded at all
        if (signature.Length % 4 is 0 or 1)
        {
            return false;
        }
        // not base64url at all: IdentityModel's to refuse (a vectorized scan, on every request)
        if (signature.ContainsAnyExcept(Base64UrlAlphabet))
        {
            return false;
        }
        var c = signature[^1];
        var last = c switch
        {
            >= 'A' and <= 'Z' => c - 'A',
            >= 'a' and <= 'z' => c - 'a' + 26,
            >= '0' and <= '9' => c - '0' + 52,
            '-' => 62,
            _ => 63,
        };
        // 4n + 2 characters: the last holds 2 bits of the last byte and 4 spare; 4n + 3: 4 bits and 2 spare
        var spare = signature.Length % 4 == 2 ? 0b1111 : 0b11;
        return (last & spare) != 0;
    }
}
