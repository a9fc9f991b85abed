using System.Net;
using System.Net.Http.Json;
using JwtApi.Storage;
using JwtApi.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace JwtApi.Tests.Auth;

public sealed class RegisterTests(JwtApiFactory app) : IClassFixture<JwtApiFactory>
{
    private static string NewName() => "reg-" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task Returns201WithUserRoleAndLocationGivenNewUsername()
    {
        var username = NewName();

        var response = await app.CreateClient().PostAsJsonAsync("/register", new { username, password = "correct horse battery" });

        response.Should().HaveStatusCode(HttpStatusCode.Created);
        var body = await response.JsonAsync();
        var id = body.GetProperty("id").GetGuid();
        response.Headers.Location!.ToString().Should().Be($"/users/{id}");
        body.GetProperty("username").GetString().Should().Be(username);
        body.GetProperty("roles").EnumerateArray().Select(r => r.GetString()).Should().Equal("user");
        body.TryGetProperty("password_hash", out _).Should().BeFalse();
        (await app.CreateClient().LoginAsync(username, "correct horse battery")).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task StoresBcryptHashNotPassword()
    {
        var username = NewName();
        await app.CreateClient().PostAsJsonAsync("/register", new { username, password = "correct horse battery" });

        using var scope = app.Services.CreateScope();
        var user = await scope.ServiceProvider.GetRequiredService<AppDb>().Users.SingleAsync(u => u.Username == username);
        user.PasswordHash.Should().StartWith("$2").And.NotContain("correct horse battery");
        BCrypt.Net.BCrypt.Verify("correct horse battery", user.PasswordHash).Should().BeTrue();
    }

    [Fact]
    public async Task Returns409GivenUsernameTakenInAnotherCase()
    {
        var username = NewName();
        var client = app.CreateClient();
        await client.PostAsJsonAsync("/register", new { username, password = "correct horse battery" });

        var response = await client.PostAsJsonAsync("/register", new { username = username.ToUpperInvariant(), password = "another password" });

        response.Should().HaveStatusCode(HttpStatusCode.Conflict);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
    }

    [Theory]
    [InlineData("ab", "correct horse battery", "username")]
    [InlineData("has space", "correct horse battery", "username")]
    [InlineData("ümlaut", "correct horse battery", "username")]
    [InlineData("VALID_NAME", "short", "password")]
    [InlineData("VALID_NAME", "", "password")]
    [InlineData("VALID_NAME", null, "password")]
    public async Task Returns400WithFieldErrorGivenInvalidInput(string username, string? password, string field)
    {
        var before = await UserCountAsync();

        var response = await app.CreateClient().PostAsJsonAsync("/register", new { username, password });

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        (await response.JsonAsync()).GetProperty("errors").TryGetProperty(field, out _).Should().BeTrue();
        (await UserCountAsync()).Should().Be(before);
    }

    [Theory]
    [InlineData(73, 'a')]    // 73 bytes
    [InlineData(37, 'é')]    // 37 characters, 74 bytes
    [InlineData(129, 'a')]   // over the character limit
    public async Task Returns400GivenPasswordOverBcryptLimit(int length, char c)
    {
        var response = await app.CreateClient().PostAsJsonAsync("/register", new { username = NewName(), password = new string(c, length) });

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await response.JsonAsync()).GetProperty("errors").GetProperty("password")[0].GetString().Should().Contain("characters");
    }

    [Fact]
    public async Task Returns201GivenPasswordOfExactly72Bytes()
    {
        var response = await app.CreateClient().PostAsJsonAsync("/register", new { username = NewName(), password = new string('é', 36) });

        response.Should().HaveStatusCode(HttpStatusCode.Created);
    }

    private async Task<int> UserCountAsync()
    {
        using var scope = app.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<AppDb>().Users.CountAsync();
    }
}

public sealed class RegistrationClosedTests(RegistrationClosedTests.Factory app) : IClassFixture<RegistrationClosedTests.Factory>
{
    public sealed class Factory : JwtApiFactory
    {
        public Factory() => Settings["Auth:AllowRegistration"] = "false";
    }

    [Fact]
    public async Task Returns404GivenRegistrationTurnedOff()
    {
        var response = await app.CreateClient().PostAsJsonAsync("/register", new { username = "newcomer", password = "correct horse battery" });

        response.Should().HaveStatusCode(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        (await app.CreateClient().LoginAsync("newcomer", "correct horse battery")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
    }
}
