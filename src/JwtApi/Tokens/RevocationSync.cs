using JwtApi.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace JwtApi.Tokens;

/// <summary>
/// Keeps <see cref="RevocationList"/> in step with the revocation table: everything unexpired at start-up
/// (so a restart loses nothing), then every <see cref="JwtOptions.RevocationSyncInterval"/> the rows other
/// instances added. Every few rounds it reloads in full and prunes expired rows.
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
    /// How long an incremental round keeps re-reading ids it has seen: past the time one SaveChanges can hold
    /// an allocated id uncommitted (its INSERT and COMMIT each time out after 30 s by default, and the commit
    /// follows the insert at once), so a row that commits out of id order still arrives at the next round.
    /// </summary>
    public static readonly TimeSpan Lookback = TimeSpan.FromMinutes(1);

    // Rounds run one at a time: the timer's, and the one a test or StartAsync runs directly.
    private readonly SemaphoreSlim _gate = new(1, 1);
    // The highest id read, and at what time each round had read up to where (oldest first).
    private long _cursor;
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
            var after = full ? 0 : _floor;
            var rows = await db.Revocations.AsNoTracking()
                .Where(r => r.Id > after && r.ExpiresAt >= now)
                .OrderBy(r => r.Id)
                .ToListAsync(ct);
            foreach (var row in rows)
            {
                list.Add(row);
            }
            if (rows.Count > 0)
            {
                _cursor = Math.Max(_cursor, rows[^1].Id);
            }
            AdvanceFloor(readAt);
            if (full)
            {
                list.Prune(now);
                var pruned = await db.Revocations.Where(r => r.ExpiresAt < now).ExecuteDeleteAsync(ct);
                logger.LogDebug("Revocation list reloaded: {Count} in memory, {Pruned} expired rows pruned", list.Count, pruned);
            }
        }
        finally
        {
            _gate.Release();
        }
        Interlocked.Exchange(ref _synced, NewSignal()).TrySetResult();
    }

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
