using System.Globalization;
using JwtApi.Auth;
using JwtApi.Tokens;
using JwtApi.Users;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace JwtApi.Mfa;

/// <summary>What a valid mfa_token says.</summary>
/// <param name="UserId">sub</param>
/// <param name="TokenId">jti: wrong codes are counted under it, so a few of them end this token.</param>
/// <param name="Version">ver: any change of the account since the password was checked (disable, password change) ends it.</param>
/// <param name="DeviceId">did: the device of the device token the login presented, kept for the device token issued at the end.</param>
public sealed record MfaClaims(Guid UserId, string TokenId, int Version, string? DeviceId)
{
    public bool IsFor(User user) => UserId == user.Id && Version == user.TokenVersion;
}

/// <summary>
/// The step between a right password and the second factor: a JWT typed <c>mfa+jwt</c>, signed with the internal
/// <see cref="RefreshKey"/>, for an audience no API accepts, living minutes. It follows the refresh token's
/// pattern, so it is never a bearer token, a refresh token or a device token, and needs no table.
/// </summary>
public sealed class MfaTokens(RefreshKey key, IOptions<JwtOptions> jwt, IOptions<MfaOptions> options, TimeProvider time)
{
    public const string TokenType = "mfa+jwt";

    /// <summary>A few hundred bytes; anything much longer is refused unread.</summary>
    public const int MaxTokenLength = 4096;

    public string Audience => jwt.Value.Issuer + "/mfa";

    public IssuedToken Issue(User user, string? deviceId)
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds());
        var lifetime = options.Value.MfaTokenLifetime;
        var jti = TokenIssuer.NewTokenId();
        var claims = new Dictionary<string, object>
        {
            [JwtRegisteredClaimNames.Sub] = user.Id.ToString(),
            [JwtRegisteredClaimNames.Jti] = jti,
            [JwtClaimTypes.TokenVersion] = user.TokenVersion,
        };
        if (deviceId is not null)
        {
            claims[DeviceTokens.DeviceIdClaim] = deviceId;
        }
        var token = key.Sign(jwt.Value.Issuer, Audience, TokenType, now, now + lifetime, claims);
        return new IssuedToken(token, jti, now + lifetime, lifetime);
    }

    /// <summary>The claims of an unexpired mfa_token signed by us, or null for anything else.</summary>
    public async Task<MfaClaims?> ReadAsync(string? token)
    {
        var identity = await key.ReadUnexpiredAsync(token, MaxTokenLength, jwt.Value.Issuer, Audience, TokenType, time);
        return identity is not null &&
               Guid.TryParse(identity.FindFirst(JwtRegisteredClaimNames.Sub)?.Value, out var userId) &&
               identity.FindFirst(JwtRegisteredClaimNames.Jti)?.Value is { Length: > 0 } jti &&
               int.TryParse(identity.FindFirst(JwtClaimTypes.TokenVersion)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            ? new MfaClaims(userId, jti, version, identity.FindFirst(DeviceTokens.DeviceIdClaim)?.Value)
            : null;
    }
}
