using System.ComponentModel.DataAnnotations;

namespace JwtApi.Tokens;

/// <summary>Access-token settings, bound from the <c>Jwt</c> section and checked before the service starts.</summary>
public sealed class JwtOptions
{
    public const string Section = "Jwt";

    /// <summary>The <c>iss</c> of every token; validators must expect exactly this value.</summary>
    [Required(ErrorMessage = "Jwt:Issuer is required: set it to the name or URL other services expect in 'iss'.")]
    public string Issuer { get; init; } = "";

    /// <summary>The <c>aud</c> of access tokens: the API that accepts them.</summary>
    [Required(ErrorMessage = "Jwt:Audience is required: set it to the name of the API that accepts the tokens.")]
    public string Audience { get; init; } = "";

    /// <summary>
    /// Single-key shorthand: <c>HS256</c> (shared secret), <c>RS256</c> (RSA key pair) or <c>ES256</c> (P-256
    /// key pair). Ignored when <see cref="SigningKeys"/> lists keys.
    /// </summary>
    public string Algorithm { get; init; } = SigningAlgorithms.HS256;

    /// <summary>
    /// The key set, for rotation: exactly one key is active and signs; the others only validate, until the
    /// tokens they signed have expired.
    /// </summary>
    public List<SigningKeyOptions> SigningKeys { get; init; } = [];

    /// <summary>HS256 secret, base64, at least 32 bytes. Never commit one: use an environment variable or a secret store.</summary>
    public string? SigningKey { get; init; }

    /// <summary>RS256 or ES256 private key: path to a PEM file (PKCS#1, SEC1 or PKCS#8).</summary>
    public string? PrivateKeyPath { get; init; }

    /// <summary>How long an access token lives. Short, because a stolen one works until it expires.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "01:00:00",
        ErrorMessage = "Jwt:AccessTokenLifetime must be between 00:01:00 and 01:00:00: access tokens are meant to be short-lived.")]
    public TimeSpan AccessTokenLifetime { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// HS256 secret (base64, at least 32 bytes) that signs refresh tokens. Internal: never published, never
    /// the access-token key, so no API that accepts access tokens can be handed a refresh token.
    /// </summary>
    public string? RefreshSigningKey { get; init; }

    /// <summary>Idle timeout: a refresh token unused for this long expires. Each refresh starts it again.</summary>
    [Range(typeof(TimeSpan), "00:05:00", "90.00:00:00",
        ErrorMessage = "Jwt:RefreshTokenLifetime must be between 00:05:00 and 90.00:00:00.")]
    public TimeSpan RefreshTokenLifetime { get; init; } = TimeSpan.FromDays(14);

    /// <summary>Absolute timeout: no refresh extends a login (a token family) past this, counted from the login.</summary>
    [Range(typeof(TimeSpan), "00:05:00", "365.00:00:00",
        ErrorMessage = "Jwt:RefreshTokenAbsoluteLifetime must be between 00:05:00 and 365.00:00:00.")]
    public TimeSpan RefreshTokenAbsoluteLifetime { get; init; } = TimeSpan.FromDays(30);

    /// <summary>How often each instance reads revocations made by other instances into its in-memory list.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00",
        ErrorMessage = "Jwt:RevocationSyncInterval must be between 00:00:01 and 00:05:00.")]
    public TimeSpan RevocationSyncInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// On PostgreSQL, each instance also learns other instances' revocations from the database's notifications
    /// (LISTEN/NOTIFY), within a fraction of a second; <c>Jwt:RevocationSyncInterval</c> stays the fallback. Turn off where
    /// LISTEN cannot work, such as through a pooler in transaction mode (PgBouncer). No effect on SQLite.
    /// </summary>
    public bool RevocationNotifications { get; init; } = true;

    /// <summary>Validated tokens remembered so a repeated token skips the signature check (<see cref="ValidatedTokenCache"/>).</summary>
    public ValidationCacheOptions ValidationCache { get; init; } = new();

    /// <summary>Tolerance for clocks that disagree, applied to <c>exp</c> and <c>nbf</c>.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00",
        ErrorMessage = "Jwt:ClockSkew must be between 00:00:00 and 00:05:00.")]
    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>One key of <see cref="JwtOptions.SigningKeys"/>.</summary>
public sealed class SigningKeyOptions
{
    /// <summary>The key's <c>kid</c>; unset, the RFC 7638 thumbprint (RS256, ES256) or a hash of the secret (HS256).</summary>
    public string? KeyId { get; init; }

    /// <summary><c>HS256</c>, <c>RS256</c> or <c>ES256</c>: the one algorithm this key is used with.</summary>
    public string Algorithm { get; init; } = "";

    /// <summary>RS256/ES256: a PEM file. A key that only validates may be the public key alone.</summary>
    public string? PemPath { get; init; }

    /// <summary>RS256/ES256: the PEM text itself, e.g. from a secret store.</summary>
    public string? Pem { get; init; }

    /// <summary>HS256: the secret, base64, at least 32 bytes.</summary>
    public string? Secret { get; init; }

    /// <summary>Exactly one key is active: it signs new tokens.</summary>
    public bool Active { get; init; }
}

public static class SigningAlgorithms
{
    public const string HS256 = "HS256";
    public const string RS256 = "RS256";
    public const string ES256 = "ES256";

    public static readonly IReadOnlyList<string> Supported = [HS256, RS256, ES256];
}
