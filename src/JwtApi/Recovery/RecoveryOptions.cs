using System.ComponentModel.DataAnnotations;
using JwtApi.Auth;
using Microsoft.Extensions.Options;

namespace JwtApi.Recovery;

/// <summary>The password-reset and address-verification tokens, and how many such mails an account receives (<c>Recovery</c>).</summary>
public sealed class RecoveryOptions
{
    public const string Section = "Recovery";

    /// <summary>How long a password-reset link works (OWASP: short; it is also dead once the password changes).</summary>
    [Range(typeof(TimeSpan), "00:05:00", "1.00:00:00")]
    public TimeSpan ResetTokenLifetime { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How long an address-verification link works (dead once the address changes).</summary>
    [Range(typeof(TimeSpan), "00:10:00", "7.00:00:00")]
    public TimeSpan VerificationTokenLifetime { get; init; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Reset and verification mails one account receives per window, whoever asks and from wherever: a flood of
    /// /password/forgot requests cannot fill a mailbox. Past it, requests are answered the same and send nothing.
    /// </summary>
    [Required, ValidateObjectMembers]
    public WindowLimit MailsPerAccount { get; init; } = new() { PermitLimit = 5, Window = TimeSpan.FromHours(1) };
}

[OptionsValidator]
internal sealed partial class RecoveryOptionsValidator : IValidateOptions<RecoveryOptions>;
