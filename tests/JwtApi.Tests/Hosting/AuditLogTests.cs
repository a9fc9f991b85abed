using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using JwtApi.Hosting;
using JwtApi.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace JwtApi.Tests.Hosting;

/// <summary>Structured audit events under JwtApi.Audit: who, from where, what, why; never a password or a token.</summary>
public sealed class AuditLogTests : IDisposable
{
    private readonly JwtApiFactory _app = new();
    private readonly WebApplicationFactory<Program> _server;

    public AuditLogTests()
    {
        _server = _app.WithWebHostBuilder(web =>
        {
            web.ConfigureLogging(logging => logging.AddFakeLogging());
            web.ConfigureTestServices(services => services.AddSingleton<Microsoft.AspNetCore.Hosting.IStartupFilter>(new ClientAddressFromHeader()));
        });
    }

    public void Dispose()
    {
        _server.Dispose();
        _app.Dispose();
    }

    private HttpClient Client(string address, string? token = null)
    {
        var client = _server.CreateClient();
        client.DefaultRequestHeaders.Add(ClientAddressFromHeader.Header, address);
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        }
        return client;
    }

    private IReadOnlyList<FakeLogRecord> Audit(string eventName) =>
        _server.Services.GetFakeLogCollector().GetSnapshot()
            .Where(r => r.Category == AuditLog.Category && r.Id.Name == eventName).ToList();

    private static string? Field(FakeLogRecord record, string key) => record.GetStructuredStateValue(key);

    private async Task<TestUser> RegisterAsync(string username, string password)
    {
        var response = await Client("10.9.9.9").PostAsJsonAsync("/register", new { username, password });
        response.EnsureSuccessStatusCode();
        return new TestUser((await response.JsonAsync()).GetProperty("id").GetGuid(), username, password);
    }

    [Fact]
    public async Task LogsLoginOutcomesWithUsernameAddressAndReason()
    {
        var carol = await RegisterAsync("carol", "carol-audit-passphrase");
        var dan = await RegisterAsync("dan", "dan-audit-passphrase");
        using (var admin = Client("10.9.9.9", await _app.LoginAsync(await _app.AdminAsync())))
        {
            (await admin.PostAsync($"/users/{dan.Id}/disable", null)).Should().BeSuccessful();
        }

        (await Client("10.0.0.1").LoginAsync("nobody", "some-password-1")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await Client("10.0.0.2").LoginAsync("carol", "wrong-password-2")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await Client("10.0.0.3").LoginAsync("dan", dan.Password)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await Client("10.0.0.4").LoginAsync("carol", carol.Password)).Should().HaveStatusCode(HttpStatusCode.OK);

        Audit("LoginFailed").Select(r => (Field(r, "Username"), Field(r, "ClientAddress"), Field(r, "Reason"))).Should().Equal(
            ("nobody", "10.0.0.1", "unknown_user"), ("carol", "10.0.0.2", "wrong_password"), ("dan", "10.0.0.3", "account_disabled"));
        Audit("LoginFailed").Should().OnlyContain(r => r.Level == LogLevel.Warning);
        var success = Audit("LoginSucceeded").Last();
        (Field(success, "Username"), Field(success, "UserId"), Field(success, "ClientAddress")).Should().Be(("carol", carol.Id.ToString(), "10.0.0.4"));
    }

    [Fact]
    public async Task LogsAccountChangesWithTheAdminAsActor()
    {
        var frank = await RegisterAsync("frank", "frank-audit-passphrase");
        var root = await _app.AdminAsync();
        using (var admin = Client("10.9.9.8", await _app.LoginAsync(root)))
        {
            (await admin.PostAsync($"/users/{frank.Id}/disable", null)).Should().BeSuccessful();
            (await admin.PostAsync($"/users/{frank.Id}/disable", null)).Should().BeSuccessful();   // already: nothing logged
            (await admin.PutAsJsonAsync($"/users/{frank.Id}/roles", new { roles = new[] { "user", "billing" } })).Should().BeSuccessful();
            (await admin.PostAsync($"/users/{frank.Id}/enable", null)).Should().BeSuccessful();
            (await admin.DeleteAsync($"/users/{frank.Id}")).Should().BeSuccessful();
        }

        Audit("AccountChanged").Select(r => (Field(r, "UserId"), Field(r, "Change"), Field(r, "Actor"), Field(r, "ClientAddress"))).Should().Equal(
            (frank.Id.ToString(), "disabled", root.Id.ToString(), "10.9.9.8"), (frank.Id.ToString(), "roles_changed", root.Id.ToString(), "10.9.9.8"),
            (frank.Id.ToString(), "enabled", root.Id.ToString(), "10.9.9.8"), (frank.Id.ToString(), "deleted", root.Id.ToString(), "10.9.9.8"));
    }

    [Fact]
    public void GivesEveryEventAnIdAndNameOfItsOwn()
    {
        var events = typeof(AuditLog).GetMethods(BindingFlags.Instance | BindingFlags.NonPublic)
            .Select(m => m.GetCustomAttribute<LoggerMessageAttribute>()).OfType<LoggerMessageAttribute>().ToList();

        events.Should().HaveCountGreaterThan(10);
        events.Select(e => e.EventId).Should().OnlyHaveUniqueItems();
        events.Select(e => e.EventName).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task LogsRefreshAndRevocationAndNeverAPasswordOrToken()
    {
        var erin = await RegisterAsync("erin", "erin-audit-passphrase");
        var first = TokenSet.From(await (await Client("10.0.1.1").LoginAsync("erin", erin.Password)).JsonAsync());
        var refreshed = await Client("10.0.1.2").PostAsJsonAsync("/refresh", new { refresh_token = first.Refresh });
        var second = TokenSet.From(await refreshed.JsonAsync());
        (await Client("10.0.1.3").PostAsJsonAsync("/refresh", new { refresh_token = "not-a-refresh-token" })).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await Client("10.0.1.4", second.Access).PostAsync("/logout", null)).Should().HaveStatusCode(HttpStatusCode.NoContent);
        (await Client("10.0.1.5").PostAsJsonAsync("/refresh", new { refresh_token = second.Refresh })).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await Client("10.0.1.6", second.Access).GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);

        var refresh = Audit("RefreshSucceeded").Single();
        (Field(refresh, "UserId"), Field(refresh, "ClientAddress")).Should().Be((erin.Id.ToString(), "10.0.1.2"));
        Audit("RefreshRefused").Select(r => (Field(r, "ClientAddress"), Field(r, "Reason"))).Should().Equal(
            ("10.0.1.3", "invalid_refresh_token"), ("10.0.1.5", "login_revoked"));
        Audit("Revoked").Select(r => (Field(r, "Kind"), Field(r, "Actor"), Field(r, "ClientAddress"))).Should().BeEquivalentTo(
            [("access_token", erin.Id.ToString(), "10.0.1.4"), ("login", erin.Id.ToString(), "10.0.1.4")]);

        var everything = _server.Services.GetFakeLogCollector().GetSnapshot();
        everything.Should().NotBeEmpty();
        foreach (var secret in new[] { erin.Password, first.Access, first.Refresh, second.Access, second.Refresh })
        {
            // no token appears whole, nor its signature alone
            var signature = secret.Split('.').Last();
            everything.Should().NotContain(r => r.Message.Contains(secret) || (signature.Length > 20 && r.Message.Contains(signature)) ||
                (r.Exception != null && r.Exception.ToString().Contains(secret)));
        }
    }

    [Theory]
    [InlineData("alice", "alice")]
    [InlineData("bad\r\nINFO forged line", "bad??INFO forged line")]
    public void KeepsUsernamesOnOneLine(string username, string logged)
    {
        AuditLog.Printable(username).Should().Be(logged);
        AuditLog.Printable(new string('x', 100)).Should().HaveLength(65).And.EndWith("…");
    }
}
