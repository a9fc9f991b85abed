using System.Net;
using JwtApi.Tests.Support;

namespace JwtApi.Tests.Hosting;

/// <summary>
/// /health/ready (database reachable: should this instance get traffic?) and /health/live (the process
/// serves requests: should it be restarted?), on whichever database the run uses.
/// </summary>
public sealed class HealthTests
{
    private static async Task<(HttpStatusCode Status, string Body)> GetAsync(HttpClient client, string path)
    {
        var response = await client.GetAsync(path);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Returns200FromReadyAndLiveGivenDatabaseReachable()
    {
        using var app = new JwtApiFactory();
        var client = app.CreateClient();

        (await GetAsync(client, "/health/ready")).Should().Be((HttpStatusCode.OK, "Healthy"));
        (await GetAsync(client, "/health/live")).Should().Be((HttpStatusCode.OK, "Healthy"));
    }

    [Fact]
    public async Task Returns503FromReadyButStaysLiveGivenDatabaseGoneAfterStart()
    {
        using var app = new JwtApiFactory();
        var client = app.CreateClient();   // started: migrated and seeded while the database was there

        app.Storage.MakeUnreachable();

        (await GetAsync(client, "/health/ready")).Should().Be((HttpStatusCode.ServiceUnavailable, "Unhealthy"));
        (await GetAsync(client, "/health")).Should().Be((HttpStatusCode.ServiceUnavailable, "Unhealthy"));
        (await GetAsync(client, "/health/live")).Should().Be((HttpStatusCode.OK, "Healthy"));
    }
}
