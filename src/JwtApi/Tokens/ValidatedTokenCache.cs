using System.Diagnostics.CodeAnalysis;
using System.Security.Claims;
using BitFaster.Caching.Lru;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Tokens;

/// <summary><c>Jwt:ValidationCache</c>.</summary>
public sealed class ValidationCacheOptions
{
    public const int MaxSize = 1_000_000;

    /// <summary>How many validated tokens are remembered; 0 turns the cache off.</summary>
    public int Size { get; init; } = 10_000;
}

/// <summary>
/// Tokens whose signature and claims have already been validated, so a client that repeats its token (every
/// client, until the token expires) skips the signature check (Envoy's jwt_authn keeps the same cache). The key
/// is a whole string holding the token (on the request path, the whole <c>Authorization</c> header value, so a
/// hit needs no copy of the token): a forgery differs from every cached token by at least one character and always
/// misses. An entry lives no longer than its token's <c>exp</c> plus the clock skew, the cache holds at most
/// <see cref="ValidationCacheOptions.Size"/> entries (BitFaster.Caching's ConcurrentLru drops the least recently
/// used), and it only ever holds tokens signed by the current key set, which is fixed for the life of the process:
/// a key change is a restart, and a restart empties it. <see cref="BearerEvents"/> fills it in <c>OnTokenValidated</c>
/// with tokens that passed every check, and answers a hit in <c>OnMessageReceived</c>, after the revocation check,
/// before JwtBearer clones its validation parameters; a hit still goes through authorization.
/// </summary>
public sealed class ValidatedTokenCache : IDisposable
{
    // ConcurrentLru, not a hand-written LRU: measured against the two generations it replaced (docs/PERFORMANCE.md,
    // "hand-written or BitFaster.Caching"), it hit more often under a Zipf mix because it holds its whole size, not
    // between half and all of it, and it was as fast or faster under floods of new tokens. Its queues split equally,
    // not BitFaster's default 10/80/10: with a cold queue of a tenth, the oldest warm entry, moved to cold when the
    // cache first fills, can be evicted before a token used every third new token comes back: at 11 of the sizes
    // from 3 to 62, up to 23 (the KeepsATokenInUse test's case). Equal thirds keep it at every size from 6, for 2-3
    // points of hit rate. Not
    // ConcurrentTLru: its time-to-live is one for the whole cache and runs on its own clock, and an entry's end is
    // its token's exp, checked on every hit against the TimeProvider below. MemoryCache with a size limit was
    // measured here first: its compactions sorting the whole cache made a flood of new tokens 3x slower than no
    // cache at all.
    private readonly ConcurrentLru<string, Entry>? _lru;
    private readonly TimeProvider _time;

    /// <param name="size">At most this many entries (ConcurrentLru's least is 3, so 1 and 2 hold 3); 0 for no cache.</param>
    /// <param name="time">The clock IdentityModel judges exp on, so an entry never outlives what it would accept.</param>
    public ValidatedTokenCache(int size, TimeProvider time)
    {
        _time = time;
        _lru = size <= 0 ? null : new ConcurrentLru<string, Entry>(
            Environment.ProcessorCount, new EqualCapacityPartition(Math.Max(3, size)), SignatureEndComparer.Instance);
    }

    [MemberNotNullWhen(true, nameof(_lru))]
    public bool Enabled => _lru is not null;

    /// <summary>Entries held now (for tests and diagnostics, not the request path).</summary>
    public int Count => _lru?.Count ?? 0;

    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds() - (long)TimeSpan.FromDays(1).TotalSeconds;

    // Only what a hit hands back: not the TokenValidationResult, which keeps its own identity besides the copy.
    private sealed record Entry(JsonWebToken Token, ClaimsIdentity Identity, DateTimeOffset ValidUntil);

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
        if (!TryGetEntry(token, out var entry))
        {
            return false;
        }
        result = new TokenValidationResult
        {
            IsValid = true,
            SecurityToken = entry.Token,
            ClaimsIdentity = entry.Identity.Clone(),
            Issuer = entry.Token.Issuer,
            TokenType = entry.Token.Typ,
        };
        return true;
    }

    /// <summary>
    /// The request path's lookup: the validated token and a copy of its identity, without the
    /// <see cref="TokenValidationResult"/> around them (JwtBearer's events need only these two).
    /// </summary>
    public bool TryGet(string token, [NotNullWhen(true)] out JsonWebToken? securityToken, [NotNullWhen(true)] out ClaimsIdentity? identity)
    {
        securityToken = null;
        identity = null;
        if (!TryGetEntry(token, out var entry))
        {
            return false;
        }
        securityToken = entry.Token;
        identity = entry.Identity.Clone();
        return true;
    }

    private bool TryGetEntry(string token, [NotNullWhen(true)] out Entry? entry)
    {
        entry = null;
        if (!Enabled || !_lru.TryGet(token, out var found))
        {
            return false;
        }
        if (_time.GetUtcNow() >= found.ValidUntil)
        {
            _lru.TryRemove(token);
            return false;
        }
        entry = found;
        return true;
    }

    /// <summary>Remembers a valid result until its token's exp plus <paramref name="clockSkew"/>.</summary>
    public void Add(string token, TokenValidationResult result, TimeSpan clockSkew)
    {
        if (result.IsValid && result.SecurityToken is JsonWebToken jwt)
        {
            Add(token, jwt, result.ClaimsIdentity, clockSkew);
        }
    }

    /// <summary>
    /// The request path's insert: a token that passed every check and the identity made from it, without a
    /// <see cref="TokenValidationResult"/> around them; remembered until its exp plus <paramref name="clockSkew"/>.
    /// </summary>
    public void Add(string token, JsonWebToken jwt, ClaimsIdentity identity, TimeSpan clockSkew)
    {
        if (!Enabled || !jwt.TryGetPayloadValue<long>(JwtRegisteredClaimNames.Exp, out var exp))
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
        _lru.AddOrUpdate(token, new Entry(jwt, identity.Clone(), validUntil));
    }

    /// <summary>True on the second sighting of <paramref name="token"/> (as far as the doorkeeper remembers).</summary>
    private bool SeenBefore(string token)
    {
        var hash = SignatureEndComparer.Instance.GetHashCode(token) | 1;   // never 0, the empty slot
        var slot = (uint)hash % DoorkeeperSlots;
        if (Volatile.Read(ref _seen[slot]) == hash)
        {
            return true;
        }
        Volatile.Write(ref _seen[slot], hash);
        return false;
    }

    /// <summary>Forgets every token: for a change of the key set.</summary>
    public void Clear()
    {
        _lru?.Clear();
        Array.Clear(_seen);
    }

    public void Dispose() => Clear();

    /// <summary>
    /// Ordinal equality of whole keys, hashed on their last 24 characters: the end of a token's signature, as good
    /// as random between two tokens (144 bits of a MAC or signature), hashed in a fraction of the time the whole
    /// 600-1,500 characters take, on every lookup. Only tokens that passed validation are ever stored, so no one
    /// without the key can fill one bucket, and the hash is the runtime's randomized one: a key that shares a stored
    /// token's ending costs one comparison and still misses.
    /// </summary>
    internal sealed class SignatureEndComparer : IEqualityComparer<string>
    {
        public static readonly SignatureEndComparer Instance = new();

        public bool Equals(string? x, string? y) => string.Equals(x, y, StringComparison.Ordinal);

        public int GetHashCode(string key) => string.GetHashCode(key.AsSpan(Math.Max(0, key.Length - 24)));
    }
}
