using JwtApi.Auth;
using JwtApi.Mail;
using JwtApi.Storage;
using JwtApi.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MimeKit;

namespace JwtApi.Recovery;

/// <summary>
/// The mails of getting back in, as jobs for the <see cref="MailQueue"/>. Each looks the account up when the
/// sender composes it, after the request was answered: <c>/password/forgot</c> answers alike, in the same time,
/// whether or not there is an account and an address to write to. A mail goes only to a verified address (the
/// verification mail itself excepted), at most <see cref="RecoveryOptions.MailsPerAccount"/> per window, and
/// never says whether another account exists.
/// </summary>
public static class RecoveryMails
{
    public const string PasswordResetKind = "password_reset";
    public const string VerificationKind = "email_verification";
    public const string PasswordChangedKind = "password_changed";
    public const string EmailChangedKind = "email_changed";

    /// <summary>A reset link for the account with this username or verified address (exactly one is given), if any.</summary>
    public static MailJob PasswordReset(string? username, string? email) => new(PasswordResetKind, async (services, ct) =>
    {
        // names and addresses no account can have are not looked up (PostgreSQL refuses a NUL in a query)
        var users = services.GetRequiredService<AppDb>().Users.AsNoTracking();
        var normalizedName = username is not null && User.IsValidUsername(username) ? User.Normalize(username) : null;
        var normalizedEmail = username is null ? EmailAddress.Normalize(email) : null;
        var user = normalizedName is not null
            ? await users.FirstOrDefaultAsync(u => u.NormalizedUsername == normalizedName, ct)
            : normalizedEmail is not null
                ? await users.FirstOrDefaultAsync(u => u.NormalizedEmail == normalizedEmail, ct)
                : null;
        if (user is not { Disabled: false, EmailVerified: true, Email: { } to } || !await TakeMailPermitAsync(services, user, ct))
        {
            return null;
        }
        var tokens = services.GetRequiredService<RecoveryTokens>();
        var link = services.GetRequiredService<MailLinks>().Reset(tokens.IssueReset(user));
        return Message(services, to, "Reset your password", $"""
            Hello {user.Username},

            Someone (we hope you) asked to reset the password of your account. To choose a new one, open this link
            within {Minutes(tokens.ResetLifetime)}:

            {link}

            It works once. If you did not ask for this, ignore this mail: your password stays as it is.
            """);
    });

    /// <summary>A verification link for the user's current address, while it is this one and unverified.</summary>
    public static MailJob Verification(Guid userId, string normalizedEmail) => new(VerificationKind, async (services, ct) =>
    {
        var user = await services.GetRequiredService<AppDb>().Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, ct);
        if (user is not { Disabled: false, EmailVerified: false, Email: { } to } || user.NormalizedEmail != normalizedEmail ||
            !await TakeMailPermitAsync(services, user, ct))
        {
            return null;
        }
        var tokens = services.GetRequiredService<RecoveryTokens>();
        var link = services.GetRequiredService<MailLinks>().Verify(tokens.IssueVerification(user));
        return Message(services, to, "Confirm your email address", $"""
            Hello {user.Username},

            Please confirm that this is your email address by opening this link within {Minutes(tokens.VerificationLifetime)}:

            {link}

            Once it is confirmed, you can reset a forgotten password through it. If you did not give this address,
            ignore this mail.
            """);
    });

    /// <summary>A notice to the verified address that the password changed (by a reset or by the user).</summary>
    public static MailJob PasswordChanged(Guid userId) => new(PasswordChangedKind, async (services, ct) =>
    {
        var user = await services.GetRequiredService<AppDb>().Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, ct);
        return user is not { EmailVerified: true, Email: { } to }
            ? null
            : Message(services, to, "Your password was changed", $"""
                Hello {user.Username},

                The password of your account was just changed, and every device signed in to it was signed out.

                If this was not you, reset your password now through "Forgot password?" and tell your administrator.
                """);
    });

    /// <summary>A notice to the old, verified address that the account's address changed.</summary>
    public static MailJob EmailChanged(string oldAddress, string username) => new(EmailChangedKind, (services, _) =>
        Task.FromResult<MimeMessage?>(Message(services, oldAddress, "Your email address was changed", $"""
            Hello {username},

            The email address of your account was just changed, so mail for it (password resets among it) no
            longer comes here.

            If this was not you, change your password and tell your administrator.
            """)));

    // One permit per mail under the account, in the database, so every instance counts together; the same
    // upsert as password attempts (LoginThrottle), never given back.
    private static async Task<bool> TakeMailPermitAsync(IServiceProvider services, User user, CancellationToken ct)
    {
        var limit = services.GetRequiredService<IOptions<RecoveryOptions>>().Value.MailsPerAccount;
        var (permit, _) = await services.GetRequiredService<LoginThrottle>().TryTakeAsync($"mail:{user.Id}", limit, ct);
        return permit is not null;
    }

    private static MimeMessage Message(IServiceProvider services, string to, string subject, string text)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(services.GetRequiredService<IOptions<MailOptions>>().Value.From));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = text };
        return message;
    }

    private static string Minutes(TimeSpan lifetime) => lifetime switch
    {
        { TotalMinutes: 60 } => "1 hour",
        { TotalHours: > 1, Minutes: 0, Seconds: 0 } => $"{lifetime.TotalHours:0} hours",
        _ => $"{lifetime.TotalMinutes:0} minutes",
    };
}
