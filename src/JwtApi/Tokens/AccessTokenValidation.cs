using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Tokens;

/// <summary>What makes an access token acceptable. JwtBearer and the tests use this one definition.</summary>
public static class AccessTokenValidation
{
    public static TokenValidationParameters Parameters(JwtOptions options, SigningKeys keys) => new()
    {
        ValidIssuer = options.Issuer,
        ValidAudience = options.Audience,
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
    /// is still refused, or null.
    /// </summary>
    public static SecurityTokenException? Refusal(JsonWebToken token, DateTimeOffset now, TimeSpan clockSkew)
    {
        // Every token we issue names its id, subject and issue time (RFC 9068 §2.2); endpoints rely on them.
        if (string.IsNullOrEmpty(token.Id) || string.IsNullOrEmpty(token.Subject) ||
            !token.TryGetPayloadValue<long>(JwtRegisteredClaimNames.Iat, out _))
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
        return null;
    }
}
