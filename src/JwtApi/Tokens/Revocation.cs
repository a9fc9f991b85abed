namespace JwtApi.Tokens;

/// <summary>
/// A token (or set of tokens) refused before its natural expiry. Kept only until every token it covers has
/// expired, then pruned: the list holds revocations, never sessions.
/// </summary>
public sealed class Revocation
{
    /// <summary>Increasing: each instance reads the rows past the last one it has seen.</summary>
    public long Id { get; init; }

    public required RevocationKind Kind { get; init; }

    /// <summary>The jti, sid or sub the revocation names.</summary>
    public required string Key { get; init; }

    /// <summary>When it was revoked, Unix seconds.</summary>
    public long RevokedAt { get; init; }

    /// <summary>For <see cref="RevocationKind.User"/>: access tokens whose <c>ver</c> is lower are refused.</summary>
    public int MinTokenVersion { get; init; }

    /// <summary>
    /// Unix seconds after which no token this covers can be valid anyway: the row may go from the database. For a
    /// family that is the life of its refresh tokens (days), which <c>/refresh</c> checks in the database.
    /// </summary>
    public long ExpiresAt { get; init; }

    /// <summary>
    /// Unix seconds until which every instance keeps the row in memory (<see cref="RevocationList"/>), at most
    /// <see cref="ExpiresAt"/>: as long as an access token it covers can be accepted. Equal to ExpiresAt but for a
    /// family, whose access tokens are gone within one access-token lifetime while its refresh tokens live on.
    /// </summary>
    public long ListedUntil { get; init; }
}

public enum RevocationKind
{
    /// <summary>One access token, by jti.</summary>
    AccessToken = 1,

    /// <summary>Every token of one login (refresh and access), by sid.</summary>
    Family = 2,

    /// <summary>Every access token of one user older than <see cref="Revocation.MinTokenVersion"/>, by sub.</summary>
    User = 3,
}

public static class RevocationKinds
{
    /// <summary>The kind as the audit log and the metrics name it: <c>access_token</c>, <c>login</c> or <c>user_tokens</c>.</summary>
    public static string Code(this RevocationKind kind) => kind switch
    {
        RevocationKind.AccessToken => "access_token",
        RevocationKind.Family => "login",
        _ => "user_tokens",
    };
}
