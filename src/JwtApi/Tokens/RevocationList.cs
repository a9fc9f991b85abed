using System.Collections.Concurrent;
using Microsoft.IdentityModel.JsonWebTokens;

namespace JwtApi.Tokens;

/// <summary>
/// This instance's in-memory copy of the revocation table: what the bearer pipeline consults on every request,
/// in O(1) and without I/O. Filled at start-up, kept current by <see cref="RevocationSync"/>, and updated at
/// once for revocations made here. Each entry stays until its row's <see cref="Revocation.ListedUntil"/>: as long
/// as an access token it covers can be accepted, which for a logged-out family is far shorter than its row
/// stays in the database for <c>/refresh</c>.
/// </summary>
public sealed class RevocationList
{
    private readonly ConcurrentDictionary<string, long> _accessTokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _families = new(StringComparer.Ordinal);
    // key -> Revocation.ListedUntil; sub -> (lowest token version still accepted, ListedUntil)
    private readonly ConcurrentDictionary<string, (int MinVersion, long ListedUntil)> _users = new(StringComparer.Ordinal);

    public int Count => _accessTokens.Count + _families.Count + _users.Count;

    /// <summary>True when the access token is refused: its own id, its family, or its user's tokens of an older version.</summary>
    public bool IsRevoked(string? tokenId, string? familyId, string? userId, int tokenVersion) =>
        (tokenId is not null && _accessTokens.ContainsKey(tokenId)) ||
        (familyId is not null && _families.ContainsKey(familyId)) ||
        (userId is not null && _users.TryGetValue(userId, out var user) && tokenVersion < user.MinVersion);

    /// <summary>
    /// <see cref="IsRevoked(string?, string?, string?, int)"/> for a validated access token, read the one way every
    /// caller reads it: the bearer pipeline, <c>/introspect</c> and <c>/revoke</c> (a user's token or a client's,
    /// whose sub is its client_id).
    /// </summary>
    public bool IsRevoked(JsonWebToken token) => IsRevoked(token.Id, FamilyOf(token), token.Subject, VersionOf(token));

    private static string? FamilyOf(JsonWebToken token) =>
        token.TryGetPayloadValue<string>(JwtClaimTypes.FamilyId, out var sid) ? sid : null;

    // a token without ver counts as older than any user revocation
    private static int VersionOf(JsonWebToken token) =>
        token.TryGetPayloadValue<int>(JwtClaimTypes.TokenVersion, out var ver) ? ver : -1;

    /// <summary>
    /// A family logged out within the last access-token lifetime or so; an older logout is only in the database
    /// (<see cref="TokenRevoker.IsFamilyRevokedAsync"/> asks both).
    /// </summary>
    public bool IsFamilyRevoked(string familyId) => _families.ContainsKey(familyId);

    public void Add(Revocation revocation)
    {
        switch (revocation.Kind)
        {
            case RevocationKind.AccessToken:
                _accessTokens[revocation.Key] = revocation.ListedUntil;
                break;
            case RevocationKind.Family:
                _families[revocation.Key] = revocation.ListedUntil;
                break;
            case RevocationKind.User:
                _users.AddOrUpdate(revocation.Key, (revocation.MinTokenVersion, revocation.ListedUntil),
                    (_, old) => (Math.Max(old.MinVersion, revocation.MinTokenVersion), Math.Max(old.ListedUntil, revocation.ListedUntil)));
                break;
        }
    }

    /// <summary>Drops entries listed until before <paramref name="now"/> (Unix seconds): no access token they cover is accepted any more.</summary>
    public void Prune(long now)
    {
        foreach (var (key, listedUntil) in _accessTokens)
        {
            if (listedUntil < now)
            {
                _accessTokens.TryRemove(key, out _);
            }
        }
        foreach (var (key, listedUntil) in _families)
        {
            if (listedUntil < now)
            {
                _families.TryRemove(key, out _);
            }
        }
        foreach (var (key, entry) in _users)
        {
            if (entry.ListedUntil < now)
            {
                _users.TryRemove(key, out _);
            }
        }
    }
}
