using System.ComponentModel.DataAnnotations;

namespace JwtApi.Mfa;

/// <summary>Two-factor sign-in (<c>Mfa</c>). Which roles must use it is <c>Auth:RequireMfaFor</c>.</summary>
public sealed class MfaOptions
{
    public const string Section = "Mfa";

    /// <summary>The name authenticator apps show beside the username (the otpauth URI's issuer).</summary>
    [Required, StringLength(64, MinimumLength = 1)]
    [RegularExpression("^[^:]+$", ErrorMessage = "Mfa:Issuer may not contain ':' (it separates the issuer from the username in authenticator apps).")]
    public string Issuer { get; init; } = "JwtApi";

    /// <summary>How long the mfa_token of a right password is good for the second step (POST /login/mfa).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "00:15:00")]
    public TimeSpan MfaTokenLifetime { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Wrong codes after which an mfa_token is dead (the user logs in with the password again).</summary>
    [Range(1, 10)]
    public int MaxCodeAttempts { get; init; } = 5;
}
