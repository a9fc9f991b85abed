using JwtApi.Hosting;
using JwtApi.Mfa;
using JwtApi.Storage;
using JwtApi.Tokens;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace JwtApi.Users;

/// <summary>Why an account change was refused.</summary>
public enum AccountRefusal
{
    None,

    /// <summary>No user has that id (any more).</summary>
    NotFound,

    /// <summary>The change would leave no enabled admin.</summary>
    LastAdmin,

    /// <summary>The row no longer fits what the change was asked against (a reset link mailed before the password changed).</summary>
    Outdated,
}

/// <summary>What an account change came to: the user's row (changed, or already as asked), or why not.</summary>
/// <param name="User">The row as it is now; null when refused.</param>
/// <param name="Refusal">Why not, when <paramref name="User"/> is null.</param>
/// <param name="Changed">False when the account already was as asked: nothing written, no login ended.</param>
public readonly record struct AccountChange(User? User, AccountRefusal Refusal, bool Changed = false)
{
    /// <summary>The API's answer to a refusal: 404, or 409 for the last admin.</summary>
    public ProblemHttpResult ToProblem() => Refusal == AccountRefusal.LastAdmin ? Problems.LastAdmin() : Problems.UserNotFound();
}

/// <summary>
/// Changes to an account made by an admin (the API), the operator (the CLI, Users/UsersCommand.cs) or, for a
/// password, the user: each rule has its home here, whoever asks. Each method runs inside an account write its
/// caller holds (<see cref="CurrentUser.BeginWriteAsync"/>, or <see cref="BeginOperatorWriteAsync"/>), re-reads the
/// target row there, checks, changes, saves, commits and audits; a change of rights or credentials ends every login
/// of the user (<see cref="TokenRevoker.EndAllTokensOf(User)"/>). A refusal or a change to nothing writes nothing.
/// Slow work (a BCrypt hash) belongs before the write: the lock is held until the commit.
/// </summary>
public sealed class AccountChanges(AppDb db, TokenRevoker revoker, UserAccounts accounts, AuditLog audit)
{
    /// <summary>
    /// The operator's write: the account-write turn the API's writes take, without a caller to check (whoever can run
    /// the CLI against the database is trusted with it; a reset link proves itself through
    /// <see cref="ResetPasswordAsync"/>). Every instance learns its revocations from the database.
    /// </summary>
    public async Task<AccountWrite> BeginOperatorWriteAsync(CancellationToken ct) =>
        new(await AccountWrite.TakeTurnAsync(db, ct), revoker, caller: null, refusal: null);

    /// <summary>Adds a user prepared by <see cref="UserAccounts.PrepareAsync"/>; a taken name when another write got there first.</summary>
    public async Task<CreateUserResult> CreateAsync(AccountWrite write, User prepared, CancellationToken ct)
    {
        var created = await accounts.AddAsync(prepared, ct);
        if (created.User is { } user)
        {
            await write.CommitAsync(ct);
            audit.AccountChanged(user.Id, "created");
        }
        return created;
    }

    /// <summary>Disables (the last enabled admin excepted) or enables the user; either ends every login of theirs.</summary>
    public Task<AccountChange> SetDisabledAsync(AccountWrite write, Guid id, bool disabled, CancellationToken ct) =>
        ChangeAsync(write, id, async user =>
        {
            if (disabled && await IsLastAdminAsync(user, ct))
            {
                return Refused(AccountRefusal.LastAdmin);
            }
            if (user.Disabled == disabled)
            {
                return Unchanged;
            }
            user.Disabled = disabled;
            revoker.EndAllTokensOf(user);
            return Audited(user, disabled ? "disabled" : "enabled");
        }, ct);

    /// <summary>
    /// Replaces the user's roles (the last enabled admin keeps admin); tokens carrying the old roles stop working,
    /// the next refresh or login carries the new ones.
    /// </summary>
    /// <param name="write">The write the caller holds.</param>
    /// <param name="id">The user.</param>
    /// <param name="roles">Checked names (<see cref="UserAccounts.CheckRoles"/>).</param>
    /// <param name="ct">Cancels the write.</param>
    public Task<AccountChange> SetRolesAsync(AccountWrite write, Guid id, IEnumerable<string> roles, CancellationToken ct) =>
        ChangeAsync(write, id, async user =>
        {
            var canonical = Roles.Canonical(roles);
            if (!canonical.Contains(Roles.Admin) && await IsLastAdminAsync(user, ct))
            {
                return Refused(AccountRefusal.LastAdmin);
            }
            if (canonical.SequenceEqual(user.Roles))
            {
                return Unchanged;
            }
            user.Roles = canonical;
            revoker.EndAllTokensOf(user);
            return Audited(user, "roles_changed");
        }, ct);

    /// <summary>Deletes the user (not the last enabled admin); refresh fails for a missing user, and their access tokens are revoked.</summary>
    public Task<AccountChange> DeleteAsync(AccountWrite write, Guid id, CancellationToken ct) =>
        ChangeAsync(write, id, async user =>
        {
            if (await IsLastAdminAsync(user, ct))
            {
                return Refused(AccountRefusal.LastAdmin);
            }
            db.Users.Remove(user);
            revoker.AllAccessTokensOf(user.Id);
            return Audited(user, "deleted");
        }, ct);

    /// <summary>
    /// Sets the password (already checked against the policy and hashed) and ends every login of the user: their
    /// own change (the write's caller) or a reset by the operator.
    /// </summary>
    public Task<AccountChange> SetPasswordAsync(AccountWrite write, Guid id, string passwordHash, CancellationToken ct) =>
        ChangeAsync(write, id, user =>
        {
            user.PasswordHash = passwordHash;
            revoker.EndAllTokensOf(user);
            return Task.FromResult(Audited(user, write.Caller?.Id == id ? "password_changed" : "password_reset"));
        }, ct);

    /// <summary>
    /// Sets the password through a mailed reset link (already checked against the policy and hashed) and ends every
    /// login of the user, when the row, read in the write, still fits the link: of two uses of one link at once, the
    /// second finds the password it was issued against already replaced (<see cref="AccountRefusal.Outdated"/>).
    /// </summary>
    public Task<AccountChange> ResetPasswordAsync(AccountWrite write, Guid id, Func<User, bool> linkFits, string passwordHash, CancellationToken ct) =>
        ChangeAsync(write, id, user =>
        {
            if (!linkFits(user))
            {
                return Task.FromResult(Refused(AccountRefusal.Outdated));
            }
            user.PasswordHash = passwordHash;
            revoker.EndAllTokensOf(user);
            return Task.FromResult(new Step(AccountRefusal.None, () => audit.PasswordReset(user.Id)));
        }, ct);

    /// <summary>
    /// Turns the user's two-factor sign-in off (a lost phone): authenticator and recovery codes deleted, and every
    /// login of theirs ended, so whoever holds the phone and a session of the user is out as well.
    /// </summary>
    public Task<AccountChange> ResetSecondFactorAsync(AccountWrite write, Guid id, CancellationToken ct) =>
        ChangeAsync(write, id, async user =>
        {
            await SecondFactor.RemoveAsync(db, user.Id, ct);
            revoker.EndAllTokensOf(user);
            return new Step(AccountRefusal.None, () => audit.SecondFactorChanged(user.Id, "reset"));
        }, ct);

    /// <summary>
    /// Keeps the service administrable: the last enabled admin cannot be demoted, disabled or deleted. Asked inside
    /// the account write, which takes its turn with every other: two admins disabling each other at once (or an
    /// admin and the operator) are checked one after the other, on any instance.
    /// </summary>
    private async Task<bool> IsLastAdminAsync(User user, CancellationToken ct) =>
        user.Roles.Contains(Roles.Admin) &&
        !await db.Users.AnyAsync(u => u.Id != user.Id && !u.Disabled && u.Roles.Contains(Roles.Admin), ct);

    // What a change decided: refused, nothing to do (Audit null), or done and to be audited once committed.
    private sealed record Step(AccountRefusal Refusal, Action? Audit);

    private static readonly Step Unchanged = new(AccountRefusal.None, null);

    private static Step Refused(AccountRefusal refusal) => new(refusal, null);

    private Step Audited(User user, string change) => new(AccountRefusal.None, () => audit.AccountChanged(user.Id, change));

    private async Task<AccountChange> ChangeAsync(AccountWrite write, Guid id, Func<User, Task<Step>> change, CancellationToken ct)
    {
        // read in the write, after the lock: the row as the last write before this one left it
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == id, ct);
        if (user is null)
        {
            return new(null, AccountRefusal.NotFound);
        }
        var step = await change(user);
        if (step.Refusal != AccountRefusal.None)
        {
            return new(null, step.Refusal);
        }
        if (step.Audit is null)
        {
            return new(user, AccountRefusal.None);
        }
        await db.SaveChangesAsync(ct);
        await write.CommitAsync(ct);
        step.Audit();
        return new(user, AccountRefusal.None, Changed: true);
    }
}
