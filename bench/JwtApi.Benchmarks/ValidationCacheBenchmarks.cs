using BenchmarkDotNet.Attributes;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Benchmarks;

/// <summary>
/// The validated-token cache, hand-written (<see cref="TwoGenerationTokenCache"/>, the replaced one) against
/// BitFaster.Caching's ConcurrentLru (Tokens/ValidatedTokenCache now) and ConcurrentTLru behind the same rules
/// (<see cref="BitFasterTokenCache"/>), each full to its default size
/// (10,000): a hit on one hot token, and floods of tokens never seen before, looked up and added as
/// BearerEvents does, on one thread and on two. "Seen once" is the flood as it comes (each new token misses
/// and is offered once: the doorkeeper turns it away); "admitted" offers each new token twice, so every one is
/// inserted and another evicted. Hit rate and memory are <c>cache-compare</c> (<see cref="ValidationCacheComparison"/>).
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class ValidationCacheBenchmarks
{
    private const int Size = 10_000;
    private const int Batch = 1 << 16;
    // 2^19 distinct tokens, cycled: a token comes back after 524,288 others, by when the doorkeeper's 65,536 slots
    // have all been overwritten (it re-admits one in ~3,000) and the cache has long dropped it.
    private const int PoolSize = 1 << 19;
    private static readonly Lazy<string[]> Pool = new(() =>
    {
        var exp = ValidationCacheLoad.Exp();
        return [.. Enumerable.Range(Size + 1, PoolSize).Select(n => ValidationCacheLoad.Token(n, exp))];
    });

    [Params(CacheKind.HandWritten, CacheKind.Lru, CacheKind.TLru)]
    public CacheKind Cache { get; set; }

    private ITokenCacheCandidate _cache = null!;
    private TokenValidationResult _result = null!;
    private string _hot = "";
    private string[] _pool = [];
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _pool = Pool.Value;
        _cache = TokenCacheCandidates.Create(Cache, Size, TimeProvider.System);
        var exp = ValidationCacheLoad.Exp();
        _hot = ValidationCacheLoad.Token(0, exp);
        _result = ValidationCacheLoad.Result(_hot);
        // full of other tokens first, the hot one last: each cache drops first what came first and was never used
        for (var n = 1; n <= Size; n++)
        {
            var token = ValidationCacheLoad.Token(n, exp);
            _cache.Add(token, _result, TimeSpan.Zero);
            _cache.Add(token, _result, TimeSpan.Zero);
        }
        _cache.Add(_hot, _result, TimeSpan.Zero);
        _cache.Add(_hot, _result, TimeSpan.Zero);
        if (!_cache.TryGet(_hot, out _))
        {
            throw new InvalidOperationException("The hot token is not cached.");
        }
    }

    [Benchmark(Description = "hit (one hot token)")]
    public bool Hit() => _cache.TryGet(_hot, out _);

    [Benchmark(OperationsPerInvoke = Batch, Description = "flood, seen once, 1 thread")]
    public void FloodSeenOnce() => Flood(Take(Batch), Batch, offers: 1);

    [Benchmark(OperationsPerInvoke = Batch, Description = "flood, admitted, 1 thread")]
    public void FloodAdmitted() => Flood(Take(Batch), Batch, offers: 2);

    [Benchmark(OperationsPerInvoke = Batch, Description = "flood, seen once, 2 threads")]
    public void FloodSeenOnce2() => FloodOnTwo(offers: 1);

    [Benchmark(OperationsPerInvoke = Batch, Description = "flood, admitted, 2 threads")]
    public void FloodAdmitted2() => FloodOnTwo(offers: 2);

    private int Take(int count)
    {
        var start = _next;
        _next = (_next + count) % PoolSize;
        return start;
    }

    private void FloodOnTwo(int offers)
    {
        var start = Take(Batch);
        Parallel.Invoke(() => Flood(start, Batch / 2, offers), () => Flood((start + Batch / 2) % PoolSize, Batch / 2, offers));
    }

    // as BearerEvents: a lookup, and on a miss the (here already validated) result offered to the cache
    private void Flood(int start, int count, int offers)
    {
        for (var i = 0; i < count; i++)
        {
            var token = _pool[(start + i) % PoolSize];
            if (!_cache.TryGet(token, out _))
            {
                for (var o = 0; o < offers; o++)
                {
                    _cache.Add(token, _result, TimeSpan.Zero);
                }
            }
        }
    }
}
