using System.Globalization;
using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;

namespace JwtApi.Tokens;

/// <summary>The claims of the validated access token behind a request, by their names as issued.</summary>
public sealed record AccessTokenClaims(string UserId, string Username, string TokenId, string? FamilyId, DateTimeOffset ExpiresAt)
{
    /// <summary>Only for a principal JwtBearer authenticated, which guarantees sub, name, jti and exp.</summary>
    public static AccessTokenClaims Of(ClaimsPrincipal caller) => new(
        caller.FindFirstValue(JwtRegisteredClaimNames.Sub)!,
        caller.FindFirstValue(JwtClaimTypes.Name)!,
        caller.FindFirstValue(JwtRegisteredClaimNames.Jti)!,
        caller.FindFirstValue(JwtClaimTypes.FamilyId),
        DateTimeOffset.FromUnixTimeSeconds(Math.Min(
            long.Parse(caller.FindFirstValue(JwtRegisteredClaimNames.Exp)!, CultureInfo.InvariantCulture), LatestExpiry)));

    // JwtBearer accepts any exp that fits a long; past 9999-12-31 no DateTimeOffset holds it (a 500, not a token).
    private static readonly long LatestExpiry = DateTimeOffset.MaxValue.ToUnixTimeSeconds();
}
