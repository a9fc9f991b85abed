using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using JwtApi.Auth;
using JwtApi.Hosting;
using JwtApi.Storage;
using JwtApi.Tokens;
using JwtApi.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

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

public static class MfaEndpoints
{
    public static IEndpointRouteBuilder MapMfa(this IEndpointRouteBuilder app)
    {
        app.MapPost("/login/mfa", LoginMfa).WithName(nameof(LoginMfa)).WithTags("Auth")
            .WithSummary("The second step of a login with two-factor sign-in on: the mfa_token and a code (or a recovery code).")
            .AllowAnonymous().RequireRateLimiting(RateLimits.PerAddressPolicy).WithMetadata(AuthEndpoints.MaxBody)
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        // Enrollment-only tokens are accepted here (and nowhere else); every call that checks a secret is rate limited.
        var me = app.MapGroup("/me/mfa").WithTags("Two-factor sign-in")
            .RequireAuthorization(Policies.MfaEnrollment).RequireRateLimiting(RateLimits.PerAddressPolicy)
            .WithMetadata(AuthEndpoints.MaxBody)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status429TooManyRequests);
        me.MapGet("", MfaStatus).WithName(nameof(MfaStatus)).WithSummary("Whether two-factor sign-in is on, and how many recovery codes are left.");
        me.MapPost("/totp", StartTotp).WithName(nameof(StartTotp))
            .WithSummary("Start enrolling an authenticator app: a new secret, its otpauth:// URI and QR code (SVG).")
            .ProducesProblem(StatusCodes.Status409Conflict);
        me.MapPost("/totp/confirm", ConfirmTotp).WithName(nameof(ConfirmTotp))
            .WithSummary("Turn two-factor sign-in on with the password and a first code: ten recovery codes (shown once) and a new login; every other login ends.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        me.MapPost("/recovery-codes", RegenerateRecoveryCodes).WithName(nameof(RegenerateRecoveryCodes))
            .WithSummary("Replace the recovery codes (with a current code); the old ones stop working.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        me.MapPost("/disable", DisableMfa).WithName(nameof(DisableMfa))
            .WithSummary("Turn two-factor sign-in off with the password and a code (or a recovery code): a new login; every other one ends.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);

        app.MapPost("/users/{id:guid}/mfa/reset", ResetMfa).WithName(nameof(ResetMfa)).WithTags("Users (admin)")
            .WithSummary("Turn a user's two-factor sign-in off (a lost phone): their recovery codes are deleted and every login of theirs ends.")
            .RequireAuthorization(Policies.Admin).WithMetadata(AuthEndpoints.MaxBody)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    static async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> LoginMfa(
        LoginMfaRequest body, SignIn signIn, RefreshCookie cookie, DeviceCookie deviceCookie, HttpResponse response, CancellationToken ct)
    {
        if (FactorProblem(body.Code, body.RecoveryCode) is { } invalid)
        {
            return invalid;
        }
        var result = await signIn.WithSecondFactorAsync(body.MfaToken, body.Code, body.RecoveryCode, ct);
        if (result.LoginAgain)
        {
            return MfaProblems.LoginAgain();
        }
        if (result.Tokens is null && result.EnrollmentToken is null && result.RetryAfter is null)
        {
            return MfaProblems.InvalidCode();
        }
        return TokenResponses.ForSignIn(result, body.RefreshCookie, cookie, deviceCookie, response) switch
        {
            { Result: Ok<TokenResponse> ok } => ok,
            { Result: ProblemHttpResult problem } => problem,
            _ => throw new InvalidOperationException("A sign-in answer is tokens or a problem."),
        };
    }

    static async Task<Results<Ok<MfaStatusResponse>, ProblemHttpResult>> MfaStatus(
        CurrentUser currentUser, AppDb db, RecoveryCodes recoveryCodes, CancellationToken ct)
    {
        var read = await currentUser.ReadAsync(role: null, ct);
        if (read.User is not { } user)
        {
            return read.Refusal!;
        }
        var authenticator = await db.TotpAuthenticators.AsNoTracking().FirstOrDefaultAsync(a => a.UserId == user.Id, ct);
        return TypedResults.Ok(new MfaStatusResponse(
            authenticator?.ConfirmedAt is not null, authenticator is { ConfirmedAt: null }, await recoveryCodes.LeftAsync(user.Id, ct)));
    }

    static async Task<Results<Ok<TotpEnrollmentResponse>, ProblemHttpResult>> StartTotp(
        CurrentUser currentUser, AppDb db, Totp totp, AuditLog audit, TimeProvider time, HttpResponse response, CancellationToken ct)
    {
        TokenResponses.NoStore(response);   // it holds the secret
        await using var write = await currentUser.BeginWriteAsync(role: null, ct);
        if (write.Caller is not { } user)
        {
            return write.Refusal!;
        }
        var secret = Totp.NewSecret();
        var authenticator = await db.TotpAuthenticators.FirstOrDefaultAsync(a => a.UserId == user.Id, ct);
        if (authenticator is { ConfirmedAt: not null })
        {
            return MfaProblems.AlreadyOn();
        }
        if (authenticator is null)
        {
            db.TotpAuthenticators.Add(new TotpAuthenticator { UserId = user.Id, ProtectedSecret = totp.Protect(secret), CreatedAt = time.GetUtcNow() });
        }
        else
        {
            // a new start replaces an unconfirmed secret; no code of the old one confirms the new one
            authenticator.ProtectedSecret = totp.Protect(secret);
            authenticator.LastUsedStep = 0;
        }
        await db.SaveChangesAsync(ct);
        await write.CommitAsync(ct);
        audit.SecondFactorChanged(user.Id, "enrollment_started");
        var uri = totp.Uri(secret, user.Username);
        return TypedResults.Ok(new TotpEnrollmentResponse(Totp.Base32(secret), uri, Totp.QrSvg(uri)));
    }

    static async Task<Results<Ok<MfaEnabledResponse>, ValidationProblem, ProblemHttpResult>> ConfirmTotp(
        ConfirmTotpRequest body, ClaimsPrincipal caller, CurrentUser currentUser, AppDb db, SignIn signIn, SecondFactor secondFactor,
        RecoveryCodes recoveryCodes, TokenRevoker revoker, AuditLog audit, TimeProvider time, RefreshCookie cookie,
        DeviceCookie deviceCookie, HttpResponse response, CancellationToken ct)
    {
        if (FactorProblem(body.Code, null) is { } invalid)
        {
            return invalid;
        }
        var read = await currentUser.ReadAsync(role: null, ct);
        if (read.User is not { } user)
        {
            return read.Refusal!;
        }
        if (!await db.TotpAuthenticators.AnyAsync(a => a.UserId == user.Id && a.ConfirmedAt == null, ct))
        {
            return MfaProblems.NotPending();
        }
        var (wrongPassword, passwordThrottled) = await CheckPasswordAsync(signIn, user, body.Password, response, ct);
        if (passwordThrottled is not null)
        {
            return passwordThrottled;
        }
        if (wrongPassword is not null)
        {
            return wrongPassword;
        }
        var check = await secondFactor.VerifyAsync(user, body.Code, null, null, null, pending: true, ct);
        var (wrongCode, codeThrottled) = CodeRefusal(check, response);
        if (codeThrottled is not null)
        {
            return codeThrottled;
        }
        if (wrongCode is not null)
        {
            return wrongCode;
        }

        await using var write = await currentUser.BeginWriteAsync(role: null, ct);
        if (write.Caller is not { } self)
        {
            return write.Refusal!;
        }
        // Still the secret the code was checked against: a restarted enrolment resets the step to 0.
        var authenticator = await db.TotpAuthenticators.FirstOrDefaultAsync(a => a.UserId == self.Id && a.ConfirmedAt == null, ct);
        if (authenticator is not { LastUsedStep: > 0 })
        {
            return MfaProblems.NotPending();
        }
        authenticator.ConfirmedAt = time.GetUtcNow();
        var codes = recoveryCodes.Replace(self.Id, await db.RecoveryCodes.Where(r => r.UserId == self.Id).ToListAsync(ct));
        EndLogins(self, caller, revoker);
        await db.SaveChangesAsync(ct);
        await write.CommitAsync(ct);
        audit.SecondFactorChanged(self.Id, "enabled");
        var tokens = Respond(signIn.Complete(self, AuthenticationMethods.PasswordAndOtp, null), body.RefreshCookie, cookie, deviceCookie, response);
        return TypedResults.Ok(new MfaEnabledResponse(codes, tokens));
    }

    static async Task<Results<Ok<RecoveryCodesResponse>, ValidationProblem, ProblemHttpResult>> RegenerateRecoveryCodes(
        SecondFactorRequest body, CurrentUser currentUser, AppDb db, SecondFactor secondFactor, RecoveryCodes recoveryCodes,
        AuditLog audit, HttpResponse response, CancellationToken ct)
    {
        TokenResponses.NoStore(response);
        if (FactorProblem(body.Code, body.RecoveryCode) is { } invalid)
        {
            return invalid;
        }
        var read = await currentUser.ReadAsync(role: null, ct);
        if (read.User is not { } user)
        {
            return read.Refusal!;
        }
        if (!await secondFactor.IsOnAsync(user.Id, ct))
        {
            return MfaProblems.NotOn();
        }
        var check = await secondFactor.VerifyAsync(user, body.Code, body.RecoveryCode, null, null, pending: false, ct);
        var (wrongCode, codeThrottled) = CodeRefusal(check, response);
        if (codeThrottled is not null)
        {
            return codeThrottled;
        }
        if (wrongCode is not null)
        {
            return wrongCode;
        }
        await using var write = await currentUser.BeginWriteAsync(role: null, ct);
        if (write.Caller is not { } self)
        {
            return write.Refusal!;
        }
        if (!await secondFactor.IsOnAsync(self.Id, ct))
        {
            return MfaProblems.NotOn();
        }
        var codes = recoveryCodes.Replace(self.Id, await db.RecoveryCodes.Where(r => r.UserId == self.Id).ToListAsync(ct));
        await db.SaveChangesAsync(ct);
        await write.CommitAsync(ct);
        audit.SecondFactorChanged(self.Id, "recovery_codes_regenerated");
        return TypedResults.Ok(new RecoveryCodesResponse(codes));
    }

    static async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> DisableMfa(
        DisableMfaRequest body, ClaimsPrincipal caller, CurrentUser currentUser, AppDb db, SignIn signIn, SecondFactor secondFactor,
        TokenRevoker revoker, AuditLog audit, RefreshCookie cookie, DeviceCookie deviceCookie, HttpResponse response, CancellationToken ct)
    {
        if (FactorProblem(body.Code, body.RecoveryCode) is { } invalid)
        {
            return invalid;
        }
        var read = await currentUser.ReadAsync(role: null, ct);
        if (read.User is not { } user)
        {
            return read.Refusal!;
        }
        if (!await secondFactor.IsOnAsync(user.Id, ct))
        {
            return MfaProblems.NotOn();
        }
        var (wrongPassword, passwordThrottled) = await CheckPasswordAsync(signIn, user, body.Password, response, ct);
        if (passwordThrottled is not null)
        {
            return passwordThrottled;
        }
        if (wrongPassword is not null)
        {
            return wrongPassword;
        }
        var check = await secondFactor.VerifyAsync(user, body.Code, body.RecoveryCode, null, null, pending: false, ct);
        var (wrongCode, codeThrottled) = CodeRefusal(check, response);
        if (codeThrottled is not null)
        {
            return codeThrottled;
        }
        if (wrongCode is not null)
        {
            return wrongCode;
        }
        await using var write = await currentUser.BeginWriteAsync(role: null, ct);
        if (write.Caller is not { } self)
        {
            return write.Refusal!;
        }
        await RemoveAsync(db, self.Id, ct);
        EndLogins(self, caller, revoker);
        await db.SaveChangesAsync(ct);
        await write.CommitAsync(ct);
        audit.SecondFactorChanged(self.Id, "disabled");
        return TypedResults.Ok(Respond(signIn.Complete(self, AuthenticationMethods.PasswordOnly, null), body.RefreshCookie, cookie, deviceCookie, response));
    }

    static async Task<Results<NoContent, ProblemHttpResult>> ResetMfa(
        Guid id, CurrentUser currentUser, AppDb db, TokenRevoker revoker, AuditLog audit, CancellationToken ct)
    {
        await using var write = await currentUser.BeginWriteAsync(Roles.Admin, ct);
        if (write.Refusal is { } refusal)
        {
            return refusal;
        }
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == id, ct);
        if (user is null)
        {
            return Problems.UserNotFound();
        }
        await RemoveAsync(db, user.Id, ct);
        // whoever holds the lost phone and a session of the user is out as well
        revoker.EndAllTokensOf(user);
        await db.SaveChangesAsync(ct);
        await write.CommitAsync(ct);
        audit.SecondFactorChanged(user.Id, "reset");
        return TypedResults.NoContent();
    }

    private static async Task RemoveAsync(AppDb db, Guid userId, CancellationToken ct)
    {
        db.TotpAuthenticators.RemoveRange(await db.TotpAuthenticators.Where(a => a.UserId == userId).ToListAsync(ct));
        db.RecoveryCodes.RemoveRange(await db.RecoveryCodes.Where(r => r.UserId == userId).ToListAsync(ct));
    }

    /// <summary>As a password change: every other login of the user ends, and this access token with them.</summary>
    private static void EndLogins(User user, ClaimsPrincipal caller, TokenRevoker revoker)
    {
        var token = AccessTokenClaims.Of(caller);
        revoker.EndAllTokensOf(user);
        revoker.AccessToken(token.TokenId, token.ExpiresAt);
    }

    private static TokenResponse Respond(SignInResult result, bool refreshCookie, RefreshCookie cookie, DeviceCookie deviceCookie, HttpResponse response) =>
        TokenResponses.ForSignIn(result, refreshCookie, cookie, deviceCookie, response).Result is Ok<TokenResponse> { Value: { } tokens }
            ? tokens
            : throw new InvalidOperationException("A completed sign-in answers tokens.");

    /// <summary>
    /// The password, checked as a login checks it (throttled, counted, audited): a 400 naming the field when wrong
    /// (a 401 would read as "your token is bad"), a 429 when throttled, both null when right.
    /// </summary>
    private static async Task<(ValidationProblem? Wrong, ProblemHttpResult? Throttled)> CheckPasswordAsync(
        SignIn signIn, User user, string password, HttpResponse response, CancellationToken ct)
    {
        var check = await signIn.VerifyPasswordAsync(user, password, ct);
        return check.Verdict switch
        {
            PasswordVerdict.Verified => (null, null),
            PasswordVerdict.Throttled => (null, RateLimits.TooManyRequests(response, check.RetryAfter!.Value)),
            _ => (Invalid("password", "The password is incorrect."), null),
        };
    }

    /// <summary>A second factor refused at a /me/mfa endpoint: 400 naming the field, or 429.</summary>
    private static (ValidationProblem? Wrong, ProblemHttpResult? Throttled) CodeRefusal(FactorCheck check, HttpResponse response) => check.Verdict switch
    {
        FactorVerdict.Verified => (null, null),
        FactorVerdict.Throttled => (null, RateLimits.TooManyRequests(response, check.RetryAfter!.Value)),
        _ => (Invalid("code", "The code is incorrect, expired or already used."), null),
    };

    private static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>Exactly one of a code (six digits) and a recovery code.</summary>
    internal static ValidationProblem? FactorProblem(string? code, string? recoveryCode)
    {
        var hasCode = !string.IsNullOrEmpty(code);
        if (hasCode == !string.IsNullOrEmpty(recoveryCode))
        {
            return Invalid("code", "Send either code (six digits from the authenticator app) or recovery_code, not both.");
        }
        return hasCode && !Totp.IsWellFormed(code) ? Invalid("code", "The code is six digits.") : null;
    }
}
