using JwtApi.Storage;
using JwtApi.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace JwtApi.Auth;

/// <summary>
/// One fixed window of password attempts under one key (a username from one address, a username from
/// anywhere, or one device of a user): when it ends (Unix seconds) and how many attempts it has counted.
/// </summary>
public sealed class ThrottleWindow
{
    public const int KeyMaxLength = 128;

    public required string Key { get; init; }

    public long WindowEnds { get; set; }

    public int Count { get; set; }
}

/// <summary>A permit taken under a key: given back (when the attempt succeeds) to the window it was taken in.</summary>
public sealed record ThrottlePermit(string Key, long WindowEnds);

/// <summary>
/// Password attempts counted in the database, so every instance sees one count and N instances do not give N
/// times the guesses. An attempt takes its permit before BCrypt runs, in one atomic statement (an upsert that
/// adds one only while the window has room), so fifty concurrent guesses cannot all be checked; a successful
/// attempt gives its permit back. No lock is stored: a window closes on its own, so a flood holds a name back
/// for at most one window after it stops. Expired rows are deleted by <see cref="ThrottlePruner"/>.
/// </summary>
public sealed class LoginThrottle(
    AppDb db, TimeProvider time, IOptions<RateLimitOptions> limits, IHttpContextAccessor http, FullWindows fullWindows)
{
    /// <summary>
    /// The keys a guess at a user's secret (a password, a second-factor code) takes a permit under, with their
    /// limits: the username from this client address and the username from anywhere; or, for a device presenting
    /// that user's device token, the device alone, so a flood from elsewhere does not lock it out. Names no account
    /// can have are not counted (no rows for junk).
    /// </summary>
    public IEnumerable<(string Key, WindowLimit Limit)> GuessKeys(string username, DeviceClaims? device)
    {
        var options = limits.Value;
        if (device is not null)
        {
            yield return ($"device:{device.UserId:N}:{device.DeviceId}", options.PerUsernameAndAddress);
            yield break;
        }
        if (!User.IsValidUsername(username))
        {
            yield break;
        }
        var name = User.Normalize(username);
        yield return ($"name-address:{name}@{RateLimits.ClientPartition(http.HttpContext?.Connection.RemoteIpAddress)}", options.PerUsernameAndAddress);
        yield return ($"name:{name}", options.PerUsername);
    }

    /// <summary>A permit under <paramref name="key"/>, or how long until one is free.</summary>
    public async Task<(ThrottlePermit? Permit, TimeSpan RetryAfter)> TryTakeAsync(string key, WindowLimit limit, CancellationToken ct)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        if (KnownWait(key, now) is { } knownWait)
        {
            return (null, knownWait);
        }
        var ends = now + (long)limit.Window.TotalSeconds;
        var limitCount = limit.PermitLimit;
        // A new key opens a window with one attempt; an expired window reopens with one; an open one with room
        // counts one more. A full one matches the WHERE nowhere, so no row changes and none is returned.
        var taken = await db.Database.SqlQuery<long>($"""
            INSERT INTO login_throttle ("Key", "WindowEnds", "Count") VALUES ({key}, {ends}, 1)
            ON CONFLICT ("Key") DO UPDATE SET
                "Count" = CASE WHEN login_throttle."WindowEnds" <= {now} THEN 1 ELSE login_throttle."Count" + 1 END,
                "WindowEnds" = CASE WHEN login_throttle."WindowEnds" <= {now} THEN {ends} ELSE login_throttle."WindowEnds" END
            WHERE login_throttle."WindowEnds" <= {now} OR login_throttle."Count" < {limitCount}
            RETURNING "WindowEnds" AS "Value"
            """).ToListAsync(ct);
        if (taken.Count == 1)
        {
            return (new ThrottlePermit(key, taken[0]), TimeSpan.Zero);
        }
        var windowEnds = await db.Database.SqlQuery<long>(
            $"""SELECT "WindowEnds" AS "Value" FROM login_throttle WHERE "Key" = {key}""").ToListAsync(ct);
        var wait = windowEnds.Count == 1 ? windowEnds[0] - now : 1;
        // Remembered only while the row is the window just found full: one ending later than a window opened now
        // was reopened by another attempt between the two statements, and holds room.
        if (windowEnds.Count == 1 && windowEnds[0] <= ends)
        {
            fullWindows.Remember(key, windowEnds[0]);
        }
        return (null, TimeSpan.FromSeconds(Math.Max(1, wait)));
    }

    /// <summary>
    /// A permit under every key, or none: when one key is full, the permits already taken are given back (that
    /// attempt was not checked) and the wait of the full key is returned.
    /// </summary>
    public async Task<(IReadOnlyList<ThrottlePermit>? Permits, TimeSpan RetryAfter)> TryTakeAllAsync(
        IEnumerable<(string Key, WindowLimit Limit)> keys, CancellationToken ct)
    {
        var permits = new List<ThrottlePermit>(2);
        foreach (var (key, limit) in keys)
        {
            var (permit, wait) = await TryTakeAsync(key, limit, ct);
            if (permit is null)
            {
                await GiveBackAsync(permits);
                return (null, wait);
            }
            permits.Add(permit);
        }
        return (permits, TimeSpan.Zero);
    }

    /// <summary>
    /// Gives permits back (the attempt succeeded, or was never checked). Not on the request's token: a cancelled
    /// request must not keep a permit it never used.
    /// </summary>
    public async Task GiveBackAsync(IEnumerable<ThrottlePermit> permits)
    {
        foreach (var permit in permits)
        {
            await GiveBackAsync(permit, CancellationToken.None);
        }
    }

    /// <summary>
    /// How long until a permit is free under one of <paramref name="keys"/>, when this instance has seen that key's
    /// window full; null when it has not (then the database decides). Asks nothing of the database.
    /// </summary>
    public TimeSpan? KnownFull(IEnumerable<(string Key, WindowLimit Limit)> keys)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        foreach (var (key, _) in keys)
        {
            if (KnownWait(key, now) is { } wait)
            {
                return wait;
            }
        }
        return null;
    }

    private TimeSpan? KnownWait(string key, long now) =>
        fullWindows.EndOf(key, now) is { } end ? TimeSpan.FromSeconds(Math.Max(1, end - now)) : null;

    /// <summary>Gives a permit back to the window it came from (not to a later one: that window never lent it).</summary>
    public Task GiveBackAsync(ThrottlePermit permit, CancellationToken ct)
    {
        fullWindows.Forget(permit.Key);
        return db.Database.ExecuteSqlAsync($"""
            UPDATE login_throttle SET "Count" = "Count" - 1
            WHERE "Key" = {permit.Key} AND "WindowEnds" = {permit.WindowEnds} AND "Count" > 0
            """, ct);
    }

    /// <summary>Deletes the windows that have ended: they count nothing any more.</summary>
    public Task<int> PruneAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        return db.LoginThrottle.Where(w => w.WindowEnds <= now).ExecuteDeleteAsync(ct);
    }
}

/// <summary>
/// The windows this instance has seen full, and when each ends: a refused attempt under such a key is refused
/// again without asking the database until then. A flood of wrong guesses (from many addresses, which the
/// in-memory per-address limiter does not stop) then costs a dictionary lookup per attempt instead of three
/// statements, and the requests beside it keep their latency (docs/PERFORMANCE.md). The window cannot reopen
/// before its end except by a give-back (a success), which forgets the key here; one given back on another
/// instance is seen here when the window ends, so this is never looser than the database, at most stricter for
/// the rest of a window that was full. Bounded: past <see cref="MaxKeys"/> it starts again empty.
/// </summary>
public sealed class FullWindows
{
    public const int MaxKeys = 100_000;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _ends = new(StringComparer.Ordinal);

    /// <summary>The end (Unix seconds) of <paramref name="key"/>'s window when it is known full and not ended at <paramref name="now"/>.</summary>
    public long? EndOf(string key, long now)
    {
        if (!_ends.TryGetValue(key, out var end))
        {
            return null;
        }
        if (end > now)
        {
            return end;
        }
        _ends.TryRemove(new KeyValuePair<string, long>(key, end));
        return null;
    }

    public void Remember(string key, long windowEnds)
    {
        if (_ends.Count >= MaxKeys)
        {
            _ends.Clear();
        }
        _ends[key] = windowEnds;
    }

    public void Forget(string key) => _ends.TryRemove(key, out _);
}

/// <summary>Deletes ended throttle windows every <see cref="Interval"/>, so guessing with many names leaves no lasting rows.</summary>
public sealed class ThrottlePruner(IServiceScopeFactory scopes, TimeProvider time, ILogger<ThrottlePruner> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    var pruned = await scope.ServiceProvider.GetRequiredService<LoginThrottle>().PruneAsync(stoppingToken);
                    logger.LogDebug("{Pruned} ended throttle windows pruned", pruned);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // a database hiccup must not stop the loop: the next round deletes the same rows
                    logger.LogWarning(e, "Pruning throttle windows failed; retrying in {Interval}", Interval);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
