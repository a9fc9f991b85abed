using System.Security.Claims;
using JwtApi.Auth;
using JwtApi.Hosting;
using JwtApi.Storage;
using JwtApi.Tokens;
using JwtApi.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace JwtApi.Mfa;

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
        var (wrong, throttled) = await ProveAsync(signIn, secondFactor, user, body.Password, body.Code, null, pending: true, response, ct);
        if (throttled is not null)
        {
            return throttled;
        }
        if (wrong is not null)
        {
            return wrong;
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
        SecondFactorRequest body, CurrentUser currentUser, AppDb db, SignIn signIn, SecondFactor secondFactor,
        RecoveryCodes recoveryCodes, AuditLog audit, HttpResponse response, CancellationToken ct)
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
        var (wrong, throttled) = await ProveAsync(signIn, secondFactor, user, null, body.Code, body.RecoveryCode, pending: false, response, ct);
        if (throttled is not null)
        {
            return throttled;
        }
        if (wrong is not null)
        {
            return wrong;
        }
        await using var write = await currentUser.BeginWriteAsync(role: null, ct);
        if (write.Caller is not { } self)
        {
            return write.Refusal!;
        }
        // Still on: whatever turns it off (disable, an admin's reset) moves the token version, so the caller check above refuses.
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
        var (wrong, throttled) = await ProveAsync(signIn, secondFactor, user, body.Password, body.Code, body.RecoveryCode, pending: false, response, ct);
        if (throttled is not null)
        {
            return throttled;
        }
        if (wrong is not null)
        {
            return wrong;
        }
        await using var write = await currentUser.BeginWriteAsync(role: null, ct);
        if (write.Caller is not { } self)
        {
            return write.Refusal!;
        }
        await SecondFactor.RemoveAsync(db, self.Id, ct);
        EndLogins(self, caller, revoker);
        await db.SaveChangesAsync(ct);
        await write.CommitAsync(ct);
        audit.SecondFactorChanged(self.Id, "disabled");
        return TypedResults.Ok(Respond(signIn.Complete(self, AuthenticationMethods.PasswordOnly, null), body.RefreshCookie, cookie, deviceCookie, response));
    }

    static async Task<Results<NoContent, ProblemHttpResult>> ResetMfa(
        Guid id, CurrentUser currentUser, AccountChanges changes, CancellationToken ct)
    {
        await using var write = await currentUser.BeginWriteAsync(Roles.Admin, ct);
        if (write.Refusal is { } refusal)
        {
            return refusal;
        }
        var reset = await changes.ResetSecondFactorAsync(write, id, ct);
        return reset.User is null ? reset.ToProblem() : TypedResults.NoContent();
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
    /// What a change of the second factor asks for: the password (when <paramref name="password"/> is given), then a
    /// code or a recovery code, each checked as a login checks it (throttled, counted, audited). Both null when
    /// proven; else a 400 naming the wrong field (a 401 would read as "your token is bad") or a 429.
    /// </summary>
    private static async Task<(ValidationProblem? Wrong, ProblemHttpResult? Throttled)> ProveAsync(
        SignIn signIn, SecondFactor secondFactor, User user, string? password, string? code, string? recoveryCode, bool pending,
        HttpResponse response, CancellationToken ct)
    {
        if (password is not null)
        {
            var check = await signIn.VerifyPasswordAsync(user, password, ct);
            if (check.Verdict == PasswordVerdict.Throttled)
            {
                return (null, RateLimits.TooManyRequests(response, check.RetryAfter!.Value));
            }
            if (check.Verdict != PasswordVerdict.Verified)
            {
                return (Invalid("password", "The password is incorrect."), null);
            }
        }
        var factor = await secondFactor.VerifyAsync(user, code, recoveryCode, null, null, pending, ct);
        return factor.Verdict switch
        {
            FactorVerdict.Verified => (null, null),
            FactorVerdict.Throttled => (null, RateLimits.TooManyRequests(response, factor.RetryAfter!.Value)),
            _ => (Invalid("code", "The code is incorrect, expired or already used."), null),
        };
    }

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
