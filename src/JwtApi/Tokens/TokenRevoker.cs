using JwtApi.Hosting;
using JwtApi.Storage;
using JwtApi.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace JwtApi.Tokens;

/// <summary>
/// Adds revocations to the unit of work of the change that causes them (the handler saves and commits it, see
/// <c>AccountWrite</c>); once committed, this instance's <see cref="RevocationList"/> learns them at once, and
/// other instances within the sync interval. Also answers, from the database, whether a login was revoked.
/// </summary>
public sealed class TokenRevoker(AppDb db, RevocationList list, TimeProvider time, IOptions<JwtOptions> options, AuditLog audit, Telemetry telemetry)
{
    private readonly JwtOptions _options = options.Value;
    private readonly List<Revocation> _staged = [];

    private long Now => time.GetUtcNow().ToUnixTimeSeconds();

    private long Skew => (long)_options.ClockSkew.TotalSeconds;

    /// <summary>
    /// How long after its exp (by this instance's clock) a token may still be accepted somewhere: another
    /// instance accepts it until exp plus the skew on its own clock, and its clock may run up to the skew behind
    /// this one. So a revocation row lives until exp plus twice the skew.
    /// </summary>
    private long AcceptedPastExpiry => 2 * Skew;

    /// <summary>
    /// The latest exp of an access token issued up to now and still acceptable: its iat may be up to the skew
    /// ahead of this clock, and its lifetime (exp minus iat) up to the configured one plus the skew.
    /// </summary>
    private long LatestAccessTokenExpiry => Now + Skew + (long)_options.AccessTokenLifetime.TotalSeconds + Skew;

    /// <summary>
    /// A /refresh that found the family unrevoked just before a logout committed still issues its access token
    /// after it: within its two queries' command timeouts (30 s each) and the signing. A family stays listed that
    /// much longer, so such a token is refused for its whole life too.
    /// </summary>
    public static readonly TimeSpan RefreshInFlight = TimeSpan.FromMinutes(1);

    /// <summary>One access token, until it would have expired anyway.</summary>
    public void AccessToken(string tokenId, DateTimeOffset expiresAt) => Stage(new Revocation
    {
        Kind = RevocationKind.AccessToken,
        Key = tokenId,
        RevokedAt = Now,
        ExpiresAt = expiresAt.ToUnixTimeSeconds() + AcceptedPastExpiry,
        ListedUntil = expiresAt.ToUnixTimeSeconds() + AcceptedPastExpiry,
    });

    /// <summary>
    /// One login on one device: its refresh tokens and the access tokens they produced. Its access tokens are gone
    /// within one access-token lifetime, so instances list it in memory only that long; the row stays in the
    /// database, where <c>/refresh</c> looks, until the family's refresh tokens are all expired.
    /// <paramref name="authTime"/> is the family's <c>auth_time</c> when a refresh token of it is at hand.
    /// </summary>
    public void Family(string familyId, DateTimeOffset? authTime = null)
    {
        var listedUntil = LatestAccessTokenExpiry + AcceptedPastExpiry + (long)RefreshInFlight.TotalSeconds;
        var absolute = (long)_options.RefreshTokenAbsoluteLifetime.TotalSeconds;
        // no token of the family can outlive its absolute lifetime plus one access token's life
        var expiresAt = LatestAccessTokenExpiry + absolute + AcceptedPastExpiry;
        if (authTime is { } began)
        {
            // Every refresh token of the family shares its auth_time and is refused past auth_time plus the absolute
            // lifetime (on the reading instance's clock, up to the skew behind this one). Not the presented token's
            // own exp: rotation leaves older refresh tokens valid, so a later one of the same family, refreshed
            // since, may expire after it.
            expiresAt = Math.Min(expiresAt, began.ToUnixTimeSeconds() + absolute + AcceptedPastExpiry);
        }
        Stage(new Revocation
        {
            Kind = RevocationKind.Family,
            Key = familyId,
            RevokedAt = Now,
            ExpiresAt = Math.Max(expiresAt, listedUntil),
            ListedUntil = listedUntil,
        });
    }

    /// <summary>
    /// Everything the user holds now: the version bump ends every refresh token, and the user revocation
    /// refuses every access token of an older version at once, without waiting for them to expire. Tokens
    /// issued after this carry the new version and are unaffected.
    /// </summary>
    public void EndAllTokensOf(User user)
    {
        user.BumpTokenVersion(time.GetUtcNow());
        AccessTokensBelow(user.Id, user.TokenVersion);
    }

    /// <summary>Every token a registered client holds now (disabled, deleted, or its rights changed): as for a user, by version.</summary>
    public void EndAllTokensOf(Clients.Client client)
    {
        client.TokenVersion++;
        client.UpdatedAt = time.GetUtcNow();
        Stage(new Revocation
        {
            Kind = RevocationKind.User,   // by sub: a client's tokens have sub = client_id
            Key = client.Id,
            RevokedAt = Now,
            MinTokenVersion = client.TokenVersion,
            ExpiresAt = LatestAccessTokenExpiry + AcceptedPastExpiry,
            ListedUntil = LatestAccessTokenExpiry + AcceptedPastExpiry,
        });
    }

    /// <summary>Every access token of a user being deleted.</summary>
    public void AllAccessTokensOf(Guid userId) => AccessTokensBelow(userId, int.MaxValue);

    private void AccessTokensBelow(Guid userId, int minVersion) => Stage(new Revocation
    {
        Kind = RevocationKind.User,
        Key = userId.ToString(),
        RevokedAt = Now,
        MinTokenVersion = minVersion,
        ExpiresAt = LatestAccessTokenExpiry + AcceptedPastExpiry,
        ListedUntil = LatestAccessTokenExpiry + AcceptedPastExpiry,
    });

    /// <summary>
    /// Whether a login (token family) was logged out: the database, not only the in-memory mirror, so a logout on
    /// another instance counts at once here, and a logout older than one access-token lifetime (no longer listed
    /// in memory, see <see cref="Revocation.ListedUntil"/>) still counts.
    /// </summary>
    public async Task<bool> IsFamilyRevokedAsync(string familyId, CancellationToken ct) =>
        list.IsFamilyRevoked(familyId) ||
        await db.Revocations.AnyAsync(r => r.Kind == RevocationKind.Family && r.Key == familyId, ct);

    /// <summary>The unit of work that staged the revocations was committed: this instance refuses their tokens now.</summary>
    public void Committed()
    {
        using var activity = telemetry.StartActivity(Telemetry.Activities.Revoke);
        foreach (var revocation in _staged)
        {
            list.Add(revocation);
            audit.Revoked(revocation);
            telemetry.Revoked(revocation.Kind);
        }
        _staged.Clear();
    }

    private void Stage(Revocation revocation)
    {
        db.Revocations.Add(revocation);
        _staged.Add(revocation);
    }
}
