using System.Net;
using System.Net.Http.Json;
using JwtApi.Storage;
using JwtApi.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace JwtApi.Tests.Clients;

/// <summary>
/// A client write takes its caller from the database, as every admin write does: two instances on one database,
/// the second's revocation list stale on purpose (synced once a minute, on a fake clock that never gets there).
/// </summary>
public sealed class ClientsAdminCallerTests : IDisposable
{
    private readonly TestStorage _storage = new();
    private readonly JwtApiFactory _a;
    private readonly JwtApiFactory _b;

    public ClientsAdminCallerTests()
    {
        _a = Instance();
        _b = Instance();
    }

    private JwtApiFactory Instance()
    {
        var app = new JwtApiFactory { Storage = _storage };
        app.Settings["Jwt:RevocationSyncInterval"] = "00:01:00";
        // nor told of revocations by PostgreSQL: the list stays stale on both databases
        app.Settings["Jwt:RevocationNotifications"] = "false";
        return app;
    }

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
        _storage.Dispose();
    }

    private static readonly object NewClient = new
    {
        name = "backdoor", grant_types = new[] { "client_credentials", "introspection" }, scopes = new[] { "all" }, audiences = new[] { "https://orders.example" },
    };

    private static IEnumerable<(HttpMethod Method, string Path, object? Body)> EveryClientWrite(string id) =>
    [
        (HttpMethod.Post, "/clients", NewClient),
        (HttpMethod.Put, $"/clients/{id}", new { grant_types = new[] { "client_credentials", "introspection" }, scopes = new[] { "all" }, audiences = new[] { "https://orders.example" } }),
        (HttpMethod.Post, $"/clients/{id}/secret", null),
        (HttpMethod.Post, $"/clients/{id}/disable", null),
        (HttpMethod.Post, $"/clients/{id}/enable", null),
        (HttpMethod.Delete, $"/clients/{id}", null),
    ];

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, (HttpMethod Method, string Path, object? Body) write) =>
        client.SendAsync(new HttpRequestMessage(write.Method, write.Path)
        {
            Content = write.Body is null ? null : JsonContent.Create(write.Body, options: JwtApiFactory.Json),
        });

    private async Task<int> ClientCountAsync()
    {
        using var scope = _a.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<AppDb>().Clients.CountAsync();
    }

    private static async Task ShouldBeRefusedAsync(HttpResponseMessage response, HttpStatusCode status, string reason)
    {
        response.Should().HaveStatusCode(status);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        (await response.JsonAsync()).GetProperty("reason").GetString().Should().Be(reason);
    }

    [Fact]
    public async Task RefusesEveryClientWriteOfADisabledAdminOnAnInstanceThatHasNotSynced()
    {
        var bob = await _a.CreateUserAsync("admin", "user");
        using var onB = await _b.ClientForAsync(bob);
        using var root = await _a.ClientForAsync(await _a.AdminAsync());
        var (id, _) = await ClientRows.CreateAsync(root);
        (await root.PostAsync($"/users/{bob.Id}/disable", null)).Should().HaveStatusCode(HttpStatusCode.OK);
        var before = await ClientRows.RowAsync(_a, id);
        var count = await ClientCountAsync();

        // B has not heard of the disable: a read still answers from the token alone
        (await onB.GetAsync($"/clients/{id}")).Should().HaveStatusCode(HttpStatusCode.OK);
        foreach (var write in EveryClientWrite(id))
        {
            await ShouldBeRefusedAsync(await SendAsync(onB, write), HttpStatusCode.Unauthorized, "token_revoked");
        }

        (await ClientCountAsync()).Should().Be(count);
        var after = await ClientRows.RowAsync(_a, id);
        (after.SecretHash, after.TokenVersion, after.Disabled, after.Scopes.Count).Should().Be((before.SecretHash, before.TokenVersion, before.Disabled, before.Scopes.Count));
        (await ClientRows.RevocationsAsync(_a, id)).Should().BeEmpty();
    }

    [Fact]
    public async Task RefusesADemotedAdminWith403MissingRoleOnAnInstanceThatHasNotSynced()
    {
        var eve = await _a.CreateUserAsync("admin", "user");
        using var onB = await _b.ClientForAsync(eve);
        using var root = await _a.ClientForAsync(await _a.AdminAsync());
        (await root.PutAsJsonAsync($"/users/{eve.Id}/roles", new { roles = new[] { "user" } })).Should().HaveStatusCode(HttpStatusCode.OK);
        var count = await ClientCountAsync();

        await ShouldBeRefusedAsync(await SendAsync(onB, (HttpMethod.Post, "/clients", NewClient)), HttpStatusCode.Forbidden, "missing_role");

        (await ClientCountAsync()).Should().Be(count);
    }
}

/// <summary>A client secret reaches no log record, of any category or level, at registration or at rotation.</summary>
public sealed class ClientsAdminLoggingTests
{
    [Fact]
    public async Task NeverLogsAClientSecretOrItsHash()
    {
        using var app = new JwtApiFactory();
        using var logged = app.WithWebHostBuilder(web => web.ConfigureLogging(logging => logging
            .AddFakeLogging()
            .AddFilter<FakeLoggerProvider>(null, LogLevel.Trace)));
        using var admin = logged.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new("Bearer", await app.LoginAsync(await app.AdminAsync()));
        var (id, first) = await ClientRows.CreateAsync(admin);
        var rotated = await admin.PostAsync($"/clients/{id}/secret", null);
        rotated.Should().HaveStatusCode(HttpStatusCode.OK);
        var second = (await rotated.JsonAsync()).GetProperty("client_secret").GetString()!;
        (await admin.PostAsync($"/clients/{id}/disable", null)).Should().HaveStatusCode(HttpStatusCode.OK);
        var hash = (await ClientRows.RowAsync(app, id)).SecretHash;

        var records = logged.Services.GetFakeLogCollector().GetSnapshot();

        // the haystack holds the requests' own records (the revocation's audit among them), not nothing
        records.Should().Contain(r => r.Message.Contains(id, StringComparison.Ordinal));
        records.Where(r => r.Id.Name == "ClientChanged" && r.Message.Contains(id, StringComparison.Ordinal))
            .Select(r => r.StructuredState!.Single(p => p.Key == "Change").Value).Should().Equal("registered", "secret_rotated");
        var secrets = new[] { first, second, hash, hash.Split('$')[2] };
        foreach (var record in records)
        {
            var text = string.Join("\n", new[] { record.Message, record.Exception?.ToString() }
                .Concat(record.StructuredState?.Select(p => p.Value) ?? [])
                .Concat(record.Scopes.Select(s => s?.ToString())));
            secrets.Should().NotContain(secret => text.Contains(secret, StringComparison.Ordinal), $"{record.Category} logged '{record.Message}'");
        }
    }
}
