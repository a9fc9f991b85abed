using System.Net;
using System.Net.Http.Json;
using JwtApi.Storage;
using JwtApi.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace JwtApi.Tests.Users;

public sealed class AdminUsersTests(JwtApiFactory app) : IClassFixture<JwtApiFactory>
{
    private async Task<HttpClient> AdminClientAsync() => await app.ClientForAsync(await app.AdminAsync());

    private async Task<int> TokenVersionAsync(Guid id)
    {
        using var scope = app.Services.CreateScope();
        return (await scope.ServiceProvider.GetRequiredService<AppDb>().Users.AsNoTracking().SingleAsync(u => u.Id == id)).TokenVersion;
    }

    [Fact]
    public async Task Returns201WithGivenRolesGivenAdminCreatesUser()
    {
        using var admin = await AdminClientAsync();

        var response = await admin.PostAsJsonAsync("/users", new { username = "ops-" + Guid.NewGuid().ToString("N")[..6], password = "correct horse battery", roles = new[] { "user", "ops", "user" } });

        response.Should().HaveStatusCode(HttpStatusCode.Created);
        (await response.JsonAsync()).GetProperty("roles").EnumerateArray().Select(r => r.GetString()).Should().Equal("ops", "user");
    }

    [Theory]
    [InlineData("Admin")]
    [InlineData("has space")]
    [InlineData("")]
    [InlineData("user\n")]
    public async Task Returns400GivenInvalidRoleName(string role)
    {
        using var admin = await AdminClientAsync();

        var response = await admin.PostAsJsonAsync("/users", new { username = "x-" + Guid.NewGuid().ToString("N")[..6], password = "correct horse battery", roles = new[] { role } });

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await response.JsonAsync()).GetProperty("errors").TryGetProperty("roles", out _).Should().BeTrue();
    }

    [Fact]
    public async Task ReturnsPagesOrderedByUsername()
    {
        for (var i = 0; i < 3; i++)
        {
            await app.CreateUserAsync();
        }
        using var admin = await AdminClientAsync();

        var first = await (await admin.GetAsync("/users?page=1&pageSize=2")).JsonAsync();
        var second = await (await admin.GetAsync("/users?page=2&pageSize=2")).JsonAsync();

        first.GetProperty("page_size").GetInt32().Should().Be(2);
        first.GetProperty("total").GetInt32().Should().BeGreaterThanOrEqualTo(4);
        var names = first.GetProperty("items").EnumerateArray().Concat(second.GetProperty("items").EnumerateArray())
            .Select(u => u.GetProperty("username").GetString()!.ToLowerInvariant()).ToList();
        names.Should().HaveCount(4).And.BeInAscendingOrder(StringComparer.Ordinal).And.OnlyHaveUniqueItems();
    }

    [Theory]
    [InlineData("page=0")]
    [InlineData("pageSize=0")]
    [InlineData("pageSize=101")]
    [InlineData("page=abc")]
    [InlineData("page=21474838&pageSize=100")]   // the offset would overflow a 32-bit integer
    [InlineData("page=2147483647&pageSize=2")]
    public async Task Returns400GivenBadPaging(string query)
    {
        using var admin = await AdminClientAsync();

        var response = await admin.GetAsync("/users?" + query);

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
    }

    [Fact]
    public async Task Returns200GivenExistingIdAnd404GivenUnknownId()
    {
        var alice = await app.CreateUserAsync();
        using var admin = await AdminClientAsync();

        var found = await admin.GetAsync($"/users/{alice.Id}");
        var missing = await admin.GetAsync($"/users/{Guid.NewGuid()}");
        var notAGuid = await admin.GetAsync("/users/not-a-guid");

        found.Should().HaveStatusCode(HttpStatusCode.OK);
        (await found.JsonAsync()).GetProperty("username").GetString().Should().Be(alice.Username);
        missing.Should().HaveStatusCode(HttpStatusCode.NotFound);
        missing.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        notAGuid.Should().HaveStatusCode(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task BumpsTokenVersionGivenRolesChanged()
    {
        var alice = await app.CreateUserAsync();
        var before = await TokenVersionAsync(alice.Id);
        using var admin = await AdminClientAsync();

        var response = await admin.PutAsJsonAsync($"/users/{alice.Id}/roles", new { roles = new[] { "user", "auditor" } });

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        (await response.JsonAsync()).GetProperty("roles").EnumerateArray().Select(r => r.GetString()).Should().Equal("auditor", "user");
        (await TokenVersionAsync(alice.Id)).Should().Be(before + 1);
        using var aliceClient = await app.ClientForAsync(alice);
        (await (await aliceClient.GetAsync("/me")).JsonAsync()).GetProperty("roles").EnumerateArray().Select(r => r.GetString())
            .Should().BeEquivalentTo("auditor", "user");
    }

    [Fact]
    public async Task GrantsAdminEndpointsGivenAdminRoleAdded()
    {
        var alice = await app.CreateUserAsync();
        using var admin = await AdminClientAsync();
        (await admin.PutAsJsonAsync($"/users/{alice.Id}/roles", new { roles = new[] { "admin", "user" } })).EnsureSuccessStatusCode();

        using var aliceClient = await app.ClientForAsync(alice);

        (await aliceClient.GetAsync("/users")).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task RefusesLoginGivenDisabledAndAllowsItAgainGivenEnabled()
    {
        var alice = await app.CreateUserAsync();
        var before = await TokenVersionAsync(alice.Id);
        using var admin = await AdminClientAsync();

        var disable = await admin.PostAsync($"/users/{alice.Id}/disable", null);
        var whileDisabled = await app.CreateClient().LoginAsync(alice.Username, alice.Password);
        var enable = await admin.PostAsync($"/users/{alice.Id}/enable", null);
        var afterEnabled = await app.CreateClient().LoginAsync(alice.Username, alice.Password);

        disable.Should().HaveStatusCode(HttpStatusCode.OK);
        (await disable.JsonAsync()).GetProperty("disabled").GetBoolean().Should().BeTrue();
        whileDisabled.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        enable.Should().HaveStatusCode(HttpStatusCode.OK);
        afterEnabled.Should().HaveStatusCode(HttpStatusCode.OK);
        (await TokenVersionAsync(alice.Id)).Should().Be(before + 2);
    }

    [Fact]
    public async Task Returns204AndRefusesLoginGivenUserDeleted()
    {
        var alice = await app.CreateUserAsync();
        using var admin = await AdminClientAsync();

        var delete = await admin.DeleteAsync($"/users/{alice.Id}");

        delete.Should().HaveStatusCode(HttpStatusCode.NoContent);
        (await app.CreateClient().LoginAsync(alice.Username, alice.Password)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await admin.DeleteAsync($"/users/{alice.Id}")).Should().HaveStatusCode(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Returns409GivenLastAdminDemotedDisabledOrDeleted()
    {
        var root = await app.AdminAsync();
        using var admin = await AdminClientAsync();
        // other admins made by parallel tests in this class would make root not the last: demote them first
        var page = await (await admin.GetAsync("/users?pageSize=100")).JsonAsync();
        foreach (var other in page.GetProperty("items").EnumerateArray()
                     .Where(u => u.GetProperty("id").GetGuid() != root.Id &&
                                 u.GetProperty("roles").EnumerateArray().Any(r => r.GetString() == "admin")))
        {
            await admin.PutAsJsonAsync($"/users/{other.GetProperty("id").GetGuid()}/roles", new { roles = new[] { "user" } });
        }

        var demote = await admin.PutAsJsonAsync($"/users/{root.Id}/roles", new { roles = new[] { "user" } });
        var disable = await admin.PostAsync($"/users/{root.Id}/disable", null);
        var delete = await admin.DeleteAsync($"/users/{root.Id}");

        demote.Should().HaveStatusCode(HttpStatusCode.Conflict);
        disable.Should().HaveStatusCode(HttpStatusCode.Conflict);
        delete.Should().HaveStatusCode(HttpStatusCode.Conflict);
        (await admin.GetAsync("/users")).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("GET", "/users")]
    [InlineData("POST", "/users")]
    [InlineData("GET", "/users/00000000-0000-0000-0000-000000000001")]
    [InlineData("PUT", "/users/00000000-0000-0000-0000-000000000001/roles")]
    [InlineData("POST", "/users/00000000-0000-0000-0000-000000000001/disable")]
    [InlineData("POST", "/users/00000000-0000-0000-0000-000000000001/enable")]
    [InlineData("DELETE", "/users/00000000-0000-0000-0000-000000000001")]
    public async Task Returns401WithoutTokenAnd403WithUserToken(string method, string path)
    {
        using var user = await app.ClientForAsync(await app.CreateUserAsync());
        HttpRequestMessage Request() => new(new HttpMethod(method), path)
        {
            Content = method is "POST" or "PUT" ? JsonContent.Create(new { roles = new[] { "user" } }) : null,
        };

        var anonymous = await app.CreateClient().SendAsync(Request());
        var forbidden = await user.SendAsync(Request());

        anonymous.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        forbidden.Should().HaveStatusCode(HttpStatusCode.Forbidden);
    }
}
