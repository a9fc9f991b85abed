using System.Net;
using JwtApi.Tests.Support;
using JwtApi.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace JwtApi.Tests.Tokens;

/// <summary>
/// Two instances on one PostgreSQL database learn each other's revocations from the database's notifications, with
/// the sync interval far away (and on the fake clock, which the tests never advance): only a notification can
/// bring a revocation across.
/// </summary>
public sealed class RevocationNotificationsTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private readonly TestStorage _storage = new();

    private JwtApiFactory Instance()
    {
        var app = new JwtApiFactory { Storage = _storage };
        app.Settings["Jwt:RevocationSyncInterval"] = "00:05:00";
        return app;
    }

    public void Dispose() => _storage.Dispose();

    [PostgresFact]
    public async Task RefusesTokenRevokedOnAnotherInstanceWithoutWaitingForTheInterval()
    {
        using var a = Instance();
        using var b = Instance();
        var pair = await a.LoginPairAsync(await a.CreateUserAsync());
        using var onB = b.ClientWithToken(pair.Access);
        (await onB.GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.OK);
        await ListenersAsync(count: 2, notAmong: []);

        (await a.ClientWithToken(pair.Access).PostAsync("/logout", null)).Should().HaveStatusCode(HttpStatusCode.NoContent);

        await RefusedAsync(onB);
    }

    [PostgresFact]
    public async Task DeliversAgainGivenItsConnectionKilled()
    {
        using var a = Instance();
        using var b = Instance();
        var pair = await a.LoginPairAsync(await a.CreateUserAsync());
        using var onB = b.ClientWithToken(pair.Access);
        (await onB.GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.OK);
        var killed = await ListenersAsync(count: 2, notAmong: []);

        await using (var db = await OpenAsync())
        await using (var kill = new NpgsqlCommand(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY(@pids)", db))
        {
            kill.Parameters.AddWithValue("pids", killed);
            await kill.ExecuteNonQueryAsync();
        }
        await ListenersAsync(count: 2, notAmong: killed);
        (await onB.GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.OK);

        (await a.ClientWithToken(pair.Access).PostAsync("/logout", null)).Should().HaveStatusCode(HttpStatusCode.NoContent);

        await RefusedAsync(onB);
    }

    [Fact]
    public void ListensToNothingGivenSqlite()
    {
        // SQLite whatever the run: it has no notifications, and its path must stay the timer's alone
        using var storage = new TestStorage(sqlite: true);
        using var app = new JwtApiFactory { Storage = storage };

        app.Services.GetService<RevocationNotifications>().Should().BeNull();
        app.Services.GetServices<IHostedService>().Should().NotContain(s => s is RevocationNotifications);
    }

    /// <summary>Polls until B answers 401 token_revoked, for at most <see cref="Deadline"/>.</summary>
    private static async Task RefusedAsync(HttpClient client)
    {
        var until = DateTime.UtcNow + Deadline;
        while (true)
        {
            using var response = await client.GetAsync("/me");
            if (response.StatusCode == HttpStatusCode.Unauthorized || DateTime.UtcNow > until)
            {
                response.Should().HaveStatusCode(HttpStatusCode.Unauthorized, "the notification should have brought the revocation within {0}", Deadline);
                (await response.JsonAsync()).GetProperty("reason").GetString().Should().Be("token_revoked");
                return;
            }
            await Task.Delay(20);
        }
    }

    /// <summary>Waits until <paramref name="count"/> listener connections have run LISTEN, none of them <paramref name="notAmong"/>; their pids.</summary>
    private async Task<int[]> ListenersAsync(int count, int[] notAmong)
    {
        var until = DateTime.UtcNow + Deadline;
        while (true)
        {
            var pids = new List<int>();
            await using (var db = await OpenAsync())
            await using (var query = new NpgsqlCommand(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = @name AND query LIKE 'LISTEN %'", db))
            {
                query.Parameters.AddWithValue("name", RevocationNotifications.ApplicationName);
                await using var reader = await query.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    pids.Add(reader.GetInt32(0));
                }
            }
            var fresh = pids.Except(notAmong).ToArray();
            if (fresh.Length == count && pids.Count == count)
            {
                return fresh;
            }
            DateTime.UtcNow.Should().BeBefore(until, "{0} listeners should be connected (now: {1})", count, string.Join(", ", pids));
            await Task.Delay(20);
        }
    }

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(_storage.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }
}
