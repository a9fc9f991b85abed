using JwtApi.Auth;
using JwtApi.Hosting;
using JwtApi.Mail;
using JwtApi.Storage;
using JwtApi.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace JwtApi.Recovery;

public static class RecoveryEndpoints
{
    public static IEndpointRouteBuilder MapRecovery(this IEndpointRouteBuilder app)
    {
        // anonymous, so limited per client address like /login; each account also receives at most
        // Recovery:MailsPerAccount mails per window, whoever asks
        var anonymous = app.MapGroup("").WithTags("Getting back in").AllowAnonymous()
            .RequireRateLimiting(RateLimits.PerAddressPolicy).WithMetadata(AuthEndpoints.MaxBody)
            .AddEndpointFilter(MailEnabled)
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status429TooManyRequests);
        anonymous.MapPost("/password/forgot", ForgotPassword).WithName(nameof(ForgotPassword))
            .WithSummary("Mail a password-reset link to the account's verified address. Always 202, with the same body, whether or not a mail goes out.");
        anonymous.MapPost("/password/reset", ResetPassword).WithName(nameof(ResetPassword))
            .WithSummary("Set a new password with the token of a reset link: every login and device token of the user ends.");
        anonymous.MapPost("/email/verify", VerifyEmail).WithName(nameof(VerifyEmail))
            .WithSummary("Mark the account's address verified with the token of a verification link.");

        var me = app.MapGroup("/me/email").WithTags("Users").RequireAuthorization().WithMetadata(AuthEndpoints.MaxBody)
            .AddEndpointFilter(MailEnabled)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound);
        me.MapPut("", ChangeEmail).WithName(nameof(ChangeEmail))
            .WithSummary("Set the caller's email address (needs the password): unverified until the mail sent to it is followed.")
            // it verifies a password: a stolen access token must not make it a guessing oracle
            .RequireRateLimiting(RateLimits.PerAddressPolicy)
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status429TooManyRequests);
        me.MapPost("/verification", ResendVerification).WithName(nameof(ResendVerification))
            .WithSummary("Send the verification mail for the caller's unverified address again.")
            .RequireRateLimiting(RateLimits.PerAddressPolicy)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status429TooManyRequests);
        return app;
    }

    // With Mail:Enabled off there are no addresses and no mail: every endpoint here answers 404 alike.
    private static async ValueTask<object?> MailEnabled(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        context.HttpContext.RequestServices.GetRequiredService<IOptions<MailOptions>>().Value.Enabled
            ? await next(context)
            : RecoveryProblems.MailDisabled();

    /// <remarks>
    /// Nothing here looks at the database: the job that looks the account up runs after the answer, so a known
    /// name, an unknown one, an unverified address and a verified one get the same 202 in the same time. A
    /// malformed address is a 400: it says something about the input, nothing about any account.
    /// </remarks>
    static Results<Accepted<ForgotPasswordResponse>, ValidationProblem> ForgotPassword(ForgotPasswordRequest body, MailQueue mail)
    {
        var username = string.IsNullOrEmpty(body.Username) ? null : body.Username;
        var email = string.IsNullOrEmpty(body.Email) ? null : body.Email;
        if ((username is null) == (email is null))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                [username is null ? "username" : "email"] = ["Give either the username or the email address, not both."],
            });
        }
        if (email is not null && EmailAddress.Parse(email, out var error) is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["email"] = [error!] });
        }
        mail.Enqueue(RecoveryMails.PasswordReset(username, email));
        return TypedResults.Accepted((string?)null, ForgotPasswordResponse.Accepted);
    }

    static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> ResetPassword(
        ResetPasswordRequest body, RecoveryTokens recoveryTokens, AppDb db, PasswordHasher hasher, PasswordPolicy policy,
        AccountChanges changes, MailQueue mail, AuditLog audit, CancellationToken ct)
    {
        var claims = await recoveryTokens.ReadResetAsync(body.Token);
        var user = claims is null ? null : await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == claims.UserId, ct);
        if (claims is null || user is null || !claims.Fits(user))
        {
            audit.PasswordResetRefused(claims?.UserId);
            return RecoveryProblems.InvalidResetToken();
        }
        if (policy.Check(body.NewPassword, user.Username) is { Count: > 0 } problems)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["new_password"] = [.. problems] });
        }
        var newHash = await hasher.HashAsync(body.NewPassword, ct);

        // checked again at the write, in turn with every other account write on every instance
        await using var write = await changes.BeginOperatorWriteAsync(ct);
        if ((await changes.ResetPasswordAsync(write, claims.UserId, claims.Fits, newHash, ct)).User is null)
        {
            audit.PasswordResetRefused(claims.UserId);
            return RecoveryProblems.InvalidResetToken();
        }
        mail.Enqueue(RecoveryMails.PasswordChanged(claims.UserId));
        return TypedResults.NoContent();
    }

    static async Task<Results<Ok<EmailStatus>, ValidationProblem, ProblemHttpResult>> VerifyEmail(
        VerifyEmailRequest body, RecoveryTokens recoveryTokens, AppDb db, TimeProvider time, AuditLog audit, CancellationToken ct)
    {
        if (await recoveryTokens.ReadVerificationAsync(body.Token) is not { } claims)
        {
            return RecoveryProblems.InvalidVerificationToken();
        }
        // in turn with the account's other writes: an address changed meanwhile is not marked verified by a link to the old one
        await using var write = await AccountWrite.TakeTurnAsync(db, ct);
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == claims.UserId, ct);
        if (user is null || !claims.Fits(user))
        {
            return RecoveryProblems.InvalidVerificationToken();
        }
        if (!user.EmailVerified)
        {
            user.MarkEmailVerified(time.GetUtcNow());
            await db.SaveChangesAsync(ct);
            await write.CommitAsync(ct);
            audit.EmailVerified(user.Id);
        }
        return TypedResults.Ok(EmailStatus.Of(user));
    }

    static async Task<Results<Ok<EmailStatus>, ValidationProblem, ProblemHttpResult>> ChangeEmail(
        ChangeEmailRequest body, CurrentUser currentUser, SignIn signIn, AppDb db, MailQueue mail, TimeProvider time,
        AuditLog audit, HttpContext http, CancellationToken ct)
    {
        // a missing address is a field error here, where at /register it means "none"
        if (UserAccounts.ParseEmail(body.Email ?? "", mailEnabled: true, out var errors) is not { } email)
        {
            return TypedResults.ValidationProblem(errors ?? new() { ["email"] = ["Give the new email address."] });
        }
        var read = await currentUser.ReadAsync(role: null, ct);
        if (read.User is not { } user)
        {
            return read.Refusal!;
        }
        // as at PUT /me/password: throttled, counted and audited as a login
        var check = await signIn.VerifyPasswordAsync(user, body.Password, ct);
        if (check.Verdict == PasswordVerdict.Throttled)
        {
            return RateLimits.TooManyRequests(http.Response, check.RetryAfter!.Value);
        }
        if (check.Verdict != PasswordVerdict.Verified)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["password"] = ["The password is incorrect."] });
        }

        await using var write = await currentUser.BeginWriteAsync(role: null, ct);
        if (write.Caller is not { } self)
        {
            return write.Refusal!;
        }
        if (self.NormalizedEmail == email.Normalized)
        {
            return TypedResults.Ok(EmailStatus.Of(self));   // nothing changes; POST /me/email/verification sends the mail again
        }
        if (await db.Users.AnyAsync(u => u.NormalizedEmail == email.Normalized, ct))
        {
            return RecoveryProblems.EmailTaken();
        }
        var (oldAddress, oldVerified) = (self.Email, self.EmailVerified);
        self.SetEmail(email, time.GetUtcNow());
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (DatabaseErrors.IsUniqueViolation(e))
        {
            return RecoveryProblems.EmailTaken();   // another account took it between the check and the write
        }
        await write.CommitAsync(ct);
        audit.EmailChanged(self.Id);
        mail.Enqueue(RecoveryMails.Verification(self.Id, email.Normalized));
        if (oldAddress is not null && oldVerified)
        {
            mail.Enqueue(RecoveryMails.EmailChanged(oldAddress, self.Username));
        }
        return TypedResults.Ok(EmailStatus.Of(self));
    }

    static async Task<Results<Accepted, ProblemHttpResult>> ResendVerification(CurrentUser currentUser, MailQueue mail, CancellationToken ct)
    {
        var read = await currentUser.ReadAsync(role: null, ct);
        if (read.User is not { } user)
        {
            return read.Refusal!;
        }
        if (user is not { Email: not null, EmailVerified: false })
        {
            return RecoveryProblems.NoAddress();
        }
        mail.Enqueue(RecoveryMails.Verification(user.Id, user.NormalizedEmail!));
        return TypedResults.Accepted((string?)null);
    }
}
