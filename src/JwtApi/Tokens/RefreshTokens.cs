using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using JwtApi.Storage;
using JwtApi.Users;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Tokens;

/// <summary>The internal key that signs refresh tokens. It is never published and never signs an access token.</summary>
public sealed record RefreshKey(SigningKey Key)
{
    public static RefreshKey Create(JwtOptions options, IHostEnvironment env, DataDirectory data)
    {
        if (!TryLoad(options, env, out var key, out var error))
        {
            throw new InvalidOperationException(error);
        }
        return new RefreshKey(key ?? SigningKeys.Hmac(
            SigningKeys.DevelopmentHmacSecret(Path.Combine(data.Path, "jwt-refresh-key.hs256")), "rt-"));
    }

    /// <summary>
    /// What a one-purpose internal token (refresh, device) must be: signed with this key and its one algorithm, of
    /// its own type and audience, with an exp. Its lifetime is left to the reader, judged on the injected clock.
    /// </summary>
    public TokenValidationParameters ValidationFor(string issuer, string audience, string tokenType) => new()
    {
        ValidIssuer = issuer,
        ValidAudience = audience,
        ValidAlgorithms = [Key.Algorithm],
        IssuerSigningKey = Key.Key,
        TryAllIssuerSigningKeys = false,
        ValidTypes = [tokenType],
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        ValidateLifetime = false,
    };

    /// <summary>
    /// The claims of a one-purpose token (device, mfa) signed with this key, of <paramref name="tokenType"/> and for
    /// <paramref name="audience"/>, unexpired on <paramref name="time"/> (the service's own clock, no skew); null for
    /// anything else, a token longer than <paramref name="maxLength"/> refused unread.
    /// </summary>
    public async Task<ClaimsIdentity?> ReadUnexpiredAsync(
        string? token, int maxLength, string issuer, string audience, string tokenType, TimeProvider time)
    {
        if (string.IsNullOrEmpty(token) || token.Length > maxLength)
        {
            return null;
        }
        var result = await Handler.ValidateTokenAsync(token, ValidationFor(issuer, audience, tokenType));
        return result.IsValid &&
               long.TryParse(result.ClaimsIdentity.FindFirst(JwtRegisteredClaimNames.Exp)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var exp) &&
               time.GetUtcNow() < DateTimeOffset.FromUnixTimeSeconds(exp)
            ? result.ClaimsIdentity
            : null;
    }

    /// <summary>
    /// Signs a one-purpose token (refresh, device, mfa) with this key and its one algorithm: its own type and
    /// audience, the times given (whole seconds), the claims given.
    /// </summary>
    public string Sign(string issuer, string audience, string tokenType, DateTimeOffset issuedAt, DateTimeOffset expires, Dictionary<string, object> claims) =>
        Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = issuedAt.UtcDateTime,
            Expires = expires.UtcDateTime,
            TokenType = tokenType,
            Claims = claims,
            SigningCredentials = Key.Credentials,
        });

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false, MapInboundClaims = false };

    /// <summary><paramref name="key"/> is null (and the result true) when none is configured in Development.</summary>
    internal static bool TryLoad(JwtOptions options, IHostEnvironment env, out SigningKey? key, out string? error)
    {
        key = null;
        error = null;
        if (string.IsNullOrWhiteSpace(options.RefreshSigningKey))
        {
            if (env.IsDevelopment())
            {
                return true;
            }
            error = "No refresh-token key: set Jwt:RefreshSigningKey (environment variable Jwt__RefreshSigningKey) " +
                    $"to a secret of its own, not the access-token key. {SigningKeys.HowToMakeHmacKey}";
            return false;
        }
        if (!SigningKeys.TryHmac(options.RefreshSigningKey, "Jwt:RefreshSigningKey", "rt-", out key, out error))
        {
            return false;
        }
        // One key for both would leave only typ and aud between a refresh token and an API that takes it. Compared
        // as the bytes that sign, so the same secret with other whitespace or spare bits, or listed in the key
        // set, is caught as well as the same string.
        var refresh = ((SymmetricSecurityKey)key!.Key).Key;
        foreach (var (setting, secret) in AccessTokenSecrets(options))
        {
            if (Decoded(secret) is { } bytes && CryptographicOperations.FixedTimeEquals(bytes, refresh))
            {
                key = null;
                error = $"Jwt:RefreshSigningKey must differ from {setting}: refresh tokens need a secret of their own. {SigningKeys.HowToMakeHmacKey}";
                return false;
            }
        }
        return true;
    }

    /// <summary>Every configured access-token HMAC secret, by the setting that holds it.</summary>
    private static IEnumerable<(string Setting, string Secret)> AccessTokenSecrets(JwtOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.SigningKey))
        {
            yield return ("Jwt:SigningKey", options.SigningKey);
        }
        for (var i = 0; i < options.SigningKeys.Count; i++)
        {
            if (options.SigningKeys[i].Secret is { } secret && !string.IsNullOrWhiteSpace(secret))
            {
                yield return ($"Jwt:SigningKeys:{i}:Secret", secret);
            }
        }
    }

    private static byte[]? Decoded(string base64)
    {
        var bytes = new byte[base64.Length];
        return Convert.TryFromBase64String(base64.Trim(), bytes, out var length) ? bytes[..length] : null;
    }
}

/// <summary>What a valid refresh token says.</summary>
/// <param name="UserId">sub</param>
/// <param name="FamilyId">sid: one login on one device; every rotation keeps it.</param>
/// <param name="Version">ver: the user's token version when the token was issued.</param>
/// <param name="AuthTime">auth_time: when the family began (the login).</param>
/// <param name="ExpiresAt">exp</param>
/// <param name="Amr">amr: how the login was signed in (a token from before amr existed: a password).</param>
public sealed record RefreshClaims(Guid UserId, string FamilyId, int Version, DateTimeOffset AuthTime, DateTimeOffset ExpiresAt, IReadOnlyList<string> Amr);

/// <summary>
/// Issues and reads refresh tokens: JWTs typed <c>rt+jwt</c>, signed with <see cref="RefreshKey"/>, for an
/// audience no API accepts. Their expiry is judged on the injected clock, with no skew: it is our own clock.
/// </summary>
public sealed class RefreshTokens(RefreshKey key, IOptions<JwtOptions> options, TimeProvider time)
{
    public const string TokenType = "rt+jwt";

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false, MapInboundClaims = false };

    private readonly JwtOptions _options = options.Value;

    /// <summary>An audience that is never an API's, so even a validator that ignores <c>typ</c> refuses it.</summary>
    public string Audience => _options.Issuer + "/refresh";

    public IssuedToken Issue(User user, string familyId, DateTimeOffset authTime, IReadOnlyList<string> amr)
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds());
        // idle timeout from now, never past the family's absolute timeout
        var idle = now + _options.RefreshTokenLifetime;
        var absolute = authTime + _options.RefreshTokenAbsoluteLifetime;
        var expires = idle < absolute ? idle : absolute;
        var jti = TokenIssuer.NewTokenId();
        var token = key.Sign(_options.Issuer, Audience, TokenType, now, expires, new Dictionary<string, object>
        {
            [JwtRegisteredClaimNames.Sub] = user.Id.ToString(),
            [JwtRegisteredClaimNames.Jti] = jti,
            [JwtClaimTypes.FamilyId] = familyId,
            [JwtClaimTypes.TokenVersion] = user.TokenVersion,
            [JwtClaimTypes.AuthTime] = authTime.ToUnixTimeSeconds(),
            // the next access tokens of this login say how it was signed in, as the first one did
            [JwtClaimTypes.AuthenticationMethods] = amr.ToArray(),
        });
        return new IssuedToken(token, jti, expires, expires - now);
    }

    /// <summary>
    /// The claims of a refresh token signed by us, or null for anything else: a forgery, an access token, an
    /// expired token (unless <paramref name="allowExpired"/>), or one past the family's absolute lifetime.
    /// </summary>
    public async Task<RefreshClaims?> ReadAsync(string? token, bool allowExpired = false)
    {
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenLength)
        {
            return null;
        }
        // expiry judged below, on the injected clock
        var result = await Handler.ValidateTokenAsync(token, key.ValidationFor(_options.Issuer, Audience, TokenType));
        if (!result.IsValid || !TryClaims(result.ClaimsIdentity, out var claims))
        {
            return null;
        }
        var now = time.GetUtcNow();
        var expired = now >= claims.ExpiresAt || now >= claims.AuthTime + _options.RefreshTokenAbsoluteLifetime;
        return expired && !allowExpired ? null : claims;
    }

    /// <summary>Refresh tokens are a few hundred bytes; anything much longer is refused unread.</summary>
    private const int MaxTokenLength = 4096;

    private static bool TryClaims(ClaimsIdentity identity, out RefreshClaims claims)
    {
        claims = null!;
        if (!Guid.TryParse(identity.FindFirst(JwtRegisteredClaimNames.Sub)?.Value, out var userId) ||
            identity.FindFirst(JwtClaimTypes.FamilyId)?.Value is not { Length: > 0 } familyId ||
            !int.TryParse(identity.FindFirst(JwtClaimTypes.TokenVersion)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var version) ||
            !long.TryParse(identity.FindFirst(JwtClaimTypes.AuthTime)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var authTime) ||
            !long.TryParse(identity.FindFirst(JwtRegisteredClaimNames.Exp)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var exp))
        {
            return false;
        }
        var amr = identity.FindAll(JwtClaimTypes.AuthenticationMethods).Select(c => c.Value).ToList();
        claims = new RefreshClaims(userId, familyId, version,
            DateTimeOffset.FromUnixTimeSeconds(authTime), DateTimeOffset.FromUnixTimeSeconds(exp),
            amr.Count > 0 ? amr : AuthenticationMethods.PasswordOnly);
        return true;
    }
}
