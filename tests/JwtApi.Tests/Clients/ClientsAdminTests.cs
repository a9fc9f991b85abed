using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using JwtApi.Clients;
using JwtApi.Storage;
using JwtApi.Tests.Support;
using JwtApi.Tokens;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;

namespace JwtApi.Tests.Clients;

/// <summary>What admins do to registered clients, over real HTTP: the secret answered once and stored as a hash,
/// the rules of a client's rights, and every change of rights, disable, enable and delete ending its tokens.</summary>
public sealed class ClientsAdminTests(JwtApiFactory app) : IClassFixture<JwtApiFactory>
{
    private async Task<HttpClient> AdminClientAsync() => await app.ClientForAsync(await app.AdminAsync());

    [Fact]
    public async Task Returns201WithSecretShownOnceAndStoresOnlyItsHashGivenAdminRegistersClient()
    {
        using var admin = await AdminClientAsync();

        var response = await admin.PostAsJsonAsync("/clients", new
        {
            name = "Orders worker", grant_types = new[] { "introspection", "client_credentials" },
            scopes = new[] { "orders.read", "orders.write" }, audiences = new[] { "https://orders.example", "billing" },
        });

        response.Should().HaveStatusCode(HttpStatusCode.Created);
        var body = await response.JsonAsync();
        var id = body.GetProperty("client_id").GetString()!;
        var secret = body.GetProperty("client_secret").GetString()!;
        ClientAuthentication.IsPlausibleId(id).Should().BeTrue();
        secret.Should().HaveLength(43).And.MatchRegex("^[A-Za-z0-9_-]{43}$");
        response.Headers.Location!.ToString().Should().Be($"/clients/{id}");
        body.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(
            "client_id", "client_secret", "name", "grant_types", "scopes", "audiences", "disabled", "created_at", "updated_at");
        body.GetProperty("name").GetString().Should().Be("Orders worker");
        Strings(body, "grant_types").Should().Equal("client_credentials", "introspection");
        Strings(body, "scopes").Should().Equal("orders.read", "orders.write");
        Strings(body, "audiences").Should().Equal("https://orders.example", "billing");
        body.GetProperty("disabled").GetBoolean().Should().BeFalse();
        body.GetProperty("created_at").GetDateTimeOffset().Should().Be(app.Time.GetUtcNow());

        var row = await ClientRows.RowAsync(app, id);
        row.SecretHash.Should().StartWith("hmac-sha256$").And.NotContain(secret);
        ClientSecrets.Verify(secret, row.SecretHash).Should().BeTrue();
        row.PreviousSecretHash.Should().BeNull();
        row.TokenVersion.Should().Be(0);
        (await ClientRows.AuthenticateAsync(app, id, secret)).Should().BeTrue();
    }

    public static TheoryData<string, string> InvalidBodies()
    {
        static string Json(string? name = "ok", object? grants = null, object? scopes = null, object? audiences = null, bool omitName = false) =>
            JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["name"] = omitName ? null : name,
                ["grant_types"] = grants ?? new[] { "client_credentials" },
                ["scopes"] = scopes ?? new[] { "orders.read" },
                ["audiences"] = audiences ?? new[] { "https://orders.example" },
            });
        return new()
        {
            { "name", Json(omitName: true) },
            { "name", Json("") },
            { "name", Json("   ") },
            { "name", Json(new string('n', 101)) },
            { "name", Json("bell\u0007") },
            { "name", Json("line\nbreak") },
            { "name", Json("bidi\u202Eoverride") },
            { "grant_types", Json(grants: Array.Empty<string>()) },
            { "grant_types", Json(grants: new[] { "password" }) },
            { "grant_types", Json(grants: new[] { "client_credentials", null }) },
            { "scopes", Json(scopes: Enumerable.Range(0, 33).Select(i => $"s{i}").ToArray()) },
            { "scopes", Json(scopes: new[] { "has space" }) },
            { "scopes", Json(scopes: new[] { "quote\"" }) },
            { "scopes", Json(scopes: new[] { "" }) },
            { "scopes", Json(scopes: new[] { "a", "a" }) },
            { "audiences", Json(audiences: Enumerable.Range(0, 17).Select(i => $"api{i}").ToArray()) },
            { "audiences", Json(audiences: new[] { "has space" }) },
            { "audiences", Json(audiences: new[] { new string('a', 201) }) },
            { "audiences", Json(audiences: new[] { "api", "api" }) },
            // client_credentials gets tokens for an API: without an audience there is none to name
            { "audiences", Json(audiences: Array.Empty<string>()) },
            { "scopes", """{"name":"ok","grant_types":["introspection"],"audiences":[]}""" },
            { "audiences", """{"name":"ok","grant_types":["introspection"],"scopes":[]}""" },
            { "grant_types", """{"name":"ok","scopes":[],"audiences":["api"]}""" },
        };
    }

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Returns400NamingTheFieldGivenInvalidClient(string field, string json)
    {
        using var admin = await AdminClientAsync();
        var before = await ClientRows.CountAsync(app);

        var response = await admin.PostAsync("/clients", new StringContent(json, Encoding.UTF8, "application/json"));

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        (await response.JsonAsync()).GetProperty("errors").EnumerateObject().Select(e => e.Name).Should().Equal(field);
        (await ClientRows.CountAsync(app)).Should().Be(before);
    }

    [Fact]
    public async Task Returns201GivenIntrospectionOnlyClientWithoutAudiences()
    {
        using var admin = await AdminClientAsync();

        var response = await admin.PostAsJsonAsync("/clients", new { name = "Gateway", grant_types = new[] { "introspection" }, scopes = Array.Empty<string>(), audiences = Array.Empty<string>() });

        response.Should().HaveStatusCode(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Returns400SayingWhyGivenJwtApisOwnAudience()
    {
        using var admin = await AdminClientAsync();
        var own = app.JwtOptions.Audience;

        foreach (var audience in new[] { own, own + "/" })
        {
            var response = await admin.PostAsJsonAsync("/clients", new { name = "Sneaky", grant_types = new[] { "client_credentials" }, scopes = Array.Empty<string>(), audiences = new[] { "https://orders.example", audience } });

            response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
            var error = (await response.JsonAsync()).GetProperty("errors").GetProperty("audiences")[0].GetString();
            error.Should().Contain("Jwt:Audience").And.Contain("never for JwtApi's own endpoints");
        }
    }

    [Fact]
    public async Task NeverAnswersTheSecretOrItsHashGivenListOrGet()
    {
        using var admin = await AdminClientAsync();
        var (id, secret) = await ClientRows.CreateAsync(admin);
        var hash = (await ClientRows.RowAsync(app, id)).SecretHash;

        var one = await admin.GetAsync($"/clients/{id}");
        var pages = new List<string>();
        var total = int.MaxValue;
        for (var page = 1; (page - 1) * 100 < total; page++)
        {
            var list = await admin.GetAsync($"/clients?page={page}&pageSize=100");
            list.Should().HaveStatusCode(HttpStatusCode.OK);
            pages.Add(await list.Content.ReadAsStringAsync());
            total = JsonDocument.Parse(pages[^1]).RootElement.GetProperty("total").GetInt32();
        }

        one.Should().HaveStatusCode(HttpStatusCode.OK);
        var oneText = await one.Content.ReadAsStringAsync();
        JsonDocument.Parse(oneText).RootElement.GetProperty("client_id").GetString().Should().Be(id);
        pages.Should().Contain(p => p.Contains(id, StringComparison.Ordinal));
        foreach (var text in pages.Append(oneText))
        {
            text.Should().NotContain(secret).And.NotContain(hash).And.NotContainEquivalentOf("secret").And.NotContain("hmac-sha256");
        }
    }

    [Fact]
    public async Task ReturnsPagesWithoutOverlapGivenPaging()
    {
        using var admin = await AdminClientAsync();
        for (var i = 0; i < 3; i++)
        {
            await ClientRows.CreateAsync(admin);
        }

        var first = await (await admin.GetAsync("/clients?page=1&pageSize=2")).JsonAsync();
        var second = await (await admin.GetAsync("/clients?page=2&pageSize=2")).JsonAsync();

        first.GetProperty("page_size").GetInt32().Should().Be(2);
        first.GetProperty("total").GetInt32().Should().BeGreaterThanOrEqualTo(3);
        first.GetProperty("items").EnumerateArray().Concat(second.GetProperty("items").EnumerateArray())
            .Select(c => c.GetProperty("client_id").GetString()).Should().HaveCount(4).And.OnlyHaveUniqueItems();
    }

    [Theory]
    [InlineData("page=0")]
    [InlineData("pageSize=0")]
    [InlineData("pageSize=101")]
    [InlineData("page=21474838&pageSize=100")]   // the offset would overflow a 32-bit integer
    [InlineData("page=2147483647&pageSize=2")]
    public async Task Returns400GivenBadPaging(string query)
    {
        using var admin = await AdminClientAsync();

        var response = await admin.GetAsync("/clients?" + query);

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
    }

    [Theory]
    [InlineData("GET", "")]
    [InlineData("PUT", "")]
    [InlineData("POST", "/secret")]
    [InlineData("POST", "/disable")]
    [InlineData("POST", "/enable")]
    [InlineData("DELETE", "")]
    public async Task Returns404ProblemGivenUnknownClient(string method, string suffix)
    {
        using var admin = await AdminClientAsync();

        foreach (var id in new[] { Client.NewId(), "not-a-client-id" })
        {
            var response = await admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), $"/clients/{id}{suffix}")
            {
                Content = method == "PUT" ? JsonContent.Create(ClientRows.Rights(["orders.read"])) : null,
            });

            response.Should().HaveStatusCode(HttpStatusCode.NotFound);
            response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
            (await response.JsonAsync()).GetProperty("title").GetString().Should().Be("Client not found");
        }
    }

    [Fact]
    public async Task ReplacesRightsAndEndsTheClientsTokensGivenPutWithOtherScopes()
    {
        using var admin = await AdminClientAsync();
        var (id, secret) = await ClientRows.CreateAsync(admin);

        var response = await admin.PutAsJsonAsync($"/clients/{id}", new
        {
            name = "Renamed", grant_types = new[] { "client_credentials" }, scopes = new[] { "orders.read", "orders.admin" }, audiences = new[] { "https://orders.example" },
        });

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        var body = await response.JsonAsync();
        body.GetProperty("name").GetString().Should().Be("Renamed");
        Strings(body, "scopes").Should().Equal("orders.read", "orders.admin");
        body.TryGetProperty("client_secret", out _).Should().BeFalse();
        var row = await ClientRows.RowAsync(app, id);
        row.TokenVersion.Should().Be(1);
        row.Scopes.Should().Equal("orders.read", "orders.admin");
        (await ClientRows.RevocationsAsync(app, id)).Should().ContainSingle()
            .Which.Should().Match<Revocation>(r => r.Kind == RevocationKind.User && r.MinTokenVersion == 1);
        // the secret is not a right: it still works
        (await ClientRows.AuthenticateAsync(app, id, secret)).Should().BeTrue();
    }

    [Fact]
    public async Task KeepsTokensGivenPutThatChangesOnlyTheNameOrTheOrder()
    {
        using var admin = await AdminClientAsync();
        var (id, _) = await ClientRows.CreateAsync(admin, scopes: ["a", "b"]);

        var renamed = await admin.PutAsJsonAsync($"/clients/{id}", new
        {
            name = "Only the name", grant_types = new[] { "client_credentials" }, scopes = new[] { "b", "a" }, audiences = new[] { "https://orders.example" },
        });
        var unnamed = await admin.PutAsJsonAsync($"/clients/{id}", ClientRows.Rights(["b", "a"]));

        renamed.Should().HaveStatusCode(HttpStatusCode.OK);
        (await unnamed.JsonAsync()).GetProperty("name").GetString().Should().Be("Only the name");
        (await ClientRows.RowAsync(app, id)).TokenVersion.Should().Be(0);
        (await ClientRows.RevocationsAsync(app, id)).Should().BeEmpty();
    }

    [Fact]
    public async Task Returns400AndChangesNothingGivenPutWithJwtApisOwnAudience()
    {
        using var admin = await AdminClientAsync();
        var (id, _) = await ClientRows.CreateAsync(admin);

        var response = await admin.PutAsJsonAsync($"/clients/{id}", new { grant_types = new[] { "client_credentials" }, scopes = Array.Empty<string>(), audiences = new[] { app.JwtOptions.Audience } });

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await response.JsonAsync()).GetProperty("errors").TryGetProperty("audiences", out _).Should().BeTrue();
        var row = await ClientRows.RowAsync(app, id);
        row.Audiences.Should().Equal("https://orders.example");
        row.TokenVersion.Should().Be(0);
    }

    [Fact]
    public async Task EndsTheClientsTokensAndRefusesItGivenDisabledThenEnabledThenDeleted()
    {
        using var admin = await AdminClientAsync();
        var (id, secret) = await ClientRows.CreateAsync(admin);

        var disable = await admin.PostAsync($"/clients/{id}/disable", null);
        var authWhileDisabled = await ClientRows.AuthenticateAsync(app, id, secret);
        var afterDisable = await ClientRows.RowAsync(app, id);
        var enable = await admin.PostAsync($"/clients/{id}/enable", null);
        var authWhileEnabled = await ClientRows.AuthenticateAsync(app, id, secret);
        var afterEnable = await ClientRows.RowAsync(app, id);
        var delete = await admin.DeleteAsync($"/clients/{id}");

        disable.Should().HaveStatusCode(HttpStatusCode.OK);
        (await disable.JsonAsync()).GetProperty("disabled").GetBoolean().Should().BeTrue();
        afterDisable.TokenVersion.Should().Be(1);
        authWhileDisabled.Should().BeFalse();
        enable.Should().HaveStatusCode(HttpStatusCode.OK);
        (await enable.JsonAsync()).GetProperty("disabled").GetBoolean().Should().BeFalse();
        afterEnable.TokenVersion.Should().Be(2);
        authWhileEnabled.Should().BeTrue();
        delete.Should().HaveStatusCode(HttpStatusCode.NoContent);
        (await ClientRows.ExistsAsync(app, id)).Should().BeFalse();
        (await admin.GetAsync($"/clients/{id}")).Should().HaveStatusCode(HttpStatusCode.NotFound);
        (await ClientRows.AuthenticateAsync(app, id, secret)).Should().BeFalse();
        (await ClientRows.RevocationsAsync(app, id)).Select(r => (r.Kind, r.MinTokenVersion)).Should().Equal(
            (RevocationKind.User, 1), (RevocationKind.User, 2), (RevocationKind.User, 3));
    }

    [Fact]
    public async Task RotatesTheSecretGivenAdminAndAnswersTheNewOneOnce()
    {
        using var admin = await AdminClientAsync();
        var (id, old) = await ClientRows.CreateAsync(admin);

        var response = await admin.PostAsync($"/clients/{id}/secret", null);

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        var body = await response.JsonAsync();
        body.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo("client_id", "client_secret", "previous_secret_valid_until");
        var secret = body.GetProperty("client_secret").GetString()!;
        secret.Should().HaveLength(43).And.NotBe(old);
        body.GetProperty("previous_secret_valid_until").GetDateTimeOffset().ToUnixTimeSeconds()
            .Should().Be(app.Time.GetUtcNow().AddHours(24).ToUnixTimeSeconds());
        var row = await ClientRows.RowAsync(app, id);
        ClientSecrets.Verify(secret, row.SecretHash).Should().BeTrue();
        ClientSecrets.Verify(old, row.PreviousSecretHash).Should().BeTrue();
        row.TokenVersion.Should().Be(0);
        (await ClientRows.AuthenticateAsync(app, id, secret)).Should().BeTrue();
        (await ClientRows.AuthenticateAsync(app, id, old)).Should().BeTrue();
        (await (await admin.GetAsync($"/clients/{id}")).Content.ReadAsStringAsync()).Should().NotContain(secret);
    }

    [Fact]
    public async Task Returns403GivenNonAdminAnd401GivenNoToken()
    {
        var alice = await app.CreateUserAsync();
        using var admin = await AdminClientAsync();
        var (id, _) = await ClientRows.CreateAsync(admin);
        using var user = await app.ClientForAsync(alice);
        using var anonymous = app.CreateClient();
        var before = await ClientRows.RowAsync(app, id);

        foreach (var (method, path) in new[]
        {
            ("GET", "/clients"), ("GET", $"/clients/{id}"), ("POST", "/clients"), ("PUT", $"/clients/{id}"),
            ("POST", $"/clients/{id}/secret"), ("POST", $"/clients/{id}/disable"), ("POST", $"/clients/{id}/enable"), ("DELETE", $"/clients/{id}"),
        })
        {
            HttpRequestMessage Request() => new(new HttpMethod(method), path)
            {
                Content = method is "POST" or "PUT" ? JsonContent.Create(new { name = "x", grant_types = new[] { "introspection" }, scopes = Array.Empty<string>(), audiences = Array.Empty<string>() }) : null,
            };
            (await user.SendAsync(Request())).Should().HaveStatusCode(HttpStatusCode.Forbidden, $"{method} {path}");
            (await anonymous.SendAsync(Request())).Should().HaveStatusCode(HttpStatusCode.Unauthorized, $"{method} {path}");
        }

        var after = await ClientRows.RowAsync(app, id);
        (after.SecretHash, after.TokenVersion, after.Disabled, after.Name).Should().Be((before.SecretHash, before.TokenVersion, before.Disabled, before.Name));
    }

    private static IEnumerable<string?> Strings(JsonElement body, string name) =>
        body.GetProperty(name).EnumerateArray().Select(e => e.GetString());
}

/// <summary>The previous secret after a rotation: accepted until Clients:SecretOverlap has passed, and not a second longer.</summary>
public sealed class ClientsAdminSecretOverlapTests
{
    [Fact]
    public async Task AcceptsThePreviousSecretUntilTheOverlapEndsAndNotAfter()
    {
        using var app = new JwtApiFactory();
        app.Settings["Clients:SecretOverlap"] = "01:00:00";
        using var admin = await app.ClientForAsync(await app.AdminAsync());
        var (id, old) = await ClientRows.CreateAsync(admin);
        var rotated = await (await admin.PostAsync($"/clients/{id}/secret", null)).JsonAsync();
        var secret = rotated.GetProperty("client_secret").GetString()!;
        rotated.GetProperty("previous_secret_valid_until").GetDateTimeOffset().ToUnixTimeSeconds()
            .Should().Be(app.Time.GetUtcNow().AddHours(1).ToUnixTimeSeconds());

        app.Time.Advance(TimeSpan.FromHours(1) - TimeSpan.FromSeconds(1));
        var oldJustBefore = await ClientRows.AuthenticateAsync(app, id, old);
        app.Time.Advance(TimeSpan.FromSeconds(1));
        var oldAtTheEnd = await ClientRows.AuthenticateAsync(app, id, old);
        var newAtTheEnd = await ClientRows.AuthenticateAsync(app, id, secret);

        oldJustBefore.Should().BeTrue();
        oldAtTheEnd.Should().BeFalse();
        newAtTheEnd.Should().BeTrue();
    }

    [Fact]
    public async Task RefusesThePreviousSecretAtOnceGivenNoOverlap()
    {
        using var app = new JwtApiFactory();
        app.Settings["Clients:SecretOverlap"] = "00:00:00";
        using var admin = await app.ClientForAsync(await app.AdminAsync());
        var (id, old) = await ClientRows.CreateAsync(admin);

        var rotated = await (await admin.PostAsync($"/clients/{id}/secret", null)).JsonAsync();

        rotated.GetProperty("previous_secret_valid_until").ValueKind.Should().Be(JsonValueKind.Null);
        (await ClientRows.AuthenticateAsync(app, id, old)).Should().BeFalse();
        (await ClientRows.AuthenticateAsync(app, id, rotated.GetProperty("client_secret").GetString()!)).Should().BeTrue();
        (await ClientRows.RowAsync(app, id)).PreviousSecretHash.Should().BeNull();
    }
}

/// <summary>Clients as the database and <see cref="ClientAuthentication"/> see them, for the client admin tests.</summary>
internal static class ClientRows
{
    public static object Rights(string[] scopes) => new
    {
        grant_types = new[] { "client_credentials" }, scopes, audiences = new[] { "https://orders.example" },
    };

    /// <summary>Registers a client through the API; its id and secret.</summary>
    public static async Task<(string Id, string Secret)> CreateAsync(HttpClient admin, string[]? scopes = null)
    {
        var response = await admin.PostAsJsonAsync("/clients", new
        {
            name = "client-" + Guid.NewGuid().ToString("N")[..6], grant_types = new[] { "client_credentials" },
            scopes = scopes ?? ["orders.read"], audiences = new[] { "https://orders.example" },
        });
        response.Should().HaveStatusCode(HttpStatusCode.Created);
        var body = await response.JsonAsync();
        return (body.GetProperty("client_id").GetString()!, body.GetProperty("client_secret").GetString()!);
    }

    public static async Task<Client> RowAsync(JwtApiFactory app, string id)
    {
        using var scope = app.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<AppDb>().Clients.AsNoTracking().SingleAsync(c => c.Id == id);
    }

    public static async Task<bool> ExistsAsync(JwtApiFactory app, string id)
    {
        using var scope = app.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<AppDb>().Clients.AnyAsync(c => c.Id == id);
    }

    public static async Task<int> CountAsync(JwtApiFactory app)
    {
        using var scope = app.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<AppDb>().Clients.CountAsync();
    }

    public static async Task<List<Revocation>> RevocationsAsync(JwtApiFactory app, string id)
    {
        using var scope = app.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<AppDb>().Revocations.AsNoTracking()
            .Where(r => r.Key == id).OrderBy(r => r.Id).ToListAsync();
    }

    /// <summary>Whether the service's own client authentication (client_secret_post) accepts the id and secret now.</summary>
    public static async Task<bool> AuthenticateAsync(JwtApiFactory app, string id, string secret)
    {
        using var scope = app.Services.CreateScope();
        var form = new FormCollection(new Dictionary<string, StringValues> { ["client_id"] = id, ["client_secret"] = secret });
        var result = await scope.ServiceProvider.GetRequiredService<ClientAuthentication>()
            .AuthenticateAsync(new DefaultHttpContext().Request, form, CancellationToken.None);
        return result.Client is not null;
    }
}
