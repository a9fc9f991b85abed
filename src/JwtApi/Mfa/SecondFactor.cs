using JwtApi.Auth;
using JwtApi.Hosting;
using JwtApi.Storage;
using JwtApi.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace JwtApi.Mfa;

/// <summary>What a second-factor check decided.</summary>
public enum FactorVerdict
{
    /// <summary>A right code, used now and never again.</summary>
    Verified,

    /// <summary>A wrong, expired or already used code: one answer for all.</summary>
    Wrong,

    /// <summary>Not checked: too many failed guesses at this user's secrets; see <see cref="FactorCheck.RetryAfter"/>.</summary>
    Throttled,

    /// <summary>Not checked: the mfa_token has had its wrong codes; the user logs in with the password again.</summary>
    Exhausted,
}

/// <summary>The outcome of <see cref="SecondFactor.VerifyAsync"/>.</summary>
public sealed record FactorCheck(FactorVerdict Verdict, TimeSpan? RetryAfter = null);

/// <summary>
/// The one place a second-factor code is checked (<c>/login/mfa</c>, the MFA grants of <c>/token</c>, and the
/// <c>/me/mfa</c> endpoints that need a code): a TOTP code from the authenticator app or a recovery code. Guesses
/// count under the same keys and limits as passwords (<see cref="LoginThrottle.GuessKeys"/>), a permit taken
/// before the code is looked at; a TOTP code is accepted once (RFC 6238 §5.2), a recovery code is used up.
/// </summary>
public sealed class SecondFactor(
    AppDb db, Totp totp, RecoveryCodes recoveryCodes, LoginThrottle throttle, IOptions<MfaOptions> options, AuditLog audit)
{
    /// <summary>True when the user has confirmed an authenticator: every login then needs a code.</summary>
    public Task<bool> IsOnAsync(Guid userId, CancellationToken ct) => UsersWithItOn(db).ContainsAsync(userId, ct);

    /// <summary>The users who have confirmed an authenticator (for a list of users: one query, not one per user).</summary>
    public static IQueryable<Guid> UsersWithItOn(AppDb db) =>
        db.TotpAuthenticators.Where(a => a.ConfirmedAt != null).Select(a => a.UserId);

    /// <summary>Turns it off (the user, or an admin's reset): the authenticator and the recovery codes deleted, in the caller's unit of work.</summary>
    public static async Task RemoveAsync(AppDb db, Guid userId, CancellationToken ct)
    {
        db.TotpAuthenticators.RemoveRange(await db.TotpAuthenticators.Where(a => a.UserId == userId).ToListAsync(ct));
        db.RecoveryCodes.RemoveRange(await db.RecoveryCodes.Where(r => r.UserId == userId).ToListAsync(ct));
    }

    /// <summary>
    /// Checks <paramref name="code"/> (six digits) or else <paramref name="recoveryCode"/> for <paramref name="user"/>.
    /// </summary>
    /// <param name="user">Whose factor.</param>
    /// <param name="code">A TOTP code, or null.</param>
    /// <param name="recoveryCode">A recovery code, used when <paramref name="code"/> is null.</param>
    /// <param name="device">The device token's claims of this login, if it presented one of the user's: guesses then count under the device.</param>
    /// <param name="mfaTokenId">The mfa_token's jti at the second step of a login: its wrong codes are counted, and past the limit it is dead.</param>
    /// <param name="pending">Check against the enrolment waiting for its first code instead of the confirmed authenticator.</param>
    /// <param name="ct">Cancels the check; permits are given back.</param>
    public async Task<FactorCheck> VerifyAsync(
        User user, string? code, string? recoveryCode, DeviceClaims? device, string? mfaTokenId, bool pending, CancellationToken ct)
    {
        ThrottlePermit? tokenPermit = null;
        if (mfaTokenId is not null)
        {
            var limit = new WindowLimit { PermitLimit = options.Value.MaxCodeAttempts, Window = options.Value.MfaTokenLifetime };
            (tokenPermit, _) = await throttle.TryTakeAsync($"mfa:{mfaTokenId}", limit, ct);
            if (tokenPermit is null)
            {
                audit.LoginFailed(user.Username, Reasons.MfaTokenExhausted);
                return new FactorCheck(FactorVerdict.Exhausted);
            }
        }
        var (permits, wait) = await throttle.TryTakeAllAsync(throttle.GuessKeys(user.Username, device), ct);
        if (permits is null)
        {
            await GiveBackAsync(tokenPermit);
            audit.LoginFailed(user.Username, Reasons.Throttled);
            return new FactorCheck(FactorVerdict.Throttled, wait);
        }

        string? failure;
        try
        {
            failure = code is not null ? await TryCodeAsync(user.Id, code, pending, ct)
                : recoveryCode is not null && !pending && await recoveryCodes.TryUseAsync(user.Id, recoveryCode, ct) ? null
                : Reasons.WrongRecoveryCode;
        }
        catch (OperationCanceledException)
        {
            await throttle.GiveBackAsync(permits);   // nothing was checked: nothing to count
            await GiveBackAsync(tokenPermit);
            throw;
        }
        if (failure is not null)
        {
            // the permits stay taken: this failure counts until its window ends
            audit.LoginFailed(user.Username, failure);
            return new FactorCheck(FactorVerdict.Wrong);
        }
        // The mfa_token's permit is kept: a right code does not make room for more guesses with that token.
        await throttle.GiveBackAsync(permits);
        return new FactorCheck(FactorVerdict.Verified);
    }

    private async Task<string?> TryCodeAsync(Guid userId, string code, bool pending, CancellationToken ct)
    {
        var authenticator = await db.TotpAuthenticators.AsNoTracking()
            .FirstOrDefaultAsync(a => a.UserId == userId && (pending ? a.ConfirmedAt == null : a.ConfirmedAt != null), ct);
        if (authenticator is null || totp.MatchStep(totp.Unprotect(authenticator.ProtectedSecret), code) is not { } step)
        {
            return Reasons.WrongCode;
        }
        // Once: only a step later than the last accepted one, claimed in one statement, so two requests bringing
        // one code (a replay, or a phisher racing the user) cannot both pass, on any instance.
        var claimed = await db.TotpAuthenticators.Where(a => a.UserId == userId && a.LastUsedStep < step)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.LastUsedStep, step), ct);
        return claimed == 1 ? null : Reasons.CodeReplayed;
    }

    private async Task GiveBackAsync(ThrottlePermit? permit)
    {
        if (permit is not null)
        {
            await throttle.GiveBackAsync([permit]);
        }
    }
}
