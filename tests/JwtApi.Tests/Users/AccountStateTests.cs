using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using JwtApi.Storage;
using JwtApi.Tests.Support;
using JwtApi.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace JwtApi.Tests.Users;

/// <summary>
/// Account state holds where it changes: two instances on one database, the second's revocation list stale on
/// purpose (synced once a minute, on a fake clock that never gets there), so what refuses is the row as the
/// database has it at the write. On SQLite and on PostgreSQL alike.
/// </summary>
public sealed class AccountStateTests : IDisposable
{
    private readonly TestStorage _storage = new();
    private readonly JwtApiFactory _a;
    private readonly JwtApiFactory _b;

    public AccountStateTests()
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

    private async Task<User> RowAsync(Guid id)
    {
        using var scope = _a.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<AppDb>().Users.AsNoTracking().SingleAsync(u => u.Id == id);
    }

    private async Task<bool> UserNamedExistsAsync(string name)
    {
        using var scope = _a.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<AppDb>().Users.AnyAsync(u => u.NormalizedUsername == name);
    }

    private async Task<HttpClient> RootOnAAsync() => await _a.ClientForAsync(await _a.AdminAsync());

    private static async Task ShouldBeRefusedAsync(HttpResponseMessage response, HttpStatusCode status, string reason)
    {
        response.Should().HaveStatusCode(status);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var error = status == HttpStatusCode.Unauthorized ? "invalid_token" : "insufficient_scope";
        response.Headers.WwwAuthenticate.ToString().Should().StartWith($"Bearer error=\"{error}\"");
        var body = await response.JsonAsync();
        body.GetProperty("reason").GetString().Should().Be(reason);
        body.GetProperty("error").GetString().Should().Be(error);
        body.TryGetProperty("access_token", out _).Should().BeFalse();
    }

    /// <summary>Every write an admin can make, as (method, path, body) against <paramref name="self"/>.</summary>
    private static IEnumerable<(HttpMethod Method, string Path, object? Body)> EveryWrite(Guid self, Guid other, string password) =>
    [
        (HttpMethod.Put, "/me/password", new { current_password = password, new_password = "a-new-passphrase-77" }),
        (HttpMethod.Post, $"/users/{self}/enable", null),
        (HttpMethod.Put, $"/users/{self}/roles", new { roles = new[] { "admin", "user" } }),
        (HttpMethod.Post, $"/users/{other}/disable", null),
        (HttpMethod.Delete, $"/users/{other}", null),
        (HttpMethod.Post, "/users", new { username = "backdoor-" + Guid.NewGuid().ToString("N")[..6], password = "Backdoor-pass-1", roles = new[] { "admin" } }),
        (HttpMethod.Post, "/logout/all", null),
        (HttpMethod.Post, "/logout", null),
    ];

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, (HttpMethod Method, string Path, object? Body) write) =>
        client.SendAsync(new HttpRequestMessage(write.Method, write.Path)
        {
            Content = write.Body is null ? null : JsonContent.Create(write.Body, options: JwtApiFactory.Json),
        });

    [Fact]
    public async Task RefusesEveryWriteOfADisabledAdminOnAnInstanceThatHasNotSynced()
    {
        var bob = await _a.CreateUserAsync("admin", "user");
        var victim = await _a.CreateUserAsync();
        using var onB = await _b.ClientForAsync(bob);
        (await onB.GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.OK);
        using var root = await RootOnAAsync();
        (await root.PostAsync($"/users/{bob.Id}/disable", null)).Should().HaveStatusCode(HttpStatusCode.OK);
        var disabled = await RowAsync(bob.Id);

        // B's in-memory list has not heard of it: a read still answers from the token alone
        (await onB.GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.OK);
        foreach (var write in EveryWrite(bob.Id, victim.Id, bob.Password))
        {
            await ShouldBeRefusedAsync(await SendAsync(onB, write), HttpStatusCode.Unauthorized, "token_revoked");
        }

        var after = await RowAsync(bob.Id);
        after.Disabled.Should().BeTrue();
        after.TokenVersion.Should().Be(disabled.TokenVersion);
        after.PasswordHash.Should().Be(disabled.PasswordHash);
        after.Roles.Should().Equal(disabled.Roles);
        (await RowAsync(victim.Id)).Disabled.Should().BeFalse();
        using var scope = _a.Services.CreateScope();
        (await scope.ServiceProvider.GetRequiredService<AppDb>().Users.AnyAsync(u => u.NormalizedUsername.StartsWith("backdoor-"))).Should().BeFalse();
    }

    [Fact]
    public async Task RefusesADemotedAdminWith403MissingRoleOnAnInstanceThatHasNotSynced()
    {
        var eve = await _a.CreateUserAsync("admin", "user");
        var victim = await _a.CreateUserAsync();
        using var onB = await _b.ClientForAsync(eve);
        using var root = await RootOnAAsync();
        (await root.PutAsJsonAsync($"/users/{eve.Id}/roles", new { roles = new[] { "user" } })).Should().HaveStatusCode(HttpStatusCode.OK);

        await ShouldBeRefusedAsync(await onB.PutAsJsonAsync($"/users/{eve.Id}/roles", new { roles = new[] { "admin", "user" } }),
            HttpStatusCode.Forbidden, "missing_role");
        await ShouldBeRefusedAsync(await onB.PostAsync($"/users/{victim.Id}/disable", null), HttpStatusCode.Forbidden, "missing_role");

        (await RowAsync(eve.Id)).Roles.Should().Equal("user");
        (await RowAsync(victim.Id)).Disabled.Should().BeFalse();
        // her own token version moved with the demotion: a non-admin write with the old token is stale too
        await ShouldBeRefusedAsync(await onB.PostAsync("/logout/all", null), HttpStatusCode.Unauthorized, "token_revoked");
    }

    [Fact]
    public async Task RefusesWritesWithATokenOfALoginLoggedOutOnTheOtherInstance()
    {
        var carol = await _a.CreateUserAsync();
        var token = await _a.LoginAsync(carol);
        (await _a.ClientWithToken(token).PostAsync("/logout", null)).Should().HaveStatusCode(HttpStatusCode.NoContent);
        var before = await RowAsync(carol.Id);
        using var onB = _b.ClientWithToken(token);

        await ShouldBeRefusedAsync(await onB.PutAsJsonAsync("/me/password", new { current_password = carol.Password, new_password = "a-new-passphrase-78" }),
            HttpStatusCode.Unauthorized, "token_revoked");

        (await RowAsync(carol.Id)).PasswordHash.Should().Be(before.PasswordHash);
    }

    [Fact]
    public async Task RefusesAWriteWhoseBodyArrivesAfterTheCallerWasDisabled()
    {
        using var server = _a.StartOnKestrel();
        var address = server.CreateClient().BaseAddress!;
        var dan = await _a.CreateUserAsync("admin", "user");
        var token = await _a.LoginAsync(dan);
        var name = "backdoor-" + Guid.NewGuid().ToString("N")[..6];
        var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { username = name, password = "Backdoor-pass-2", roles = new[] { "admin" } }));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        var stream = tcp.GetStream();
        // the headers (and so the bearer check) now, the body after the disable
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /users HTTP/1.1\r\nHost: {address.Authority}\r\nAuthorization: Bearer {token}\r\n" +
            $"Content-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n"));
        await stream.WriteAsync(body.AsMemory(0, 5));
        await stream.FlushAsync();

        using var root = await RootOnAAsync();
        (await root.PostAsync($"/users/{dan.Id}/disable", null)).Should().HaveStatusCode(HttpStatusCode.OK);
        await stream.WriteAsync(body.AsMemory(5));
        var reader = new StreamReader(stream, Encoding.ASCII);
        var statusLine = await reader.ReadLineAsync();

        statusLine.Should().StartWith("HTTP/1.1 401");
        (await UserNamedExistsAsync(name)).Should().BeFalse();
    }

    [Fact]
    public async Task KeepsAnEnabledAdminGivenTwoAdminsDisableEachOtherAtOnceOnTwoInstances()
    {
        using var root = await RootOnAAsync();
        var p = await _a.CreateUserAsync("admin", "user");
        // root steps down, so that p and the next admin are the only two in every round
        (await root.PostAsync($"/users/{(await _a.AdminAsync()).Id}/disable", null)).Should().HaveStatusCode(HttpStatusCode.OK);
        for (var round = 0; round < 8; round++)
        {
            using var pOnA = await _a.ClientForAsync(p);
            var created = await pOnA.PostAsJsonAsync("/users", new
            {
                username = $"adm{round}-{Guid.NewGuid().ToString("N")[..6]}", password = $"Adm-passphrase-{round}x", roles = new[] { "admin", "user" },
            }, JwtApiFactory.Json);
            created.Should().HaveStatusCode(HttpStatusCode.Created);
            var made = await created.JsonAsync();
            var q = new TestUser(made.GetProperty("id").GetGuid(), made.GetProperty("username").GetString()!, $"Adm-passphrase-{round}x");
            using var qOnB = await _b.ClientForAsync(q);

            // mutual disables in even rounds, each stepping down at once in odd ones
            var (pTarget, qTarget) = round % 2 == 0 ? (q.Id, p.Id) : (p.Id, q.Id);
            var answers = await Task.WhenAll(pOnA.PostAsync($"/users/{pTarget}/disable", null), qOnB.PostAsync($"/users/{qTarget}/disable", null));

            answers.Count(r => r.StatusCode == HttpStatusCode.OK).Should().Be(1, $"round {round}: exactly one disable goes through");
            answers.Count(r => r.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.Unauthorized).Should().Be(1);
            var enabled = new List<TestUser>();
            foreach (var admin in new[] { p, q })
            {
                if (!(await RowAsync(admin.Id)).Disabled)
                {
                    enabled.Add(admin);
                }
            }
            enabled.Should().ContainSingle($"round {round}: one enabled admin remains");
            p = enabled[0];
        }
    }

    [Fact]
    public async Task AnswersFiftyConcurrentAccountWritesOverTwoInstancesWithoutLosingOne()
    {
        var target = await _a.CreateUserAsync();
        var admin = await _a.AdminAsync();
        using var onA = await _a.ClientForAsync(admin);
        using var onB = await _b.ClientForAsync(admin);
        var before = (await RowAsync(target.Id)).TokenVersion;

        // each write alternates the role set, so every one of them is a change and bumps the version once
        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(async () =>
        {
            using var response = await (i % 2 == 0 ? onA : onB).PutAsJsonAsync($"/users/{target.Id}/roles",
                new { roles = i % 2 == 0 ? new[] { "user", $"r{i}" } : new[] { "user" } });
            return response.StatusCode;
        })));

        answers.Should().AllSatisfy(a => a.Should().Be(HttpStatusCode.OK));
        var after = await RowAsync(target.Id);
        // writes that found the roles already as asked change nothing; every other one bumped exactly once
        (after.TokenVersion - before).Should().BeInRange(25, 50);
        using var scope = _a.Services.CreateScope();
        var userRevocations = await scope.ServiceProvider.GetRequiredService<AppDb>().Revocations
            .CountAsync(r => r.Key == target.Id.ToString());
        userRevocations.Should().Be(after.TokenVersion - before, "one revocation per bump, none lost, none twice");
    }
}
