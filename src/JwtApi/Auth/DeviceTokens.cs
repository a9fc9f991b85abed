using System.Globalization;
using JwtApi.Tokens;
using JwtApi.Users;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace JwtApi.Auth;

/// <summary>What a valid device token says.</summary>
/// <param name="UserId">sub</param>
/// <param name="DeviceId">did: one browser or app that has logged in with the right password; every renewal keeps it.</param>
/// <param name="Version">ver: the user's token version when it was issued; any bump (password change, log out everywhere) ends it.</param>
public sealed record DeviceClaims(Guid UserId, string DeviceId, int Version)
{
    /// <summary>True when this token still speaks for <paramref name="user"/>'s device: the same user, the same token version.</summary>
    public bool IsFor(User user) => UserId == user.Id && Version == user.TokenVersion;
}

/// <summary>
/// Device tokens (OWASP "Slow Down Online Guessing Attacks with Device Cookies"): a login with the right password
/// gets one, and a later login presenting it is exempt from the username-wide guessing limit, so a flood of
/// guesses against a name does not lock its owner out. No table of devices: the token carries what is checked.
/// It follows the refresh token's pattern: a JWT typed <c>dt+jwt</c>, signed with the internal
/// <see cref="RefreshKey"/>, for an audience no API accepts, so it is never a bearer or a refresh token.
/// </summary>
public sealed class DeviceTokens(RefreshKey key, IOptions<JwtOptions> jwt, IOptions<RateLimitOptions> limits, TimeProvider time)
{
    public const string TokenType = "dt+jwt";
    public const string DeviceIdClaim = "did";

    /// <summary>Device tokens are a few hundred bytes; anything much longer is refused unread.</summary>
    public const int MaxTokenLength = 4096;

    public string Audience => jwt.Value.Issuer + "/device";

    /// <summary>A token for <paramref name="user"/> on a device: the one named by <paramref name="deviceId"/>, or a new one.</summary>
    public IssuedToken Issue(User user, string? deviceId = null)
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds());
        var lifetime = limits.Value.DeviceTokenLifetime;
        var jti = TokenIssuer.NewTokenId();
        var token = key.Sign(jwt.Value.Issuer, Audience, TokenType, now, now + lifetime, new Dictionary<string, object>
        {
            [JwtRegisteredClaimNames.Sub] = user.Id.ToString(),
            [JwtRegisteredClaimNames.Jti] = jti,
            [DeviceIdClaim] = deviceId ?? TokenIssuer.NewTokenId(),
            [JwtClaimTypes.TokenVersion] = user.TokenVersion,
        });
        return new IssuedToken(token, jti, now + lifetime, lifetime);
    }

    /// <summary>The claims of an unexpired device token signed by us, or null for anything else (a forgery, an access or refresh token).</summary>
    public async Task<DeviceClaims?> ReadAsync(string? token)
    {
        var identity = await key.ReadUnexpiredAsync(token, MaxTokenLength, jwt.Value.Issuer, Audience, TokenType, time);
        return identity is not null &&
               Guid.TryParse(identity.FindFirst(JwtRegisteredClaimNames.Sub)?.Value, out var userId) &&
               identity.FindFirst(DeviceIdClaim)?.Value is { Length: > 0 } deviceId &&
               int.TryParse(identity.FindFirst(JwtClaimTypes.TokenVersion)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            ? new DeviceClaims(userId, deviceId, version)
            : null;
    }
}
