using JwtApi.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace JwtApi.Tokens;

/// <summary>
/// Keeps <see cref="RevocationList"/> in step with the revocation table: everything unexpired at start-up
/// (so a restart loses nothing), then every <see cref="JwtOptions.RevocationSyncInterval"/> the rows other
/// instances added. Every few rounds it reloads in full and prunes expired rows.
/// </summary>
public sealed class RevocationSync(
    IServiceScopeFactory scopes, RevocationList list, TimeProvider time, IOptions<JwtOptions> options,
    ILogger<RevocationSync> logger) : BackgroundService
{
    /// <summary>
    /// A full reload every this many rounds also catches a row whose transaction committed after a later id
    /// was read (possible on a database with concurrent writers).
    /// </summary>
    public const int FullReloadEvery = 12;

    private long _cursor;
    private int _round;
    private TaskCompletionSource _synced = NewSignal();

    /// <summary>Completes when the next sync round has finished (lets tests follow the timer without sleeping).</summary>
    public Task NextSyncAsync() => Volatile.Read(ref _synced).Task;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
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
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDb>();
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var after = full ? 0 : _cursor;
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
        if (full)
        {
            list.Prune(now);
            var pruned = await db.Revocations.Where(r => r.ExpiresAt < now).ExecuteDeleteAsync(ct);
            logger.LogDebug("Revocation list reloaded: {Count} in memory, {Pruned} expired rows pruned", list.Count, pruned);
        }
        Interlocked.Exchange(ref _synced, NewSignal()).TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
