using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Benchmarks;

/// <summary>
/// Tokens/ValidatedTokenCache as it was until BitFaster.Caching's ConcurrentLru replaced its two generations
/// (commit 77db425, unchanged but for its name and the interface), kept so the comparison in docs/PERFORMANCE.md
/// can be run again.
/// </summary>
public sealed class TwoGenerationTokenCache : ITokenCacheCandidate
{
    // Two generations (an approximate LRU without a background sweep): new entries and hits go to the current
    // one; when it holds half the size, it becomes the previous one and the old previous is dropped whole. A
    // token not used for a whole generation falls out. Every operation is O(1); under a flood of new tokens
    // (each seen once) inserting costs a dictionary add, nothing more. MemoryCache with a size limit was
    // measured here first: its compactions sorting the whole cache made a flood of new tokens 3x slower than
    // no cache at all.
    private readonly int _generationSize;
    private readonly TimeProvider _time;
    private readonly Lock _rotation = new();
    private ConcurrentDictionary<string, Entry> _current = new(StringComparer.Ordinal);
    private ConcurrentDictionary<string, Entry> _previous = new(StringComparer.Ordinal);
    private int _currentCount;

    /// <param name="size">At most this many entries; 0 for no cache.</param>
    /// <param name="time">The clock IdentityModel judges exp on, so an entry never outlives what it would accept.</param>
    public TwoGenerationTokenCache(int size, TimeProvider time)
    {
        _time = time;
        _generationSize = size <= 0 ? 0 : Math.Max(1, size / 2);
    }

    public bool Enabled => _generationSize > 0;

    /// <summary>Entries held now (counts both generations: for tests and diagnostics, not the request path).</summary>
    public int Count => _current.Count + _previous.Count;

    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds() - (long)TimeSpan.FromDays(1).TotalSeconds;

    // Only what a hit hands back: not the TokenValidationResult, which keeps its own identity besides the copy.
    private sealed record Entry(SecurityToken Token, string? Issuer, string? TokenType, ClaimsIdentity Identity, DateTimeOffset ValidUntil);

    // Admission: a token is cached on its second sighting. One that is seen once (a flood of new or forged
    // tokens, a client that makes one call) costs no insert and no memory. A fixed table of token hashes, the
    // doorkeeper of TinyLFU: a collision only delays or hastens one admission, and the cache key stays the
    // whole token, so it can never make a forgery hit.
    private const int DoorkeeperSlots = 1 << 16;
    private readonly int[] _seen = new int[DoorkeeperSlots];

    /// <summary>
    /// A validation result for a token validated before and not expired since. The identity is a copy: code
    /// further down the pipeline may add claims to its principal without reaching the next request's.
    /// </summary>
    public bool TryGet(string token, [NotNullWhen(true)] out TokenValidationResult? result)
    {
        result = null;
        if (!Enabled)
        {
            return false;
        }
        var current = _current;
        if (!current.TryGetValue(token, out var entry))
        {
            if (!_previous.TryGetValue(token, out entry))
            {
                return false;
            }
            Insert(token, entry);   // still in use: keep it through the next rotation
        }
        if (_time.GetUtcNow() >= entry.ValidUntil)
        {
            current.TryRemove(token, out _);
            _previous.TryRemove(token, out _);
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

    /// <summary>Remembers a valid result until its token's exp plus <paramref name="clockSkew"/>.</summary>
    public void Add(string token, TokenValidationResult result, TimeSpan clockSkew)
    {
        if (!Enabled || !result.IsValid || result.SecurityToken is not JsonWebToken jwt ||
            !jwt.TryGetPayloadValue<long>(JwtRegisteredClaimNames.Exp, out var exp))
        {
            return;
        }
        // exp past year 9999 (a DateTimeOffset's end) is not an error, only very far away
        var validUntil = exp >= MaxUnixSeconds ? DateTimeOffset.MaxValue : DateTimeOffset.FromUnixTimeSeconds(exp) + clockSkew;
        if (validUntil <= _time.GetUtcNow())
        {
            return;
        }
        if (!SeenBefore(token))
        {
            return;
        }
        // a copy: the first request's own identity is as free to change as every later one's
        Insert(token, new Entry(result.SecurityToken, result.Issuer, result.TokenType, result.ClaimsIdentity.Clone(), validUntil));
    }

    /// <summary>True on the second sighting of <paramref name="token"/> (as far as the doorkeeper remembers).</summary>
    private bool SeenBefore(string token)
    {
        var hash = StringComparer.Ordinal.GetHashCode(token) | 1;   // never 0, the empty slot
        var slot = (uint)hash % DoorkeeperSlots;
        if (Volatile.Read(ref _seen[slot]) == hash)
        {
            return true;
        }
        Volatile.Write(ref _seen[slot], hash);
        return false;
    }

    private void Insert(string token, Entry entry)
    {
        if (_current.TryAdd(token, entry) && Interlocked.Increment(ref _currentCount) >= _generationSize)
        {
            lock (_rotation)
            {
                if (Volatile.Read(ref _currentCount) >= _generationSize)
                {
                    _previous = _current;
                    _current = new ConcurrentDictionary<string, Entry>(StringComparer.Ordinal);
                    Volatile.Write(ref _currentCount, 0);
                }
            }
        }
    }

    /// <summary>Forgets every token: for a change of the key set.</summary>
    public void Clear()
    {
        lock (_rotation)
        {
            _current = new ConcurrentDictionary<string, Entry>(StringComparer.Ordinal);
            _previous = new ConcurrentDictionary<string, Entry>(StringComparer.Ordinal);
            Volatile.Write(ref _currentCount, 0);
            Array.Clear(_seen);
        }
    }

}
