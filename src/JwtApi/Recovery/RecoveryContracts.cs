using System.ComponentModel.DataAnnotations;
using JwtApi.Users;

namespace JwtApi.Recovery;

/// <summary>Who forgot the password: exactly one of the two.</summary>
/// <param name="Username">The account's username.</param>
/// <param name="Email">The account's verified email address.</param>
public sealed record ForgotPasswordRequest(
    [property: MaxLength(256), Display(Name = "username")] string? Username,
    [property: MaxLength(EmailAddress.MaxLength), Display(Name = "email")] string? Email);

/// <summary>The same answer to every request, whether or not a mail goes out.</summary>
/// <param name="Detail">What happens next.</param>
public sealed record ForgotPasswordResponse(string Detail)
{
    public static readonly ForgotPasswordResponse Accepted = new(
        "If an account matches and has a verified email address, a link to reset its password has been sent there. It works once and expires soon.");
}

/// <summary>A new password, with the token of a reset link.</summary>
/// <param name="Token">The token from the link in the reset mail.</param>
/// <param name="NewPassword">8-128 characters and at most 72 bytes in UTF-8.</param>
public sealed record ResetPasswordRequest(
    [property: Required, MaxLength(RecoveryTokens.MaxTokenLength), Display(Name = "token")] string Token,
    [property: Required, MaxLength(1024), Display(Name = "new_password")] string NewPassword);

/// <summary>The token of a verification link.</summary>
/// <param name="Token">The token from the link in the verification mail.</param>
public sealed record VerifyEmailRequest(
    [property: Required, MaxLength(RecoveryTokens.MaxTokenLength), Display(Name = "token")] string Token);

/// <summary>A new email address for the caller.</summary>
/// <param name="Email">The new address; a verification mail goes to it.</param>
/// <param name="Password">The caller's password: a stolen access token alone must not redirect the account's mail.</param>
public sealed record ChangeEmailRequest(
    [property: Required, MaxLength(EmailAddress.MaxLength), Display(Name = "email")] string Email,
    [property: Required, MaxLength(1024), Display(Name = "password")] string Password);

/// <summary>An account's email address and whether it has been verified.</summary>
/// <param name="Email">The address, or null when the account has none.</param>
/// <param name="EmailVerified">True once a verification mail sent to it was followed.</param>
public sealed record EmailStatus(string? Email, bool EmailVerified)
{
    public static EmailStatus Of(User user) => new(user.Email, user.EmailVerified);
}
