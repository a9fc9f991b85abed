using JwtApi.Storage;
using JwtApi.Tests.Support;
using JwtApi.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace JwtApi.Tests.Tokens;

/// <summary>
/// Incremental sync rounds when writers commit out of id order, as on PostgreSQL, where a transaction holds
/// its identity value from the insert and can commit after a later id has been read. A second reader (its own
/// list and clock, rounds run by hand) watches the service's database; rows are written with chosen ids.
/// </summary>
public sealed class RevocationSyncTests(JwtApiFactory app) : IClassFixture<JwtApiFactory>
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly RevocationList _list = new();

    private RevocationSync Reader() => new(
        app.Services.GetRequiredService<IServiceScopeFactory>(), _list, _time,
        app.Services.GetRequiredService<IOptions<JwtOptions>>(), NullLogger<RevocationSync>.Instance);

    /// <summary>A revoked access token id, committed now with the given id.</summary>
    private async Task<string> CommitAsync(long id)
    {
        var key = $"jti-{id}";
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDb>();
        db.Revocations.Add(new Revocation
        {
            Id = id,
            Kind = RevocationKind.AccessToken,
            Key = key,
            RevokedAt = _time.GetUtcNow().ToUnixTimeSeconds(),
            ExpiresAt = _time.GetUtcNow().AddHours(1).ToUnixTimeSeconds(),
            ListedUntil = _time.GetUtcNow().AddHours(1).ToUnixTimeSeconds(),
        });
        await db.SaveChangesAsync();
        return key;
    }

    private bool Knows(string key) => _list.IsRevoked(key, familyId: null, userId: null, tokenVersion: 0);

    [Fact]
    public async Task ReadsRowCommittedAfterAHigherIdWasRead()
    {
        using var reader = Reader();
        await reader.SyncAsync(full: true, CancellationToken.None);
        var higher = await CommitAsync(1_000_000_002);
        await reader.SyncAsync(full: false, CancellationToken.None);
        Knows(higher).Should().BeTrue();

        var lower = await CommitAsync(1_000_000_001);   // its writer took the id first and committed last
        await reader.SyncAsync(full: false, CancellationToken.None);

        Knows(lower).Should().BeTrue();
    }

    [Fact]
    public async Task LeavesRowCommittedLongAfterAHigherIdToTheFullReload()
    {
        using var reader = Reader();
        await reader.SyncAsync(full: true, CancellationToken.None);
        await CommitAsync(2_000_000_002);
        await reader.SyncAsync(full: false, CancellationToken.None);
        _time.Advance(RevocationSync.Lookback);
        await reader.SyncAsync(full: false, CancellationToken.None);   // the lookback has passed: ids up to 2_000_000_002 are let go

        var stalled = await CommitAsync(2_000_000_001);
        await reader.SyncAsync(full: false, CancellationToken.None);
        Knows(stalled).Should().BeFalse("incremental rounds re-read only the last Lookback; this is the full reload's job");

        await reader.SyncAsync(full: true, CancellationToken.None);
        Knows(stalled).Should().BeTrue();
    }
}
