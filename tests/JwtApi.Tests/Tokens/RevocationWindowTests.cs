using System.Net;
using System.Net.Http.Json;
using JwtApi.Storage;
using JwtApi.Tests.Support;
using JwtApi.Tokens;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace JwtApi.Tests.Tokens;

/// <summary>
/// What instances hold in memory: revocations of about the last access-token lifetime, whatever the table keeps
/// for <c>/refresh</c> (a month of logouts). The table is filled with generated rows; nothing here is timed.
/// </summary>
public sealed class RevocationWindowTests : IDisposable
{
    private const int OldLogouts = 200_000;

    private readonly TestStorage _storage = new();

    public void Dispose() => _storage.Dispose();

    [Fact]
    public async Task ListsOnlyRecentRevocationsGivenAMonthOfOldLogouts()
    {
        using var app = new JwtApiFactory { Storage = _storage };
        var pair = await app.LoginPairAsync(await app.CreateUserAsync());
        (await app.ClientWithToken(pair.Access).PostAsJsonAsync("/logout", new { refresh_token = pair.Refresh }))
            .Should().HaveStatusCode(HttpStatusCode.NoContent);
        // two hours on, every access token of the logged-out family has expired; its refresh tokens have not
        app.Time.Advance(TimeSpan.FromHours(2));
        var now = app.Time.GetUtcNow().ToUnixTimeSeconds();
        await FillAsync(app, now);
        var sync = app.Services.GetRequiredService<RevocationSync>();

        await sync.SyncAsync(full: true, CancellationToken.None);

        var list = app.Services.GetRequiredService<RevocationList>();
        list.Count.Should().Be(3);
        // incremental rounds go on from the table's last id, not from the last listed row's, behind the old ones
        using (var scope = app.Services.CreateScope())
        {
            sync.Cursor.Should().Be(await scope.ServiceProvider.GetRequiredService<AppDb>().Revocations.MaxAsync(r => r.Id));
        }
        list.IsFamilyRevoked("recent-1").Should().BeTrue();
        list.IsFamilyRevoked("old-1").Should().BeFalse();
        var family = new JsonWebToken(pair.Access).GetClaim(JwtClaimTypes.FamilyId).Value;
        list.IsFamilyRevoked(family).Should().BeFalse("its access tokens are all expired");
        // /refresh asks the database, which keeps the logout
        (await app.RefreshAsync(pair.Refresh)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);

        // a fresh instance on the same database loads the same three at start-up
        using var restarted = new JwtApiFactory { Storage = _storage };
        restarted.Time.SetUtcNow(app.Time.GetUtcNow());
        var restartedList = restarted.Services.GetRequiredService<RevocationList>();
        restartedList.Count.Should().Be(3);
        restartedList.IsFamilyRevoked("recent-3").Should().BeTrue();
        (await restarted.RefreshAsync(pair.Refresh)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task LoadsAndPrunesThroughIndexesOnSqlite()
    {
        if (_storage.IsPostgres)
        {
            return;   // EXPLAIN QUERY PLAN is SQLite's; PostgreSQL's plan depends on its statistics
        }
        using var app = new JwtApiFactory { Storage = _storage };
        var now = app.Time.GetUtcNow().ToUnixTimeSeconds();
        await FillAsync(app, now);
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDb>();

        var fullReload = await PlanAsync(db, RevocationSync.Listed(db, now, after: null));
        var incremental = await PlanAsync(db, RevocationSync.Listed(db, now, after: 1));
        var pruning = await PlanAsync(db, RevocationSync.Expired(db, now));

        fullReload.Should().Contain(step => step.Contains("USING INDEX IX_revocations_ListedUntil", StringComparison.Ordinal))
            .And.NotContain(step => step.StartsWith("SCAN", StringComparison.Ordinal));
        incremental.Should().NotContain(step => step.StartsWith("SCAN", StringComparison.Ordinal),
            "an incremental round reads by id or by ListedUntil, never the whole table");
        pruning.Should().Contain(step => step.Contains("INDEX IX_revocations_ExpiresAt", StringComparison.Ordinal))
            .And.NotContain(step => step.StartsWith("SCAN", StringComparison.Ordinal));
    }

    [Fact]
    public async Task KeepsALoggedOutFamilyInTheDatabaseUntilItsAbsoluteExpiryGivenItsRefreshToken()
    {
        using var app = new JwtApiFactory { Storage = _storage };
        var loggedInAt = app.Time.GetUtcNow().ToUnixTimeSeconds();
        var pair = await app.LoginPairAsync(await app.CreateUserAsync());
        app.Time.Advance(TimeSpan.FromDays(3));
        var loggedOutAt = app.Time.GetUtcNow().ToUnixTimeSeconds();

        (await app.ClientWithToken(pair.Access).PostAsJsonAsync("/logout", new { refresh_token = pair.Refresh }))
            .Should().HaveStatusCode(HttpStatusCode.NoContent);

        var options = app.JwtOptions;
        var skew = (long)options.ClockSkew.TotalSeconds;
        var family = new JsonWebToken(pair.Access).GetClaim(JwtClaimTypes.FamilyId).Value;
        using var scope = app.Services.CreateScope();
        var row = await scope.ServiceProvider.GetRequiredService<AppDb>().Revocations.SingleAsync(r => r.Key == family);
        // auth_time + 30 days (+ twice the skew), not 30 days from the logout
        row.ExpiresAt.Should().Be(loggedInAt + (long)options.RefreshTokenAbsoluteLifetime.TotalSeconds + 2 * skew);
        // an access token issued up to the logout (or by a refresh in flight then): iat up to a skew ahead, lifetime
        // up to a skew longer, then accepted a skew past exp on an instance whose clock is a skew behind
        row.ListedUntil.Should().Be(loggedOutAt + 60 + (long)options.AccessTokenLifetime.TotalSeconds + 4 * skew);
    }

    [Fact]
    public async Task ListsOldRowsConservativelyAfterTheMigration()
    {
        using var app = new JwtApiFactory { Storage = _storage };
        var now = app.Time.GetUtcNow().ToUnixTimeSeconds();
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDb>();
        var migrator = db.GetService<IMigrator>();
        var before = db.Database.GetMigrations().TakeWhile(m => !m.EndsWith("_RevocationListedUntil", StringComparison.Ordinal)).Last();
        await migrator.MigrateAsync(before);
        // as the previous release wrote them: a logout kept 30 days, a revoked access token kept to its expiry
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO revocations ("Kind", "Key", "RevokedAt", "MinTokenVersion", "ExpiresAt")
            VALUES (2, 'migrated-family', {now}, 0, {now + 30 * 86_400}), (1, 'migrated-jti', {now}, 0, {now + 900})
            """);

        await migrator.MigrateAsync();

        var rows = await db.Revocations.AsNoTracking().Where(r => r.Key.StartsWith("migrated-")).ToDictionaryAsync(r => r.Key);
        rows["migrated-family"].ListedUntil.Should().Be(now + 4860, "1 h lifetime and 5 min skew, the largest settings, and a refresh in flight");
        rows["migrated-jti"].ListedUntil.Should().Be(now + 900);
    }

    /// <summary>
    /// Three recent logouts and <see cref="OldLogouts"/> of the past month (listed until long ago, kept for
    /// weeks), each set in one statement.
    /// </summary>
    private async Task FillAsync(JwtApiFactory app, long now)
    {
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDb>();
        db.Database.SetCommandTimeout(TimeSpan.FromMinutes(2));
        long oldRevokedAt = now - 10 * 86_400, oldListedUntil = oldRevokedAt + 4860, oldExpiresAt = now + 20 * 86_400;
        // the recent ones first: the table's last ids are old logouts, as when nothing was revoked lately
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO revocations ("Kind", "Key", "RevokedAt", "MinTokenVersion", "ExpiresAt", "ListedUntil")
            VALUES (2, 'recent-1', {now - 60}, 0, {now + 30 * 86_400}, {now + 1000}),
                   (2, 'recent-2', {now - 60}, 0, {now + 30 * 86_400}, {now + 1000}),
                   (2, 'recent-3', {now - 60}, 0, {now + 30 * 86_400}, {now + 1000})
            """);
        if (_storage.IsPostgres)
        {
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO revocations ("Kind", "Key", "RevokedAt", "MinTokenVersion", "ExpiresAt", "ListedUntil")
                SELECT 2, 'old-' || i, {oldRevokedAt}, 0, {oldExpiresAt}, {oldListedUntil} FROM generate_series(1, {OldLogouts}) AS i
                """);
        }
        else
        {
            await db.Database.ExecuteSqlAsync($"""
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {OldLogouts})
                INSERT INTO revocations ("Kind", "Key", "RevokedAt", "MinTokenVersion", "ExpiresAt", "ListedUntil")
                SELECT 2, 'old-' || i, {oldRevokedAt}, 0, {oldExpiresAt}, {oldListedUntil} FROM n
                """);
        }
    }

    /// <summary>The steps of SQLite's plan for <paramref name="query"/>, with its parameters bound.</summary>
    private static async Task<List<string>> PlanAsync(AppDb db, IQueryable<Revocation> query)
    {
        await using var command = query.CreateDbCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + command.CommandText;
        await db.Database.OpenConnectionAsync();
        var steps = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            steps.Add(reader.GetString(reader.GetOrdinal("detail")));
        }
        return steps;
    }
}
