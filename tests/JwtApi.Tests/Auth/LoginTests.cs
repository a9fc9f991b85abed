using System.Net;
using System.Net.Http.Json;
using JwtApi.Auth;
using JwtApi.Storage;
using JwtApi.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace JwtApi.Tests.Auth;

public sealed class LoginTests(JwtApiFactory app) : IClassFixture<JwtApiFactory>
{
    [Fact]
    public async Task Returns200WithOAuthTokenResponseGivenValidCredentials()
    {
        var alice = await app.CreateUserAsync();

        var response = await app.CreateClient().LoginAsync(alice.Username, alice.Password);

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        response.Headers.CacheControl!.NoStore.Should().BeTrue();
        response.Headers.Pragma.ToString().Should().Be("no-cache");
        var body = await response.JsonAsync();
        body.GetProperty("token_type").GetString().Should().Be("Bearer");
        body.GetProperty("expires_in").GetInt32().Should().Be(900);
        var token = new JsonWebToken(body.GetProperty("access_token").GetString());
        token.Subject.Should().Be(alice.Id.ToString());
        token.GetClaim("name").Value.Should().Be(alice.Username);
    }

    [Fact]
    public async Task Returns200GivenUsernameInAnotherCase()
    {
        var alice = await app.CreateUserAsync();

        var response = await app.CreateClient().LoginAsync(alice.Username.ToUpperInvariant(), alice.Password);

        response.Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Returns401GivenWrongPassword()
    {
        var alice = await app.CreateUserAsync();

        var response = await app.CreateClient().LoginAsync(alice.Username, "wrong-password");

        response.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
    }

    [Fact]
    public async Task Returns401WithIdenticalBodyGivenUnknownUserWrongPasswordOrDisabledUser()
    {
        var alice = await app.CreateUserAsync();
        var bob = await app.CreateUserAsync();
        using var admin = await app.ClientForAsync(await app.AdminAsync());
        (await admin.PostAsync($"/users/{bob.Id}/disable", null)).Should().HaveStatusCode(HttpStatusCode.OK);
        var client = app.CreateClient();

        var unknown = await client.LoginAsync("nobody-" + Guid.NewGuid().ToString("N")[..8], "some-password");
        var wrong = await client.LoginAsync(alice.Username, "wrong-password");
        var disabled = await client.LoginAsync(bob.Username, bob.Password);

        foreach (var response in new[] { unknown, wrong, disabled })
        {
            response.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        }
        var bodies = await Task.WhenAll(new[] { unknown, wrong, disabled }.Select(WithoutTraceId));
        bodies[0].Should().Be(bodies[1]).And.Be(bodies[2]);
        bodies[0].Should().Contain("The username or password is incorrect.");
    }

    [Theory]
    [InlineData("\u0000abc")]     // PostgreSQL refuses NUL in any text it is sent: found by FuzzTests on PostgreSQL
    [InlineData("alice\n")]
    [InlineData("ålice")]
    public async Task Returns401GivenUsernameNoAccountCanHave(string username)
    {
        var response = await app.CreateClient().LoginAsync(username, "some-password");

        response.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await WithoutTraceId(response)).Should().Contain("The username or password is incorrect.");
    }

    [Fact]
    public async Task Returns401GivenPasswordExtendedPast72Bytes()
    {
        // BCrypt reads 72 bytes; a longer password sharing them must not log in
        var prefix = new string('p', 72);
        using var admin = await app.ClientForAsync(await app.AdminAsync());
        var username = "long-" + Guid.NewGuid().ToString("N")[..8];
        (await admin.PostAsJsonAsync("/users", new { username, password = prefix, roles = new[] { "user" } }))
            .Should().HaveStatusCode(HttpStatusCode.Created);

        var response = await app.CreateClient().LoginAsync(username, prefix + "-and-more");

        response.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await app.CreateClient().LoginAsync(username, prefix)).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("{}", "username")]
    [InlineData("{\"username\":\"alice\"}", "password")]
    [InlineData("{\"password\":\"secret-password\"}", "username")]
    public async Task Returns400WithFieldErrorGivenMissingField(string json, string field)
    {
        var response = await app.CreateClient().PostAsync("/login", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var body = await response.JsonAsync();
        body.GetProperty("errors").TryGetProperty(field, out _).Should().BeTrue();
    }

    [Theory]
    [InlineData("{\"username\":", "Invalid JSON body")]
    [InlineData("[1,2]", "Invalid JSON body")]
    [InlineData("{\"username\":5,\"password\":\"x\"}", "Invalid JSON body")]
    [InlineData("", "Missing body")]
    [InlineData("null", "Missing body")]
    public async Task Returns400ProblemGivenMalformedBody(string json, string title)
    {
        var response = await app.CreateClient().PostAsync("/login", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        (await response.JsonAsync()).GetProperty("title").GetString().Should().Be(title);
    }

    [Fact]
    public async Task Returns415ProblemGivenFormBody()
    {
        var response = await app.CreateClient().PostAsync("/login",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = "a", ["password"] = "b" }));

        response.Should().HaveStatusCode(HttpStatusCode.UnsupportedMediaType);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
    }

    private static async Task<string> WithoutTraceId(HttpResponseMessage response)
    {
        var body = await response.JsonAsync();
        return string.Join(",", body.EnumerateObject().Where(p => p.Name != "traceId").Select(p => $"{p.Name}={p.Value}"));
    }
}

/// <summary>Raising Passwords:WorkFactor upgrades each stored hash at its owner's next login.</summary>
public sealed class RehashTests(RehashTests.Factory app) : IClassFixture<RehashTests.Factory>
{
    public sealed class Factory : JwtApiFactory
    {
        public Factory() => Settings["Passwords:WorkFactor"] = "5";
    }

    [Fact]
    public async Task UpgradesStoredHashGivenLoginAfterWorkFactorRaised()
    {
        var alice = await app.CreateUserAsync();
        using (var scope = app.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDb>();
            var user = await db.Users.SingleAsync(u => u.Id == alice.Id);
            user.PasswordHash = BCrypt.Net.BCrypt.HashPassword(alice.Password, 4);   // made before the raise
            await db.SaveChangesAsync();
        }

        (await app.CreateClient().LoginAsync(alice.Username, alice.Password)).Should().HaveStatusCode(HttpStatusCode.OK);

        using var verify = app.Services.CreateScope();
        var stored = await verify.ServiceProvider.GetRequiredService<AppDb>().Users.AsNoTracking().SingleAsync(u => u.Id == alice.Id);
        BCrypt.Net.BCrypt.PasswordNeedsRehash(stored.PasswordHash, 5).Should().BeFalse();
        BCrypt.Net.BCrypt.Verify(alice.Password, stored.PasswordHash).Should().BeTrue();
    }

    [Fact]
    public async Task LogsInWithoutTheUpgradeGivenTheRowChangedDuringTheCheck()
    {
        // work factor 12 and one hash at a time: the check of an old hash takes long enough to change the row meanwhile
        using var slow = new JwtApiFactory();
        slow.Settings["Passwords:WorkFactor"] = "12";
        slow.Settings["Passwords:MaxConcurrentHashes"] = "1";
        var alice = await slow.RegisterUserAsync();
        using (var scope = slow.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDb>();
            var user = await db.Users.SingleAsync(u => u.Id == alice.Id);
            user.PasswordHash = BCrypt.Net.BCrypt.HashPassword(alice.Password, 4);
            await db.SaveChangesAsync();
        }
        var hasher = slow.Services.GetRequiredService<PasswordHasher>();

        var login = Task.Run(async () =>
        {
            using var client = slow.CreateClient();
            return await client.LoginAsync(alice.Username, alice.Password);
        });
        PasswordHasherTests.WaitUntil(() => hasher.FreeTurns == 0);   // the row has been read; the check runs
        using (var scope = slow.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDb>();
            (await db.Users.SingleAsync(u => u.Id == alice.Id)).BumpTokenVersion(slow.Time.GetUtcNow());   // e.g. an admin's role change
            await db.SaveChangesAsync();
        }
        var response = await login;

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        // its tokens carry the version as it is now, so they work
        (await slow.RefreshAsync(TokenSet.From(await response.JsonAsync()).Refresh)).Should().HaveStatusCode(HttpStatusCode.OK);
        using var verify = slow.Services.CreateScope();
        var stored = await verify.ServiceProvider.GetRequiredService<AppDb>().Users.AsNoTracking().SingleAsync(u => u.Id == alice.Id);
        BCrypt.Net.BCrypt.PasswordNeedsRehash(stored.PasswordHash, 12).Should().BeTrue("the upgrade waits for the next login");
    }
}
