using System.Diagnostics;
using System.Globalization;

namespace JwtApi.Benchmarks;

/// <summary>
/// What BenchmarkDotNet does not time: the hit rate of each validated-token cache under a Zipf mix, and the memory
/// it holds after many distinct tokens.
/// <list type="bullet">
/// <item><c>cache-compare hitrate [LOOKUPS]</c>: 100,000 distinct tokens drawn with Zipf s = 1.0 and 0.8 (seed 16),
/// a cache of the default 10,000; each draw is looked up and, on a miss, offered, as BearerEvents does.</item>
/// <item><c>cache-compare memory KIND [TOKENS]</c>: TOKENS (1,000,000) distinct tokens, each parsed and offered twice
/// (so admitted), with their own parsed token and identity as JwtBearer makes them; managed heap after a full
/// collection and RSS, after the first 10,000 and at the end. One KIND per process, so no run inherits another's
/// heap.</item>
/// <item><c>cache-compare flood [ROUNDS]</c>: the floods of ValidationCacheBenchmarks timed with a stopwatch, the
/// caches taking turns round by round (the first round is warm-up), so a neighbour's load on a shared machine falls
/// on all of them alike; the median of the rounds in operations per second.</item>
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
        ["cache-compare", "flood", .. var rest] => Flood(rest is [var r] ? int.Parse(r, CultureInfo.InvariantCulture) : 7),
        _ => Usage(),
    };

    private static int Usage()
    {
        Console.Error.WriteLine($"usage: cache-compare hitrate [LOOKUPS] | cache-compare flood [ROUNDS] | cache-compare memory {string.Join('|', Kinds)} [TOKENS]");
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

    private static int Flood(int rounds)
    {
        const int Ops = 200_000;
        var exp = ValidationCacheLoad.Exp();
        var fill = Enumerable.Range(0, Size).Select(n => ValidationCacheLoad.Token(n, exp)).ToArray();
        var flood = Enumerable.Range(Size, Ops).Select(n => ValidationCacheLoad.Token(n, exp)).ToArray();
        var result = ValidationCacheLoad.Result(fill[0]);
        var modes = new (string Name, int Threads, int Offers)[]
        {
            ("seen once, 1 thread", 1, 1), ("seen once, 2 threads", 2, 1), ("admitted, 1 thread", 1, 2), ("admitted, 2 threads", 2, 2),
        };
        var rates = new Dictionary<(CacheKind, string), List<double>>();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var kind in Kinds.Skip(round % Kinds.Length).Concat(Kinds.Take(round % Kinds.Length)))
            {
                foreach (var (name, threads, offers) in modes)
                {
                    // a fresh cache full of other tokens each time: every flood token is new to it and its doorkeeper
                    var cache = TokenCacheCandidates.Create(kind, Size, TimeProvider.System);
                    foreach (var token in fill)
                    {
                        cache.Add(token, result, TimeSpan.Zero);
                        cache.Add(token, result, TimeSpan.Zero);
                    }
                    void Run(int from, int to)
                    {
                        for (var i = from; i < to; i++)
                        {
                            if (!cache.TryGet(flood[i], out _))
                            {
                                for (var o = 0; o < offers; o++)
                                {
                                    cache.Add(flood[i], result, TimeSpan.Zero);
                                }
                            }
                        }
                    }
                    var clock = Stopwatch.StartNew();
                    if (threads == 1)
                    {
                        Run(0, Ops);
                    }
                    else
                    {
                        Parallel.Invoke(() => Run(0, Ops / 2), () => Run(Ops / 2, Ops));
                    }
                    clock.Stop();
                    if (round > 0)
                    {
                        (rates.TryGetValue((kind, name), out var list) ? list : rates[(kind, name)] = []).Add(Ops / clock.Elapsed.TotalSeconds);
                    }
                }
            }
        }
        Console.WriteLine($"{Ops:N0} new tokens a flood, cache size {Size:N0} (full), median of {rounds - 1} rounds after one of warm-up; lookups + offers a second");
        Console.WriteLine($"| Cache | {string.Join(" | ", modes.Select(m => m.Name))} |");
        Console.WriteLine($"|---|{string.Concat(modes.Select(_ => "---:|"))}");
        foreach (var kind in Kinds)
        {
            Console.WriteLine($"| {kind} | {string.Join(" | ", modes.Select(m => Median(rates[(kind, m.Name)]).ToString("N0", CultureInfo.InvariantCulture)))} |");
        }
        return 0;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
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
