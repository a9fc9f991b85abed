using System.Diagnostics;
using System.Globalization;

namespace JwtApi.Benchmarks;

/// <summary>
/// What BenchmarkDotNet does not time: the hit rate of each validated-token cache under a Zipf mix, and the memory
/// it holds after many distinct tokens.
/// <list type="bullet">
/// <item><c>cache-compare hitrate [LOOKUPS]</c>: 100,000 distinct tokens drawn with Zipf s = 1.0 and 0.8 (seed 16),
/// a cache of the default 10,000; each draw is looked up and, on a miss, offered, as CachingTokenHandler does.</item>
/// <item><c>cache-compare memory KIND [TOKENS]</c>: TOKENS (1,000,000) distinct tokens, each parsed and offered twice
/// (so admitted), with their own parsed token and identity as JwtBearer makes them; managed heap after a full
/// collection and RSS, after the first 10,000 and at the end. One KIND per process, so no run inherits another's
/// heap.</item>
/// </list>
/// </summary>
public static class ValidationCacheComparison
{
    private const int Size = 10_000;
    private const int Distinct = 100_000;
    private static readonly CacheKind[] Kinds = Enum.GetValues<CacheKind>();

    public static int Run(string[] args) => args switch
    {
        ["cache-compare", "hitrate", .. var rest] => HitRate(rest is [var n] ? int.Parse(n, CultureInfo.InvariantCulture) : 3_000_000),
        ["cache-compare", "memory", var kind, .. var rest] =>
            Memory(Enum.Parse<CacheKind>(kind, ignoreCase: true), rest is [var n] ? int.Parse(n, CultureInfo.InvariantCulture) : 1_000_000),
        _ => Usage(),
    };

    private static int Usage()
    {
        Console.Error.WriteLine($"usage: cache-compare hitrate [LOOKUPS] | cache-compare memory {string.Join('|', Kinds)} [TOKENS]");
        return 2;
    }

    private static int HitRate(int lookups)
    {
        var exp = ValidationCacheLoad.Exp();
        var tokens = Enumerable.Range(0, Distinct).Select(n => ValidationCacheLoad.Token(n, exp)).ToArray();
        // one parsed token and identity for all: the caches never compare them with the key, and a hit copies the identity either way
        var result = ValidationCacheLoad.Result(tokens[0]);
        Console.WriteLine($"{Distinct:N0} distinct tokens ({tokens[0].Length} chars), cache size {Size:N0}, {lookups:N0} lookups, seed 16");
        Console.WriteLine("| Zipf s | Cache | Hit rate | Hit rate, last 2/3 | Size at end | Seconds |");
        Console.WriteLine("|---:|---|---:|---:|---:|---:|");
        foreach (var s in new[] { 1.0, 0.8 })
        {
            var draws = ValidationCacheLoad.Zipf(Distinct, s, lookups, seed: 16);
            Console.WriteLine($"| {s:F1} | (the {Size:N0} most frequent, an oracle) | {ValidationCacheLoad.TopShare(Distinct, s, Size):P1} | | | |");
            foreach (var kind in Kinds)
            {
                var cache = TokenCacheCandidates.Create(kind, Size, TimeProvider.System);
                long hits = 0, lateHits = 0;
                var clock = Stopwatch.StartNew();
                for (var i = 0; i < draws.Length; i++)
                {
                    var token = tokens[draws[i]];
                    if (cache.TryGet(token, out _))
                    {
                        hits++;
                        lateHits += i >= lookups / 3 ? 1 : 0;
                    }
                    else
                    {
                        cache.Add(token, result, TimeSpan.Zero);
                    }
                }
                Console.WriteLine($"| {s:F1} | {kind} | {(double)hits / lookups:P1} | {(double)lateHits / (lookups - lookups / 3):P1} | {cache.Count:N0} | {clock.Elapsed.TotalSeconds:F1} |");
            }
        }
        return 0;
    }

    private static int Memory(CacheKind kind, int count)
    {
        var exp = ValidationCacheLoad.Exp();
        var before = Measure();
        var cache = TokenCacheCandidates.Create(kind, Size, TimeProvider.System);
        (long Managed, long Rss) first = default;
        var clock = Stopwatch.StartNew();
        for (var n = 0; n < count; n++)
        {
            var token = ValidationCacheLoad.Token(n, exp);
            var result = ValidationCacheLoad.Result(token);
            cache.Add(token, result, TimeSpan.Zero);
            cache.Add(token, result, TimeSpan.Zero);
            if (n + 1 == Size)
            {
                first = Measure();
                Console.WriteLine($"{kind}: after {Size:N0} tokens: {cache.Count:N0} entries, managed {Mb(first.Managed - before.Managed)} MB over the empty process " +
                    $"({(first.Managed - before.Managed) / Math.Max(1, cache.Count):N0} B an entry), RSS {Mb(first.Rss)} MB");
            }
        }
        var last = Measure();
        GC.KeepAlive(cache);
        Console.WriteLine($"{kind}: after {count:N0} tokens ({clock.Elapsed.TotalSeconds:F1} s): {cache.Count:N0} entries, managed {Mb(last.Managed - before.Managed)} MB over the empty process, " +
            $"RSS {Mb(last.Rss)} MB (empty process: managed {Mb(before.Managed)} MB, RSS {Mb(before.Rss)} MB; GC {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")})");
        Console.WriteLine($"| {kind} | {Mb(first.Managed - before.Managed)} | {Mb(first.Rss)} | {Mb(last.Managed - before.Managed)} | {Mb(last.Rss)} | {cache.Count:N0} |");
        return 0;
    }

    private static (long Managed, long Rss) Measure()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        var managed = GC.GetTotalMemory(forceFullCollection: true);
        using var process = Process.GetCurrentProcess();
        return (managed, process.WorkingSet64);
    }

    private static string Mb(long bytes) => (bytes / 1024.0 / 1024.0).ToString("F1", CultureInfo.InvariantCulture);
}
