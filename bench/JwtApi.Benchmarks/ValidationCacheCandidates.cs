using System.Diagnostics.CodeAnalysis;
using System.Security.Claims;
using BitFaster.Caching;
using BitFaster.Caching.Lru;
using JwtApi.Tokens;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Benchmarks;

/// <summary>The shape both validated-token caches share, so one load drives either.</summary>
public interface ITokenCacheCandidate
{
    bool TryGet(string token, [NotNullWhen(true)] out TokenValidationResult? result);
    void Add(string token, TokenValidationResult result, TimeSpan clockSkew);
    int Count { get; }
}

/// <summary>The candidates measured in docs/PERFORMANCE.md ("hand-written or BitFaster.Caching").</summary>
public enum CacheKind
{
    /// <summary>The hand-written two generations and the doorkeeper (<see cref="TwoGenerationTokenCache"/>, the replaced one).</summary>
    HandWritten,
    /// <summary>BitFaster's ConcurrentLru (queues in equal thirds) behind the same doorkeeper and expiry check: Tokens/ValidatedTokenCache as shipped.</summary>
    Lru,
    /// <summary>The same with BitFaster's default queues (hot, warm, cold 10/80/10).</summary>
    LruFavorWarm,
    /// <summary>BitFaster's ConcurrentTLru (a per-cache time-to-live) behind the same doorkeeper and expiry check.</summary>
    TLru,
    /// <summary>ConcurrentLru with every valid token inserted on its first sighting: what the doorkeeper is worth.</summary>
    LruNoDoorkeeper,
}

public static class TokenCacheCandidates
{
    public static ITokenCacheCandidate Create(CacheKind kind, int size, TimeProvider time) => kind switch
    {
        CacheKind.HandWritten => new TwoGenerationTokenCache(size, time),
        CacheKind.Lru => new ShippedCandidate(new ValidatedTokenCache(size, time)),
        CacheKind.LruFavorWarm => new BitFasterTokenCache(new FavorWarmPartition(size), time, timeToLive: null, doorkeeper: true),
        CacheKind.TLru => new BitFasterTokenCache(new EqualCapacityPartition(size), time, BitFasterTokenCache.LongestTokenLife, doorkeeper: true),
        CacheKind.LruNoDoorkeeper => new BitFasterTokenCache(new EqualCapacityPartition(size), time, timeToLive: null, doorkeeper: false),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private sealed class ShippedCandidate(ValidatedTokenCache cache) : ITokenCacheCandidate
    {
        public bool TryGet(string token, [NotNullWhen(true)] out TokenValidationResult? result) => cache.TryGet(token, out result);
        public void Add(string token, TokenValidationResult result, TimeSpan clockSkew) => cache.Add(token, result, clockSkew);
        public int Count => cache.Count;
    }
}

/// <summary>
/// ValidatedTokenCache on BitFaster.Caching's ConcurrentLru or ConcurrentTLru through their common interface, with
/// every rule of the shipped one kept line for line (Lru is measured on the shipped class itself): the whole token
/// as key, the doorkeeper (optional here, to measure it), the entry's ValidUntil checked on every hit on the injected
/// TimeProvider (a TLru's time-to-live is one for the whole cache and runs on its own clock, so it cannot stand in
/// for a token's exp), and the identity copied per hit.
/// </summary>
public sealed class BitFasterTokenCache : ITokenCacheCandidate
{
    /// <summary>Jwt:AccessTokenLifetime's upper bound plus a generous skew: the TLru's time-to-live.</summary>
    public static readonly TimeSpan LongestTokenLife = TimeSpan.FromHours(1) + TimeSpan.FromMinutes(5);

    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds() - (long)TimeSpan.FromDays(1).TotalSeconds;
    private const int DoorkeeperSlots = 1 << 16;

    private readonly ICache<string, Entry> _lru;   // one interface call more per operation than the shipped class
    private readonly TimeProvider _time;
    private readonly int[]? _seen;

    private sealed record Entry(SecurityToken Token, string? Issuer, string? TokenType, ClaimsIdentity Identity, DateTimeOffset ValidUntil);

    public BitFasterTokenCache(ICapacityPartition size, TimeProvider time, TimeSpan? timeToLive, bool doorkeeper)
    {
        _time = time;
        _seen = doorkeeper ? new int[DoorkeeperSlots] : null;
        _lru = timeToLive is { } ttl
            ? new ConcurrentTLru<string, Entry>(Environment.ProcessorCount, size, StringComparer.Ordinal, ttl)
            : new ConcurrentLru<string, Entry>(Environment.ProcessorCount, size, StringComparer.Ordinal);
    }

    public int Count => _lru.Count;

    public bool TryGet(string token, [NotNullWhen(true)] out TokenValidationResult? result)
    {
        result = null;
        if (!_lru.TryGet(token, out var entry))
        {
            return false;
        }
        if (_time.GetUtcNow() >= entry.ValidUntil)
        {
            _lru.TryRemove(token);
            return false;
        }
        result = new TokenValidationResult
        {
            IsValid = true,
            SecurityToken = entry.Token,
            ClaimsIdentity = entry.Identity.Clone(),
            Issuer = entry.Issuer,
            TokenType = entry.TokenType,
        };
        return true;
    }

    public void Add(string token, TokenValidationResult result, TimeSpan clockSkew)
    {
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt ||
            !jwt.TryGetPayloadValue<long>(JwtRegisteredClaimNames.Exp, out var exp))
        {
            return;
        }
        var validUntil = exp >= MaxUnixSeconds ? DateTimeOffset.MaxValue : DateTimeOffset.FromUnixTimeSeconds(exp) + clockSkew;
        if (validUntil <= _time.GetUtcNow())
        {
            return;
        }
        if (_seen is not null && !SeenBefore(_seen, token))
        {
            return;
        }
        _lru.AddOrUpdate(token, new Entry(result.SecurityToken, result.Issuer, result.TokenType, result.ClaimsIdentity.Clone(), validUntil));
    }

    private static bool SeenBefore(int[] seen, string token)
    {
        var hash = StringComparer.Ordinal.GetHashCode(token) | 1;
        var slot = (uint)hash % DoorkeeperSlots;
        if (Volatile.Read(ref seen[slot]) == hash)
        {
            return true;
        }
        Volatile.Write(ref seen[slot], hash);
        return false;
    }
}
