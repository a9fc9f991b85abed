using System.Diagnostics;
using JwtApi.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace JwtApi.Tokens;

/// <summary>
/// Keeps <see cref="RevocationList"/> in step with the revocation table: every row still listed
/// (<see cref="Revocation.ListedUntil"/> not passed) at start-up, so a restart loses nothing, then every
/// <see cref="JwtOptions.RevocationSyncInterval"/> the rows other instances added. Every few rounds it reloads
/// in full and prunes expired rows. Only rows within about one access-token lifetime of their revocation are
/// read: a month of logouts stays in the database (for <c>/refresh</c>) and costs a load nothing.
/// On PostgreSQL, <see cref="RevocationNotifications"/> also runs an incremental round whenever revocations commit.
/// </summary>
/// <remarks>
/// Ids are not a commit order. PostgreSQL hands out an identity value when the row is inserted, not when its
/// transaction commits, so a writer holding id 41 can commit after another writer's 42 has been read; a reader
/// that only asked for ids above 42 from then on would miss 41 until the next full reload, a minute later at
/// the default interval, while a revoked token still worked on this instance. So an incremental round asks
/// not for the ids above the highest one seen but for those above the highest one seen at least
/// <see cref="Lookback"/> ago (this instance's clock, never another's): a row committed within that time of a
/// higher id becoming visible is read at the next round. Rows are read again for a while; adding one twice
/// changes nothing. Rows later than that (a writer stalled longer than its command timeouts allow) still
/// arrive with the next full reload.
/// </remarks>
public sealed class RevocationSync(
    IServiceScopeFactory scopes, RevocationList list, TimeProvider time, IOptions<JwtOptions> options,
    ILogger<RevocationSync> logger, StorageInitializer? storage = null) : BackgroundService
{
    /// <summary>
    /// A full reload every this many rounds also prunes expired rows, and catches a row whose transaction
    /// committed more than <see cref="Lookback"/> after a later id was read.
    /// </summary>
    public const int FullReloadEvery = 12;

    /// <summary>
    /// At most this many expired rows are deleted per full reload: after a long stop, the backlog goes over a few
    /// rounds rather than in one statement that holds the table (on SQLite, the whole database) for seconds.
    /// </summary>
    public const int PruneBatch = 10_000;

    /// <summary>
    /// How long an incremental round keeps re-reading ids it has seen: past the time one SaveChanges can hold
    /// an allocated id uncommitted (its INSERT and COMMIT each time out after 30 s by default, and the commit
    /// follows the insert at once), so a row that commits out of id order still arrives at the next round.
    /// </summary>
    public static readonly TimeSpan Lookback = TimeSpan.FromMinutes(1);

    // Rounds run one at a time: the timer's, and the one a test or StartAsync runs directly.
    private readonly SemaphoreSlim _gate = new(1, 1);
    // The highest id read, and at what time each round had read up to where (oldest first).
    private long _cursor;
    internal long Cursor => _cursor;
    private readonly Queue<(DateTimeOffset ReadAt, long Cursor)> _seen = new();
    // The ids at or below this were read at least Lookback ago: incremental rounds ask for the ids above it.
    private long _floor;
    private int _round;
    private TaskCompletionSource _synced = NewSignal();

    /// <summary>Completes when the next sync round has finished (lets tests follow the timer without sleeping).</summary>
    public Task NextSyncAsync() => Volatile.Read(ref _synced).Task;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // the table exists only once the migrations have run, whichever hosted service starts first
        if (storage is not null)
        {
            await storage.ReadyAsync(cancellationToken);
        }
        // before the server takes a request: no revoked token slips through a fresh start
        await SyncAsync(full: true, cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RevocationSyncInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await SyncAsync(full: ++_round % FullReloadEvery == 0, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // a database hiccup must not stop the loop; the next round catches up from the same cursor
                    logger.LogWarning(e, "Reading revocations failed; retrying in {Interval}", options.Value.RevocationSyncInterval);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    internal async Task SyncAsync(bool full, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDb>();
            var readAt = time.GetUtcNow();
            var now = readAt.ToUnixTimeSeconds();
            var cpu = Environment.CpuUsage.TotalTime;
            var started = Stopwatch.GetTimestamp();   // the real time it took, for the log: not the injected clock
            if (full)
            {
                // The highest id in the table, listed or not, counts as read: otherwise, with only old rows in it
                // (none read), the cursor would stay behind them and every incremental round would walk them all
                // by id. Read before the rows, so every committed row up to it is among them if still listed.
                _cursor = Math.Max(_cursor, await db.Revocations.MaxAsync(r => (long?)r.Id, ct) ?? 0);
            }
            // a floor of 0 (the first Lookback after start) bounds nothing: read as a full reload does, by ListedUntil
            var rows = await Listed(db, now, after: full || _floor == 0 ? null : _floor).ToListAsync(ct);
            foreach (var row in rows)
            {
                list.Add(row);
            }
            if (rows.Count > 0)
            {
                _cursor = Math.Max(_cursor, rows.Max(r => r.Id));
            }
            AdvanceFloor(readAt);
            if (full)
            {
                list.Prune(now);
                // a row's ExpiresAt is never before its ListedUntil, so nothing still listed goes
                var pruned = await Expired(db, now).ExecuteDeleteAsync(ct);
                logger.LogDebug(
                    "Revocation list reloaded in {ElapsedMs:F1} ms ({CpuMs:F1} ms process CPU): {Rows} rows read, {Count} in memory, {Pruned} expired rows pruned",
                    Stopwatch.GetElapsedTime(started).TotalMilliseconds, (Environment.CpuUsage.TotalTime - cpu).TotalMilliseconds,
                    rows.Count, list.Count, pruned);
            }
        }
        finally
        {
            _gate.Release();
        }
        Interlocked.Exchange(ref _synced, NewSignal()).TrySetResult();
    }

    /// <summary>
    /// The rows a round reads: those still listed at <paramref name="now"/>, found by their own index (the table
    /// also holds a month of logouts, which /refresh reads one at a time and the list never needs), past
    /// <paramref name="after"/> for an incremental round. In no order: sorted by id, SQLite would rather scan the
    /// whole table in id order than sort what the index finds. A full reload does not ask for Id &gt; 0 either, so
    /// the planner has only the ListedUntil range to go by.
    /// </summary>
    internal static IQueryable<Revocation> Listed(AppDb db, long now, long? after)
    {
        var listed = db.Revocations.AsNoTracking().Where(r => r.ListedUntil >= now);
        if (after is { } id)
        {
            listed = listed.Where(r => r.Id > id);
        }
        return listed;
    }

    /// <summary>The rows a full reload deletes: at most <see cref="PruneBatch"/> past their ExpiresAt, found by its index.</summary>
    internal static IQueryable<Revocation> Expired(AppDb db, long now) =>
        db.Revocations.Where(r => r.ExpiresAt < now).OrderBy(r => r.ExpiresAt).Take(PruneBatch);

    /// <summary>Remembers how far this round read, and lets go of the ids every round of the last Lookback has had a chance to see.</summary>
    private void AdvanceFloor(DateTimeOffset readAt)
    {
        _seen.Enqueue((readAt, _cursor));
        while (_seen.TryPeek(out var oldest) && oldest.ReadAt <= readAt - Lookback)
        {
            _floor = Math.Max(_floor, _seen.Dequeue().Cursor);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
