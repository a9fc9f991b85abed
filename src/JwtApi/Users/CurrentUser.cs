using System.Globalization;
using System.Security.Claims;
using JwtApi.Hosting;
using JwtApi.Storage;
using JwtApi.Tokens;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace JwtApi.Users;

/// <summary>
/// The caller of a write, as the database has them at the moment of the write. The access token says who asks;
/// it was checked when the request's headers arrived, against this instance's revocation list, which another
/// instance's disable may not have reached yet (and a slow client can send its body minutes later). So every
/// endpoint that changes state on the caller's behalf takes its caller from here: one place reads the row, in
/// the transaction of the write, and refuses a deleted or disabled account, a token older than the account's
/// token version or of a logged-out login, and a caller who no longer holds the role the endpoint needs.
/// Endpoints that only read keep answering from the token alone.
/// </summary>
public sealed class CurrentUser(AppDb db, TokenRevoker revoker, IHttpContextAccessor http, AuditLog audit, Telemetry telemetry)
{
    /// <summary>
    /// Starts the caller's write: a transaction that account writes take one at a time (on SQLite the write lock
    /// of BEGIN IMMEDIATE, on PostgreSQL a transaction-level advisory lock, so on every instance), then the
    /// caller's row read and checked inside it. Dispose it; commit with <see cref="AccountWrite.CommitAsync"/>.
    /// Do slow work (BCrypt) before this: the lock is held until the commit.
    /// </summary>
    /// <param name="role">The role the endpoint needs (checked on the row, not the token), or null.</param>
    /// <param name="ct">Cancels the wait for the lock and the read.</param>
    public async Task<AccountWrite> BeginWriteAsync(string? role, CancellationToken ct)
    {
        var transaction = await DatabaseLocks.BeginAccountWriteAsync(db, ct);
        try
        {
            var (user, refusal) = await CheckAsync(role, tracked: true, ct);
            return new AccountWrite(transaction, revoker, user, refusal);
        }
        catch
        {
            await transaction.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The same checks outside a transaction, on an untracked row: to refuse a stale caller before slow work (a
    /// BCrypt verify) that needs the row, after which <see cref="BeginWriteAsync"/> checks again at the write.
    /// </summary>
    public async Task<CallerRow> ReadAsync(string? role, CancellationToken ct)
    {
        var (user, refusal) = await CheckAsync(role, tracked: false, ct);
        return new CallerRow(user, refusal);
    }

    // Tracked only in the write's transaction: the row is read there, never taken from what the context already
    // tracks (EF Core hands back a tracked entity without refreshing it, which would check the row as it was
    // before the lock, e.g. as a sign-in earlier in the same request read it).
    private async Task<(User? User, ProblemHttpResult? Refusal)> CheckAsync(string? role, bool tracked, CancellationToken ct)
    {
        var caller = http.HttpContext?.User ?? throw new InvalidOperationException("No request: CurrentUser serves endpoints only.");
        var token = AccessTokenClaims.Of(caller);
        if (!Guid.TryParse(token.UserId, out var id))
        {
            return (null, Refuse(BearerProblems.TokenRevoked()));
        }
        if (tracked)
        {
            foreach (var stale in db.ChangeTracker.Entries<User>().Where(e => e.Entity.Id == id).ToList())
            {
                stale.State = EntityState.Detached;
            }
        }
        IQueryable<User> users = tracked ? db.Users : db.Users.AsNoTracking();
        var user = await users.FirstOrDefaultAsync(u => u.Id == id, ct);
        if (user is null || user.Disabled)
        {
            return (null, Refuse(BearerProblems.TokenRevoked()));
        }
        // before the version: a demotion moves it too, but what helps the client is the role it lacks now
        if (role is not null && !user.Roles.Contains(role))
        {
            return (null, Refuse(BearerProblems.MissingRole()));
        }
        if (TokenVersionOf(caller) < user.TokenVersion || (token.FamilyId is { } family && await revoker.IsFamilyRevokedAsync(family, ct)))
        {
            return (null, Refuse(BearerProblems.TokenRevoked()));
        }
        return (user, null);
    }

    private ProblemHttpResult Refuse(BearerProblem problem)
    {
        var context = http.HttpContext!;
        context.Response.Headers.WWWAuthenticate = problem.Challenge;
        audit.TokenRejected(problem.Reason);
        telemetry.TokenRejected(problem.Reason);
        return TypedResults.Problem(problem.Details);
    }

    // JwtBearer accepted the token, so ver is there (a token without one is older than any user)
    private static int TokenVersionOf(ClaimsPrincipal caller) =>
        int.TryParse(caller.FindFirstValue(JwtClaimTypes.TokenVersion), NumberStyles.None, CultureInfo.InvariantCulture, out var ver) ? ver : -1;
}

/// <summary>The caller's row as read before a write (untracked), or why the caller may not write.</summary>
public sealed record CallerRow(User? User, ProblemHttpResult? Refusal);

/// <summary>
/// One write on the caller's behalf, begun by <see cref="CurrentUser.BeginWriteAsync"/>: either a
/// <see cref="Refusal"/> to answer, or the <see cref="Caller"/>'s tracked row. The handler changes what it
/// changes, saves through the data context, and commits; revocations staged by <see cref="TokenRevoker"/> reach
/// this instance's list only after the commit. Disposing without a commit rolls back.
/// </summary>
public sealed class AccountWrite(IDbContextTransaction transaction, TokenRevoker revoker, User? caller, ProblemHttpResult? refusal)
    : IAsyncDisposable
{
    /// <summary>The caller's row, tracked; null when refused.</summary>
    public User? Caller => caller;

    /// <summary>The answer to give instead of writing: 401 token_revoked or 403 missing_role.</summary>
    public ProblemHttpResult? Refusal => refusal;

    public async Task CommitAsync(CancellationToken ct)
    {
        await transaction.CommitAsync(ct);
        revoker.Committed();
    }

    public ValueTask DisposeAsync() => transaction.DisposeAsync();
}
