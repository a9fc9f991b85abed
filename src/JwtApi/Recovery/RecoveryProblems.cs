using Microsoft.AspNetCore.Http.HttpResults;

namespace JwtApi.Recovery;

/// <summary>The answers of getting back in, each with one wording wherever it occurs.</summary>
public static class RecoveryProblems
{
    public const string InvalidResetTokenCode = "invalid_reset_token";
    public const string InvalidVerificationTokenCode = "invalid_verification_token";
    public const string EmailTakenCode = "email_taken";
    public const string MailDisabledCode = "mail_disabled";

    /// <summary>One answer for a forged, expired or used reset token, and for an account that is gone or disabled.</summary>
    public static ProblemHttpResult InvalidResetToken() => TypedResults.Problem(
        statusCode: StatusCodes.Status400BadRequest,
        title: "Invalid reset link",
        detail: "The reset link is invalid, expired or already used. Ask for a new one (POST /password/forgot).",
        extensions: new Dictionary<string, object?> { ["error"] = InvalidResetTokenCode });

    /// <summary>One answer for a forged or expired verification token, and for an address the account no longer has.</summary>
    public static ProblemHttpResult InvalidVerificationToken() => TypedResults.Problem(
        statusCode: StatusCodes.Status400BadRequest,
        title: "Invalid verification link",
        detail: "The verification link is invalid or expired, or the account's address has changed since. Ask for a new one (POST /me/email/verification).",
        extensions: new Dictionary<string, object?> { ["error"] = InvalidVerificationTokenCode });

    public static ProblemHttpResult EmailTaken() => TypedResults.Problem(
        statusCode: StatusCodes.Status409Conflict,
        title: "Email address taken",
        detail: "Another account uses that email address (addresses are compared without regard to case).",
        extensions: new Dictionary<string, object?> { ["error"] = EmailTakenCode });

    public static ProblemHttpResult MailDisabled() => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "Email features are off",
        detail: "This service sends no mail (Mail:Enabled is false), so it has no email addresses, verification or password reset by mail. Ask an admin.",
        extensions: new Dictionary<string, object?> { ["error"] = MailDisabledCode });

    public static ProblemHttpResult NoAddress() => TypedResults.Problem(
        statusCode: StatusCodes.Status409Conflict,
        title: "No address to verify",
        detail: "The account has no email address, or it is verified already. Set one with PUT /me/email.");
}
