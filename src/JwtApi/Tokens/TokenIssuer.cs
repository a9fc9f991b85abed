using System.Security.Cryptography;
using JwtApi.Hosting;
using JwtApi.Users;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Tokens;

/// <summary>An issued access token and what the client needs to know about it.</summary>
public sealed record IssuedToken(string Token, string Id, DateTimeOffset ExpiresAt, TimeSpan Lifetime);

/// <summary>An access token and the refresh token of the same family (login).</summary>
public sealed record TokenPair(IssuedToken Access, IssuedToken Refresh, string FamilyId);

/// <summary>Signs access tokens in the RFC 9068 profile, with the refresh token that renews them.</summary>
public sealed class TokenIssuer(SigningKeys keys, RefreshTokens refreshTokens, IOptions<JwtOptions> options, TimeProvider time, Telemetry telemetry)
{
    public const string AccessTokenType = "at+jwt";

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    private readonly JwtOptions _options = options.Value;

    /// <summary>
    /// Claims carry identity and roles only: a token is readable by anyone who holds it, so nothing secret or
    /// personal beyond the username goes in.
    /// </summary>
    /// <param name="user">Whose token.</param>
    /// <param name="familyId">The login (sid).</param>
    /// <param name="amr">How the user signed in (RFC 8176); a password alone when not given.</param>
    public IssuedToken IssueAccessToken(User user, string familyId, IReadOnlyList<string>? amr = null) =>
        IssueUserToken(user, familyId, amr ?? AuthenticationMethods.PasswordOnly, _options.Audience, withRoles: true);

    /// <summary>
    /// The token of a login that must turn the second factor on before anything else (<c>Auth:RequireMfaFor</c>):
    /// for an audience of its own that no API accepts (JwtApi accepts it at the <c>/me/mfa</c> endpoints only),
    /// without roles, and without a refresh token.
    /// </summary>
    public IssuedToken IssueEnrollmentToken(User user) =>
        IssueUserToken(user, NewTokenId(), AuthenticationMethods.PasswordOnly, EnrollmentAudience(_options), withRoles: false);

    /// <summary>The audience of <see cref="IssueEnrollmentToken"/>'s tokens.</summary>
    public static string EnrollmentAudience(JwtOptions options) => options.Audience + "/mfa-enrollment";

    private IssuedToken IssueUserToken(User user, string familyId, IReadOnlyList<string> amr, string audience, bool withRoles)
    {
        var now = time.GetUtcNow();
        // JWT times are whole seconds: round down so exp - iat is exactly the lifetime.
        now = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds());
        var expires = now + _options.AccessTokenLifetime;
        var jti = NewTokenId();
        var claims = new Dictionary<string, object>
        {
            [JwtRegisteredClaimNames.Sub] = user.Id.ToString(),
            [JwtClaimTypes.Name] = user.Username,
            [JwtRegisteredClaimNames.Jti] = jti,
            // the family, so logging out one device refuses every access token that login produced
            [JwtClaimTypes.FamilyId] = familyId,
            // the user's token version, so "log out everywhere" and role changes refuse older tokens at once
            [JwtClaimTypes.TokenVersion] = user.TokenVersion,
            // how the user signed in, so an API can ask for a second factor (RFC 8176)
            [JwtClaimTypes.AuthenticationMethods] = amr.ToArray(),
        };
        if (withRoles && user.Roles.Count > 0)
        {
            claims[JwtClaimTypes.Role] = user.Roles.ToArray();
        }
        var token = Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _options.Issuer,
            Audience = audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            TokenType = AccessTokenType,
            Claims = claims,
            SigningCredentials = keys.Active.Credentials,
        });
        return new IssuedToken(token, jti, expires, _options.AccessTokenLifetime);
    }

    /// <summary>
    /// A registered client's token (RFC 9068 §2.2 for a client acting for itself): <c>sub</c> and <c>client_id</c>
    /// the client id, <c>scope</c> space-separated, <c>aud</c> the API it is for, <c>ver</c> the client's token
    /// version (so disabling the client refuses it at once); no name, no roles, no login family.
    /// </summary>
    public IssuedToken IssueClientToken(Clients.Client client, IReadOnlyCollection<string> scopes, string audience)
    {
        using var activity = telemetry.StartActivity(Telemetry.Activities.TokenIssue);
        var now = DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds());
        var expires = now + _options.AccessTokenLifetime;
        var jti = NewTokenId();
        var token = Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _options.Issuer,
            Audience = audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            TokenType = AccessTokenType,
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = client.Id,
                [JwtClaimTypes.ClientId] = client.Id,
                [JwtClaimTypes.Scope] = string.Join(' ', scopes),
                [JwtRegisteredClaimNames.Jti] = jti,
                [JwtClaimTypes.TokenVersion] = client.TokenVersion,
            },
            SigningCredentials = keys.Active.Credentials,
        });
        telemetry.TokenIssued(Telemetry.TokenKind.Access);
        return new IssuedToken(token, jti, expires, _options.AccessTokenLifetime);
    }

    /// <summary>A new login: a new token family that begins now.</summary>
    public TokenPair StartFamily(User user, IReadOnlyList<string>? amr = null) =>
        IssuePair(user, NewTokenId(), time.GetUtcNow(), amr ?? AuthenticationMethods.PasswordOnly);

    /// <summary>A rotation: a new pair in an existing family, whose absolute lifetime still counts from its start.</summary>
    public TokenPair IssuePair(User user, string familyId, DateTimeOffset authTime, IReadOnlyList<string> amr)
    {
        using var activity = telemetry.StartActivity(Telemetry.Activities.TokenIssue);
        activity?.SetTag(Telemetry.Tags.TokenAlgorithm, keys.Active.Algorithm);
        var pair = new TokenPair(IssueAccessToken(user, familyId, amr), refreshTokens.Issue(user, familyId, authTime, amr), familyId);
        telemetry.TokenIssued(Telemetry.TokenKind.Access);
        telemetry.TokenIssued(Telemetry.TokenKind.Refresh);
        return pair;
    }

    /// <summary>128 random bits, URL-safe: unguessable and unique without coordination between instances.</summary>
    public static string NewTokenId() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16));
}

/// <summary>Claim names as they appear in the token; inbound mapping is off, so the same names are read back.</summary>
public static class JwtClaimTypes
{
    public const string Name = "name";
    public const string Role = "role";

    /// <summary>The token family: one login on one device, kept through every refresh.</summary>
    public const string FamilyId = "sid";

    /// <summary>The user's token version when the token was issued.</summary>
    public const string TokenVersion = "ver";

    /// <summary>RFC 8693 §4.3, RFC 9068 §2.2: the client a token was issued to.</summary>
    public const string ClientId = "client_id";

    /// <summary>RFC 8693 §4.2: the scopes of a client's token, space-separated.</summary>
    public const string Scope = "scope";

    /// <summary>When the family began, in Unix seconds (OpenID Connect's name for it).</summary>
    public const string AuthTime = "auth_time";

    /// <summary>RFC 8176 authentication method references: how the user signed in, kept through refreshes.</summary>
    public const string AuthenticationMethods = "amr";
}

/// <summary>RFC 8176 values of <c>amr</c> this service issues.</summary>
public static class AuthenticationMethods
{
    public const string Password = "pwd";

    /// <summary>A one-time code: from the authenticator app (RFC 6238), or a single-use recovery code.</summary>
    public const string Otp = "otp";

    public static readonly IReadOnlyList<string> PasswordOnly = [Password];

    public static readonly IReadOnlyList<string> PasswordAndOtp = [Password, Otp];
}
