using JwtApi.Hosting;
using JwtApi.Tokens;
using Microsoft.AspNetCore.Http.HttpResults;

namespace JwtApi.Mfa;

/// <summary>The second factor's answers, each with one wording wherever it occurs.</summary>
public static class MfaProblems
{
    /// <summary>The password was right; the account has a second factor. The mfa_token is good only at POST /login/mfa.</summary>
    public static ProblemHttpResult MfaRequired(IssuedToken mfaToken) => TypedResults.Problem(
        statusCode: StatusCodes.Status401Unauthorized,
        title: "Second factor required",
        detail: "Send the mfa_token with a code from the authenticator app (or a recovery code) to POST /login/mfa.",
        extensions: new Dictionary<string, object?>
        {
            ["error"] = Reasons.MfaRequired,
            ["mfa_token"] = mfaToken.Token,
            ["mfa_token_expires_in"] = (int)mfaToken.Lifetime.TotalSeconds,
        });

    /// <summary>One answer for a wrong, expired or already used code.</summary>
    public static ProblemHttpResult InvalidCode() => TypedResults.Problem(
        statusCode: StatusCodes.Status401Unauthorized,
        title: "Invalid code",
        detail: "The code is incorrect, expired or already used.",
        extensions: new Dictionary<string, object?> { ["error"] = "invalid_code" });

    /// <summary>One answer for an mfa_token that is forged, expired, used up by wrong codes, or of an account changed since.</summary>
    public static ProblemHttpResult LoginAgain() => TypedResults.Problem(
        statusCode: StatusCodes.Status401Unauthorized,
        title: "Log in again",
        detail: "The mfa_token is invalid or expired, or has had too many wrong codes. Log in with the password again.",
        extensions: new Dictionary<string, object?> { ["error"] = Reasons.InvalidMfaToken });

    public static ProblemHttpResult AlreadyOn() => TypedResults.Problem(
        statusCode: StatusCodes.Status409Conflict,
        title: "Two-factor sign-in is on",
        detail: "Two-factor sign-in is already on. To use another authenticator, turn it off first (POST /me/mfa/disable).");

    public static ProblemHttpResult NotOn() => TypedResults.Problem(
        statusCode: StatusCodes.Status409Conflict,
        title: "Two-factor sign-in is off",
        detail: "Two-factor sign-in is not on for this account.");

    public static ProblemHttpResult NotPending() => TypedResults.Problem(
        statusCode: StatusCodes.Status409Conflict,
        title: "No enrolment to confirm",
        detail: "Start an enrolment first (POST /me/mfa/totp), then confirm it with a code of that secret.");
}
