using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using JwtApi.Hosting;
using Microsoft.Extensions.Options;

namespace JwtApi.Auth;

/// <summary>Too many password hashes are already running and queued: answered 503 with Retry-After.</summary>
public sealed class PasswordHashingBusyException() : Exception("Too many password checks are waiting.");

/// <summary>
/// BCrypt hashing and verification, with the same cost whether or not the user exists. At most
/// <c>Passwords:MaxConcurrentHashes</c> run at once (one per core by default) and at most
/// <c>Passwords:MaxQueuedHashes</c> wait, without holding a thread: a login flood queues, then is refused,
/// instead of taking every thread the protected endpoints need. The hashing itself runs on
/// <see cref="HashingThreads"/>, below the request threads' CPU priority.
/// </summary>
public sealed class PasswordHasher : IDisposable
{
    /// <summary>BCrypt reads at most 72 bytes; anything past that would be silently ignored.</summary>
    public const int MaxPasswordBytes = 72;

    private readonly int _workFactor;

    // Verified against when the user does not exist, so an unknown name costs the same BCrypt work as a wrong
    // password and a stopwatch cannot tell which names are registered; and at lower work factors to pad the check
    // of a hash made before the work factor rose. One per work factor, made lazily: start-up stays fast.
    private readonly ConcurrentDictionary<int, Lazy<string>> _dummyHashes = new();

    private readonly ConcurrencyLimiter _limiter;
    private readonly HashingThreads _threads;
    private readonly Telemetry _telemetry;

    public PasswordHasher(IOptions<PasswordOptions> options, Telemetry telemetry)
    {
        _telemetry = telemetry;
        _workFactor = options.Value.WorkFactor;
        var concurrency = options.Value.MaxConcurrentHashes ?? Environment.ProcessorCount;
        _threads = new HashingThreads(concurrency);
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = concurrency,
            QueueLimit = options.Value.MaxQueuedHashes,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        telemetry.ObservePasswordHashingQueue(() => QueueLength);
    }

    public static bool FitsBcrypt(string password) => Encoding.UTF8.GetByteCount(password) <= MaxPasswordBytes;

    /// <summary>Hashes currently waiting for a turn (a gauge for metrics).</summary>
    public long QueueLength => _limiter.GetStatistics()?.CurrentQueuedCount ?? 0;

    /// <summary>Turns free right now.</summary>
    public long FreeTurns => _limiter.GetStatistics()?.CurrentAvailablePermits ?? 0;

    public Task<string> HashAsync(string password, CancellationToken ct) =>
        RunAsync(Telemetry.Activities.PasswordHash, Telemetry.HashingOperation.Hash, () => Hash(password), ct);

    /// <summary>
    /// True when <paramref name="password"/> matches <paramref name="hash"/>. A null hash (no such user) is
    /// checked against a dummy hash and always fails, after the same work.
    /// </summary>
    public Task<bool> VerifyAsync(string password, string? hash, CancellationToken ct) =>
        RunAsync(Telemetry.Activities.PasswordVerify, Telemetry.HashingOperation.Verify, () => Verify(password, hash), ct);

    /// <summary>Waits for a turn, then runs <paramref name="work"/> on the hashing threads.</summary>
    private async Task<T> RunAsync<T>(string activityName, string operation, Func<T> work, CancellationToken ct)
    {
        // the span covers the wait for a turn too; the event marks where the wait ends and BCrypt begins
        using var activity = _telemetry.StartActivity(activityName);
        using var turn = await TurnAsync(ct);
        activity?.AddEvent(new ActivityEvent("jwtapi.password_hashing.turn"));
        var started = Stopwatch.GetTimestamp();
        var result = await _threads.RunAsync(work);
        _telemetry.PasswordHashed(operation, Stopwatch.GetElapsedTime(started));
        return result;
    }

    private async ValueTask<RateLimitLease> TurnAsync(CancellationToken ct)
    {
        var lease = await _limiter.AcquireAsync(1, ct);
        if (!lease.IsAcquired)
        {
            lease.Dispose();
            throw new PasswordHashingBusyException();
        }
        return lease;
    }

    private string Hash(string password)
    {
        // Refuse rather than truncate: two passwords sharing their first 72 bytes must not be equal.
        if (!FitsBcrypt(password))
        {
            throw new ArgumentException($"Passwords longer than {MaxPasswordBytes} UTF-8 bytes are refused before hashing.", nameof(password));
        }
        return BCrypt.Net.BCrypt.HashPassword(password, _workFactor);
    }

    private bool Verify(string password, string? hash)
    {
        var tooLong = !FitsBcrypt(password);
        bool matches;
        try
        {
            matches = BCrypt.Net.BCrypt.Verify(password, hash ?? DummyHash(_workFactor));
        }
        catch (BCrypt.Net.SaltParseException)
        {
            matches = false;   // a corrupt stored hash is a failed login, never a 500
        }
        foreach (var workFactor in PaddingWorkFactors(hash, _workFactor))
        {
            BCrypt.Net.BCrypt.Verify(password, DummyHash(workFactor));
        }
        // Over 72 bytes BCrypt would compare only a prefix: never a match.
        return matches && hash is not null && !tooLong;
    }

    private string DummyHash(int workFactor) => _dummyHashes.GetOrAdd(workFactor, w => new Lazy<string>(() =>
        BCrypt.Net.BCrypt.HashPassword(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), w))).Value;

    /// <summary>
    /// The work factors of the dummy verifies that pad the check of <paramref name="hash"/> to the cost of one at
    /// <paramref name="workFactor"/>, so a stopwatch cannot tell an account whose hash predates a raised work
    /// factor from an unknown name (checked at the full cost). A verify at w costs 2^w, and
    /// 2^W - 2^w = 2^w + ... + 2^(W-1): one dummy verify at each of w..W-1. None for a hash at (or above) the
    /// work factor, or for no hash (the dummy is at the full cost); one at the full cost for a hash BCrypt cannot
    /// read (refused at once).
    /// </summary>
    public static IReadOnlyList<int> PaddingWorkFactors(string? hash, int workFactor)
    {
        if (hash is null)
        {
            return [];
        }
        var parts = hash.Split('$');
        if (parts.Length != 4 || parts[0].Length != 0 || hash.Length != 60 ||
            !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var stored) || stored is < 4 or > 31)
        {
            return [workFactor];
        }
        return stored >= workFactor ? [] : [.. Enumerable.Range(stored, workFactor - stored)];
    }

    /// <summary>True when the stored hash was made with a lower work factor than configured now.</summary>
    public bool NeedsRehash(string hash) => BCrypt.Net.BCrypt.PasswordNeedsRehash(hash, _workFactor);

    public void Dispose()
    {
        _limiter.Dispose();
        _threads.Dispose();
    }
}
