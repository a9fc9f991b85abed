using System.Net;
using System.Net.Http.Json;
using JwtApi.Tests.Support;
using Microsoft.Data.Sqlite;

namespace JwtApi.Tests.Hosting;

/// <summary>
/// A database that cannot serve (locked, unreachable: the provider calls it transient) gets 503 with
/// Retry-After, not a 500: the client and the balancer should come back, and nothing was half-written.
/// PostgreSQL stopped under running instances is covered by tests/scale-out (a real server stop).
/// </summary>
public sealed class DatabaseUnavailableTests
{
    [Fact]
    public async Task Returns503WithRetryAfterGivenTheDatabaseLockedAndChangesNothing()
    {
        // SQLite whatever the run: an exclusive file lock is how SQLite says "busy"
        using var storage = new TestStorage(sqlite: true);
        using var app = new JwtApiFactory { Storage = storage };
        // wait one second for the lock, not the default thirty
        app.Settings["ConnectionStrings:Users"] = storage.ConnectionString + ";Default Timeout=1";
        var client = app.CreateClient();
        (await client.GetAsync("/health/ready")).Should().HaveStatusCode(HttpStatusCode.OK);

        HttpResponseMessage response;
        // not pooled: closing it must end its transaction and release the lock
        await using (var holder = new SqliteConnection(storage.ConnectionString + ";Pooling=False"))
        {
            await holder.OpenAsync();
            await using var exclusive = holder.CreateCommand();
            exclusive.CommandText = "BEGIN EXCLUSIVE";
            await exclusive.ExecuteNonQueryAsync();

            response = await client.PostAsJsonAsync("/register", new { username = "locked-out", password = "a-long-passphrase-1" });
        }

        response.Should().HaveStatusCode(HttpStatusCode.ServiceUnavailable);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        response.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(5));
        (await response.JsonAsync()).GetProperty("title").GetString().Should().Be("Database unavailable");
        // once the lock is gone the same request succeeds: the first one left nothing behind
        (await client.PostAsJsonAsync("/register", new { username = "locked-out", password = "a-long-passphrase-1" }))
            .Should().HaveStatusCode(HttpStatusCode.Created);
    }
}
