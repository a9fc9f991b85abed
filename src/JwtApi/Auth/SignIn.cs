using System.Diagnostics;
using JwtApi.Hosting;
using JwtApi.Mfa;
using JwtApi.Storage;
using JwtApi.Tokens;
using JwtApi.Users;
using Microsoft.EntityFrameworkCore;

namespace JwtApi.Auth;

/// <summary>
/// The outcome of a sign-in: tokens and a device token; a refusal (all null); a throttled attempt; an mfa_token
/// when the password was right and a code must follow; an enrollment-only token when the user must turn the
/// second factor on first; or, at the second step, <see cref="LoginAgain"/> when the mfa_token is no good.
/// </summary>
public sealed record SignInResult(
    TokenPair? Tokens, TimeSpan? RetryAfter = null, IssuedToken? DeviceToken = null, IssuedToken? MfaToken = null,
    IssuedToken? EnrollmentToken = null, bool LoginAgain = false);

/// <summary>What a password check decided.</summary>
public enum PasswordVerdict
{
    /// <summary>The right password of an enabled account.</summary>
    Verified,

    /// <summary>A wrong password, an unknown user or a disabled account: one answer for all three.</summary>
    Wrong,

    /// <summary>Not checked: too many failed attempts; <see cref="PasswordCheck.RetryAfter"/> says how long to wait.</summary>
    Throttled,
}

/// <summary>The outcome of <see cref="SignIn.VerifyPasswordAsync"/>.</summary>
public sealed record PasswordCheck(PasswordVerdict Verdict, TimeSpan? RetryAfter = null)
{
    public static readonly PasswordCheck Verified = new(PasswordVerdict.Verified);
    public static readonly PasswordCheck Wrong = new(PasswordVerdict.Wrong);
}

/// <summary>
/// The one place a password is checked (<c>/login</c>, the <c>password</c> grant of <c>/token</c>, <c>PUT
/// /me/password</c>): the same throttling, the same audit event for a failure, the same BCrypt work whether or
/// not the account exists. And the two ways to get tokens, whatever the wire format: a username and password and
/// a refresh token (<c>/refresh</c>, the <c>refresh_token</c> grant). Null means refused; callers answer every
/// refusal alike.
/// </summary>
/// <remarks>
/// Guessing is limited without locking the owner out (OWASP "Slow Down Online Guessing Attacks with Device
/// Cookies"): every attempt takes a permit in the database before BCrypt runs, under the username from this
/// client address (<see cref="RateLimitOptions.PerUsernameAndAddress"/>) and the username from anywhere
/// (<see cref="RateLimitOptions.PerUsername"/>); a success gives them back. A login presenting a device token of
/// that very user (same token version) counts under its device alone, so a flood from elsewhere does not stop
/// it. Unknown-but-valid usernames count like known ones (no enumeration); names no account can have are not
/// counted (no rows for junk), and still cost the same BCrypt work.
/// </remarks>
public sealed class SignIn(
    AppDb db, PasswordHasher hasher, LoginThrottle throttle, DeviceTokens deviceTokens, RefreshTokens refreshTokens,
    TokenRevoker revoker, TokenIssuer tokens, SecondFactor secondFactor, MfaTokens mfaTokens, MfaPolicy mfaPolicy,
    AuditLog audit, Telemetry telemetry, ILogger<SignIn> logger)
{
    /// <summary>
    /// A new login (token family) and a device token for this device (the one <paramref name="deviceToken"/>
    /// names, renewed, when it is the user's); no tokens for an unknown user, a wrong password or a disabled
    /// account; a wait when the username has had too many failed attempts (checked first, so a throttled guess
    /// costs no BCrypt and learns nothing, right password or not).
    /// </summary>
    public async Task<SignInResult> WithPasswordAsync(string username, string password, string? deviceToken, CancellationToken ct)
    {
        using var activity = telemetry.StartActivity(Telemetry.Activities.SignIn);
        try
        {
            var result = await SignInAsync(username, password, deviceToken, ct);
            telemetry.LoginEnded(activity, Outcome(result));
            return result;
        }
        catch (PasswordHashingBusyException)
        {
            telemetry.LoginEnded(activity, Telemetry.LoginOutcome.Busy);
            throw;
        }
    }

    /// <summary>
    /// Checks the password of an account already at hand (PUT /me/password), counted, throttled and audited as a
    /// login is. No rehash here: the caller is about to replace the hash anyway.
    /// </summary>
    public async Task<PasswordCheck> VerifyPasswordAsync(User user, string password, CancellationToken ct) =>
        (await CheckAsync(user.Username, user, password, deviceToken: null, ct)).Check;

    private async Task<SignInResult> SignInAsync(string username, string password, string? deviceToken, CancellationToken ct)
    {
        // A window this instance has seen full refuses again before any database work (not even the user lookup):
        // without a device token the keys are the name's, whoever the user turns out to be.
        if (deviceToken is null && throttle.KnownFull(throttle.GuessKeys(username, device: null)) is { } wait)
        {
            audit.LoginFailed(username, Reasons.Throttled);
            return new SignInResult(null, wait);
        }
        // No account has a name that registration refuses, so such a name is not looked up: PostgreSQL would
        // refuse the query itself for a NUL character (a 500 instead of a 401).
        var normalized = User.Normalize(username);
        var user = User.IsValidUsername(username)
            ? await db.Users.FirstOrDefaultAsync(u => u.NormalizedUsername == normalized, ct)
            : null;
        var (check, device) = await CheckAsync(username, user, password, deviceToken, ct);
        if (check.Verdict != PasswordVerdict.Verified)
        {
            return new SignInResult(null, check.RetryAfter);
        }
        if (!await RehashAsync(user!, password, ct))
        {
            audit.LoginFailed(username, Reasons.AccountDisabled);
            return new SignInResult(null);
        }
        if (await secondFactor.IsOnAsync(user!.Id, ct))
        {
            // no tokens yet, and no device token: the device is the user's only once the code is right too
            audit.SecondFactorRequired(user.Username, user.Id);
            return new SignInResult(null, MfaToken: mfaTokens.Issue(user, device?.DeviceId));
        }
        return Complete(user, AuthenticationMethods.PasswordOnly, device?.DeviceId);
    }

    /// <summary>
    /// The second step of a login whose password was right: the mfa_token it got, and a TOTP
    /// <paramref name="code"/> or else a <paramref name="recoveryCode"/>. The account is read again: a disable,
    /// a password change or a second factor turned off since the password was checked ends the mfa_token.
    /// </summary>
    public async Task<SignInResult> WithSecondFactorAsync(string? mfaToken, string? code, string? recoveryCode, CancellationToken ct)
    {
        using var activity = telemetry.StartActivity(Telemetry.Activities.SignIn);
        var result = await SecondStepAsync(mfaToken, code, recoveryCode, ct);
        telemetry.LoginEnded(activity, Outcome(result));
        return result;
    }

    private async Task<SignInResult> SecondStepAsync(string? mfaToken, string? code, string? recoveryCode, CancellationToken ct)
    {
        var claims = await mfaTokens.ReadAsync(mfaToken);
        var user = claims is null ? null : await db.Users.FirstOrDefaultAsync(u => u.Id == claims.UserId, ct);
        if (claims is null || user is null || user.Disabled || !claims.IsFor(user) || !await secondFactor.IsOnAsync(user.Id, ct))
        {
            audit.LoginFailed(user?.Username ?? "", Reasons.InvalidMfaToken);
            return new SignInResult(null, LoginAgain: true);
        }
        var device = claims.DeviceId is { } deviceId ? new DeviceClaims(user.Id, deviceId, user.TokenVersion) : null;
        var check = await secondFactor.VerifyAsync(user, code, recoveryCode, device, claims.TokenId, pending: false, ct);
        return check.Verdict switch
        {
            FactorVerdict.Verified => Complete(user, AuthenticationMethods.PasswordAndOtp, claims.DeviceId),
            FactorVerdict.Throttled => new SignInResult(null, check.RetryAfter),
            FactorVerdict.Exhausted => new SignInResult(null, LoginAgain: true),
            _ => new SignInResult(null),
        };
    }

    /// <summary>
    /// A login whose every required factor is proven: a new token family saying how (<paramref name="amr"/>) and a
    /// device token; or, for a user whose roles require a second factor they have not turned on, a token that can
    /// only turn it on (<c>Auth:RequireMfaFor</c>). Also after the second factor is turned on or off, which ends
    /// every other login of the user.
    /// </summary>
    public SignInResult Complete(User user, IReadOnlyList<string> amr, string? deviceId)
    {
        // the same device id as before, so the device stays one device however often it logs in
        var device = deviceTokens.Issue(user, deviceId);
        if (!amr.Contains(AuthenticationMethods.Otp) && mfaPolicy.RequiredFor(user.Roles))
        {
            audit.SecondFactorRequired(user.Username, user.Id);
            return new SignInResult(null, DeviceToken: device, EnrollmentToken: tokens.IssueEnrollmentToken(user));
        }
        var pair = tokens.StartFamily(user, amr);
        audit.LoginSucceeded(user.Username, user.Id, pair.FamilyId);
        return new SignInResult(pair, DeviceToken: device);
    }

    private static string Outcome(SignInResult result) =>
        result.Tokens is not null ? Telemetry.LoginOutcome.Success :
        result.MfaToken is not null || result.EnrollmentToken is not null ? Telemetry.LoginOutcome.SecondFactorRequired :
        result.RetryAfter is not null ? Telemetry.LoginOutcome.Throttled :
        Telemetry.LoginOutcome.InvalidCredentials;

    private async Task<(PasswordCheck Check, DeviceClaims? Device)> CheckAsync(
        string username, User? user, string password, string? deviceToken, CancellationToken ct)
    {
        // a device token counts only for the user it names, and only until their token version changes
        var device = user is not null && await deviceTokens.ReadAsync(deviceToken) is { } claims && claims.IsFor(user) ? claims : null;
        var (permits, wait) = await throttle.TryTakeAllAsync(throttle.GuessKeys(username, device), ct);
        if (permits is null)
        {
            audit.LoginFailed(username, Reasons.Throttled);
            return (new PasswordCheck(PasswordVerdict.Throttled, wait), null);
        }

        // Unknown user, wrong password and disabled account: the same BCrypt work and the same answer, so
        // neither the body nor a stopwatch tells an attacker which accounts exist.
        bool verified;
        try
        {
            verified = await hasher.VerifyAsync(password, user?.PasswordHash, ct);
        }
        catch (Exception e) when (e is PasswordHashingBusyException or OperationCanceledException)
        {
            await throttle.GiveBackAsync(permits);   // nothing was checked: nothing to count
            throw;
        }
        if (!verified || user is null || user.Disabled)
        {
            // the permits stay taken: this failure counts until its window ends
            audit.LoginFailed(username, user is null ? Reasons.UnknownUser : !verified ? Reasons.WrongPassword : Reasons.AccountDisabled);
            return (PasswordCheck.Wrong, null);
        }
        await throttle.GiveBackAsync(permits);
        return (PasswordCheck.Verified, device);
    }

    /// <summary>
    /// Upgrades a hash made before the work factor rose, while the password is at hand. False when the account
    /// turns out deleted or disabled meanwhile.
    /// </summary>
    private async Task<bool> RehashAsync(User user, string password, CancellationToken ct)
    {
        if (!hasher.NeedsRehash(user.PasswordHash))
        {
            return true;
        }
        user.PasswordHash = await hasher.HashAsync(password, ct);
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateConcurrencyException)
        {
            // The row changed since it was read (its TokenVersion is a concurrency token): the upgrade waits for
            // the next login, and this one goes on with the row as it is now, so its tokens carry the current version.
            logger.LogInformation("Password rehash of user {UserId} skipped: the row changed meanwhile", user.Id);
            var entry = db.Entry(user);
            await entry.ReloadAsync(ct);
            return entry.State != EntityState.Detached && !user.Disabled;
        }
    }

    /// <summary>
    /// A new pair in the same family, or null. Which check failed is logged, never told to the caller: it
    /// would help an attacker, not a client.
    /// </summary>
    public async Task<TokenPair?> WithRefreshTokenAsync(string refreshToken, CancellationToken ct)
    {
        using var activity = telemetry.StartActivity(Telemetry.Activities.Refresh);
        var claims = await refreshTokens.ReadAsync(refreshToken);
        if (claims is null)
        {
            RefuseRefresh(null, Reasons.InvalidRefreshToken, activity);
            return null;
        }
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == claims.UserId, ct);
        var refusal = user switch
        {
            null => Reasons.UserDeleted,
            { Disabled: true } => Reasons.UserDisabled,
            _ when user.TokenVersion != claims.Version => Reasons.TokenVersionChanged,
            _ => null,
        };
        // the database too, not only the in-memory mirror: a logout on another instance counts at once here
        if (refusal is null && await revoker.IsFamilyRevokedAsync(claims.FamilyId, ct))
        {
            refusal = Reasons.LoginRevoked;
        }
        if (refusal is not null)
        {
            RefuseRefresh(claims.UserId, refusal, activity);
            return null;
        }
        audit.RefreshSucceeded(claims.UserId, claims.FamilyId);
        telemetry.RefreshEnded(activity, Telemetry.RefreshOutcome.Success);
        // roles come from the database, so a role change reaches the next access token
        return tokens.IssuePair(user!, claims.FamilyId, claims.AuthTime, claims.Amr);
    }

    /// <summary>A refused refresh, in the audit log and the metrics alike (also for a refusal before the token is read).</summary>
    public void RefuseRefresh(Guid? userId, string reason, Activity? activity = null)
    {
        audit.RefreshRefused(userId, reason);
        telemetry.RefreshEnded(activity, reason);
    }
}
