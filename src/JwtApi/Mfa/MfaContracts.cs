using System.ComponentModel.DataAnnotations;
using JwtApi.Auth;

namespace JwtApi.Mfa;

/// <summary>Whether two-factor sign-in is on for the caller.</summary>
/// <param name="Enabled">True: every login needs a code after the password.</param>
/// <param name="EnrollmentPending">An enrolment was started and waits for its first code.</param>
/// <param name="RecoveryCodesLeft">Unused recovery codes.</param>
public sealed record MfaStatusResponse(bool Enabled, bool EnrollmentPending, int RecoveryCodesLeft);

/// <summary>A new TOTP secret, to put in an authenticator app. Shown once; confirm it with a first code.</summary>
/// <param name="Secret">Base32, for typing into the app by hand.</param>
/// <param name="OtpauthUri">The otpauth:// URI the QR code holds.</param>
/// <param name="QrSvg">The QR code of the URI, as an SVG document.</param>
public sealed record TotpEnrollmentResponse(string Secret, string OtpauthUri, string QrSvg);

/// <summary>Confirms the enrolment: the password again (a stolen access token alone cannot lock the owner out) and a first code.</summary>
/// <param name="Password">The account's password.</param>
/// <param name="Code">Six digits from the authenticator app.</param>
/// <param name="RefreshCookie">Browsers: the new refresh token in the HttpOnly cookie instead of the body.</param>
public sealed record ConfirmTotpRequest(
    [property: Required, MaxLength(1024), Display(Name = "password")] string Password,
    [property: Required, MaxLength(16), Display(Name = "code")] string Code,
    [property: Display(Name = "refresh_cookie")] bool RefreshCookie = false);

/// <summary>Two-factor sign-in is on: the recovery codes, shown this once, and the tokens of a new login (every other one ended).</summary>
/// <param name="RecoveryCodes">Ten single-use codes for when the phone is lost. Keep them somewhere safe.</param>
/// <param name="Tokens">A new login with amr ["pwd","otp"].</param>
public sealed record MfaEnabledResponse(IReadOnlyList<string> RecoveryCodes, TokenResponse Tokens);

/// <summary>A second factor: a code from the authenticator app, or else a recovery code.</summary>
/// <param name="Code">Six digits from the authenticator app.</param>
/// <param name="RecoveryCode">One of the recovery codes (used up).</param>
public sealed record SecondFactorRequest(
    [property: MaxLength(16), Display(Name = "code")] string? Code,
    [property: MaxLength(64), Display(Name = "recovery_code")] string? RecoveryCode);

/// <summary>New recovery codes, shown this once; the old ones no longer work.</summary>
/// <param name="RecoveryCodes">Ten single-use codes.</param>
public sealed record RecoveryCodesResponse(IReadOnlyList<string> RecoveryCodes);

/// <summary>Turns two-factor sign-in off: the password and a second factor.</summary>
/// <param name="Password">The account's password.</param>
/// <param name="Code">Six digits from the authenticator app.</param>
/// <param name="RecoveryCode">Or one of the recovery codes.</param>
/// <param name="RefreshCookie">Browsers: the new refresh token in the HttpOnly cookie instead of the body.</param>
public sealed record DisableMfaRequest(
    [property: Required, MaxLength(1024), Display(Name = "password")] string Password,
    [property: MaxLength(16), Display(Name = "code")] string? Code,
    [property: MaxLength(64), Display(Name = "recovery_code")] string? RecoveryCode,
    [property: Display(Name = "refresh_cookie")] bool RefreshCookie = false);

/// <summary>The second step of a login with two-factor sign-in on.</summary>
/// <param name="MfaToken">The mfa_token of the 401 mfa_required answer of POST /login.</param>
/// <param name="Code">Six digits from the authenticator app.</param>
/// <param name="RecoveryCode">Or one of the recovery codes (used up).</param>
/// <param name="RefreshCookie">Browsers: true puts the refresh token in an HttpOnly cookie, as at /login.</param>
public sealed record LoginMfaRequest(
    [property: Required, MaxLength(MfaTokens.MaxTokenLength), Display(Name = "mfa_token")] string MfaToken,
    [property: MaxLength(16), Display(Name = "code")] string? Code,
    [property: MaxLength(64), Display(Name = "recovery_code")] string? RecoveryCode,
    [property: Display(Name = "refresh_cookie")] bool RefreshCookie = false);
