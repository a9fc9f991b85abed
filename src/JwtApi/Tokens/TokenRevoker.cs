using JwtApi.Hosting;
using JwtApi.Storage;
using JwtApi.Users;
using Microsoft.Extensions.Options;

namespace JwtApi.Tokens;

/// <summary>
/// Records revocations in the same database transaction as the change that causes them, then adds them to
/// this instance's <see cref="RevocationList"/> at once. Other instances pick them up within the sync interval.
/// </summary>
public sealed class TokenRevoker(AppDb db, RevocationList list, TimeProvider time, IOptions<JwtOptions> options, AuditLog audit, Telemetry telemetry)
{
    private readonly JwtOptions _options = options.Value;
    private readonly List<Revocation> _staged = [];

    private long Now => time.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>An access token outlives its exp by the clock skew; so does its revocation.</summary>
    private long AccessTokenGrace => (long)_options.ClockSkew.TotalSeconds;

    /// <summary>One access token, until it would have expired anyway.</summary>
    public void AccessToken(string tokenId, DateTimeOffset expiresAt) => Stage(new Revocation
    {
        Kind = RevocationKind.AccessToken,
        Key = tokenId,
        RevokedAt = Now,
        ExpiresAt = expiresAt.ToUnixTimeSeconds() + AccessTokenGrace,
    });

    /// <summary>One login on one device: its refresh tokens and the access tokens they produced.</summary>
    public void Family(string familyId) => Stage(new Revocation
    {
        Kind = RevocationKind.Family,
        Key = familyId,
        RevokedAt = Now,
        // no token of the family can outlive its absolute lifetime plus one access token's life
        ExpiresAt = Now + (long)(_options.RefreshTokenAbsoluteLifetime + _options.AccessTokenLifetime).TotalSeconds + AccessTokenGrace,
    });

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

    /// <summary>Every access token of a user being deleted.</summary>
    public void AllAccessTokensOf(Guid userId) => AccessTokensBelow(userId, int.MaxValue);

    private void AccessTokensBelow(Guid userId, int minVersion) => Stage(new Revocation
    {
        Kind = RevocationKind.User,
        Key = userId.ToString(),
        RevokedAt = Now,
        MinTokenVersion = minVersion,
        ExpiresAt = Now + (long)_options.AccessTokenLifetime.TotalSeconds + AccessTokenGrace,
    });

    /// <summary>Commits the pending changes and revocations together; only then does the in-memory list learn them.</summary>
    public async Task SaveChangesAsync(CancellationToken ct)
    {
        using var activity = telemetry.StartActivity(Telemetry.Activities.Revoke);
        db.Revocations.AddRange(_staged);
        await db.SaveChangesAsync(ct);
        foreach (var revocation in _staged)
        {
            list.Add(revocation);
            audit.Revoked(revocation);
            telemetry.Revoked(revocation.Kind);
        }
        _staged.Clear();
    }

    private void Stage(Revocation revocation) => _staged.Add(revocation);
}
