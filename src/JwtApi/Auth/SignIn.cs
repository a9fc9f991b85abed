using System.Diagnostics;
using JwtApi.Hosting;
using JwtApi.Storage;
using JwtApi.Tokens;
using JwtApi.Users;
using Microsoft.EntityFrameworkCore;

namespace JwtApi.Auth;

/// <summary>The outcome of a password sign-in: tokens, a refusal (both null), or a throttled attempt.</summary>
public sealed record SignInResult(TokenPair? Tokens, TimeSpan? RetryAfter = null);

/// <summary>
/// The two ways to get tokens, whatever the wire format: a username and password (<c>/login</c>, the
/// <c>password</c> grant of <c>/token</c>) and a refresh token (<c>/refresh</c>, the <c>refresh_token</c>
/// grant). Null means refused; callers answer every refusal alike.
/// </summary>
public sealed class SignIn(
    AppDb db, PasswordHasher hasher, UsernameThrottle throttle, RefreshTokens refreshTokens, TokenIssuer tokens, AuditLog audit,
    Telemetry telemetry)
{
    /// <summary>
    /// A new login (token family); no tokens for an unknown user, a wrong password or a disabled account; a
    /// wait when the username has had too many failed attempts (checked first, so a throttled guess costs no
    /// BCrypt and learns nothing, right password or not).
    /// </summary>
    public async Task<SignInResult> WithPasswordAsync(string username, string password, CancellationToken ct)
    {
        using var activity = telemetry.StartActivity(Telemetry.Activities.SignIn);
        try
        {
            var result = await CheckPasswordAsync(username, password, ct);
            telemetry.LoginEnded(activity,
                result.Tokens is not null ? Telemetry.LoginOutcome.Success :
                result.RetryAfter is not null ? Telemetry.LoginOutcome.Throttled :
                Telemetry.LoginOutcome.InvalidCredentials);
            return result;
        }
        catch (PasswordHashingBusyException)
        {
            telemetry.LoginEnded(activity, Telemetry.LoginOutcome.Busy);
            throw;
        }
    }

    private async Task<SignInResult> CheckPasswordAsync(string username, string password, CancellationToken ct)
    {
        var normalized = User.Normalize(username);
        if (throttle.RetryAfter(normalized) is { } wait)
        {
            audit.LoginFailed(username, "throttled");
            return new SignInResult(null, wait);
        }
        // No account has a name that registration refuses, so such a name is not looked up: PostgreSQL would
        // refuse the query itself for a NUL character (a 500 instead of a 401).
        var user = User.IsValidUsername(username)
            ? await db.Users.FirstOrDefaultAsync(u => u.NormalizedUsername == normalized, ct)
            : null;

        // Unknown user, wrong password and disabled account: the same BCrypt work and the same answer, so
        // neither the body nor a stopwatch tells an attacker which accounts exist.
        var verified = await hasher.VerifyAsync(password, user?.PasswordHash, ct);
        if (!verified || user is null || user.Disabled)
        {
            throttle.Failed(normalized);
            audit.LoginFailed(username, user is null ? "unknown_user" : !verified ? "wrong_password" : "account_disabled");
            return new SignInResult(null);
        }
        if (hasher.NeedsRehash(user.PasswordHash))
        {
            // the work factor was raised since this hash was made: upgrade it while the password is at hand
            user.PasswordHash = await hasher.HashAsync(password, ct);
            await db.SaveChangesAsync(ct);
        }
        var pair = tokens.StartFamily(user);
        audit.LoginSucceeded(user.Username, user.Id, pair.FamilyId);
        return new SignInResult(pair);
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
            RefuseRefresh(null, "invalid_refresh_token", activity);
            return null;
        }
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == claims.UserId, ct);
        var refusal = user switch
        {
            null => "user_deleted",
            { Disabled: true } => "user_disabled",
            _ when user.TokenVersion != claims.Version => "token_version_changed",
            _ => null,
        };
        // The database, not the in-memory mirror: a logout on another instance counts at once here.
        if (refusal is null && await db.Revocations.AnyAsync(r => r.Kind == RevocationKind.Family && r.Key == claims.FamilyId, ct))
        {
            refusal = "login_revoked";
        }
        if (refusal is not null)
        {
            RefuseRefresh(claims.UserId, refusal, activity);
            return null;
        }
        audit.RefreshSucceeded(claims.UserId, claims.FamilyId);
        telemetry.RefreshEnded(activity, Telemetry.RefreshOutcome.Success);
        // roles come from the database, so a role change reaches the next access token
        return tokens.IssuePair(user!, claims.FamilyId, claims.AuthTime);
    }

    /// <summary>A refused refresh, in the audit log and the metrics alike (also for a refusal before the token is read).</summary>
    public void RefuseRefresh(Guid? userId, string reason, Activity? activity = null)
    {
        audit.RefreshRefused(userId, reason);
        telemetry.RefreshEnded(activity, reason);
    }
}
