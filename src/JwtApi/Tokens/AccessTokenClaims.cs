using System.Globalization;
using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;

namespace JwtApi.Tokens;

/// <summary>The claims of the validated access token behind a request, by their names as issued.</summary>
public sealed record AccessTokenClaims(string UserId, string Username, string TokenId, string? FamilyId, DateTimeOffset ExpiresAt)
{
    /// <summary>Only for a principal JwtBearer authenticated, which guarantees sub, name, jti and exp.</summary>
    public static AccessTokenClaims Of(ClaimsPrincipal caller)
    {
        // One pass over the claims (FindFirstValue per claim walked them five times, on every protected request);
        // the first of each type wins, as FindFirstValue's does.
        string? sub = null, name = null, jti = null, family = null, exp = null;
        foreach (var identity in caller.Identities)
        {
            foreach (var claim in identity.Claims)
            {
                switch (claim.Type)
                {
                    case JwtRegisteredClaimNames.Sub: sub ??= claim.Value; break;
                    case JwtClaimTypes.Name: name ??= claim.Value; break;
                    case JwtRegisteredClaimNames.Jti: jti ??= claim.Value; break;
                    case JwtClaimTypes.FamilyId: family ??= claim.Value; break;
                    case JwtRegisteredClaimNames.Exp: exp ??= claim.Value; break;
                }
            }
        }
        return new(sub!, name!, jti!, family,
            DateTimeOffset.FromUnixTimeSeconds(Math.Min(long.Parse(exp!, CultureInfo.InvariantCulture), LatestExpiry)));
    }

    // JwtBearer accepts any exp that fits a long; past 9999-12-31 no DateTimeOffset holds it (a 500, not a token).
    private static readonly long LatestExpiry = DateTimeOffset.MaxValue.ToUnixTimeSeconds();
}
