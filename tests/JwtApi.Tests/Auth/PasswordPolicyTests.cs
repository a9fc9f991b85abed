using System.Net;
using System.Net.Http.Json;
using JwtApi.Auth;
using JwtApi.Tests.Support;
using Microsoft.Extensions.Options;

namespace JwtApi.Tests.Auth;

/// <summary>NIST SP 800-63B for new passwords: length, no common passwords, not the username, no composition rules.</summary>
public sealed class PasswordPolicyTests(JwtApiFactory app) : IClassFixture<JwtApiFactory>
{
    private static readonly PasswordPolicy Policy = new(Options.Create(new PasswordOptions()));

    [Fact]
    public void ShipsTheTenThousandMostCommonPasswords()
    {
        PasswordPolicy.CommonPasswords.Should().HaveCount(10_000);
        PasswordPolicy.CommonPasswords.Should().Contain(["123456", "password", "password1", "iloveyou", "qwertyuiop"]);
        PasswordPolicy.CommonPasswords.Should().OnlyContain(p => p.Length > 0 && p == p.ToLowerInvariant() && !p.StartsWith('#'));
    }

    [Theory]
    [InlineData("password1")]
    [InlineData("Password1")]
    [InlineData("QWERTYUIOP")]
    [InlineData("1qaz2wsx3edc")]
    [InlineData("baseball")]
    public void RefusesCommonPasswordsIgnoringCase(string password)
    {
        Policy.Check(password, "someone").Should().ContainSingle().Which.Should().Contain("most common passwords");
    }

    [Theory]
    [InlineData("alice.smith", "alice.smith")]
    [InlineData("Alice.Smith", "alice.smith")]
    [InlineData("alice.smith", " ALICE.SMITH ")]
    public void RefusesThePasswordEqualToTheUsername(string username, string password)
    {
        Policy.Check(password, username).Should().ContainSingle().Which.Should().Contain("username");
    }

    [Theory]
    [InlineData("correct horse battery staple")]
    [InlineData("alllowercaseletters")]
    [InlineData("12345678901234567890123")]
    [InlineData("ünïcödé-pässwörd")]
    public void AcceptsLongUncommonPasswordsWithoutCompositionRules(string password)
    {
        Policy.Check(password, "someone").Should().BeEmpty();
    }

    [Fact]
    public void ChecksLengthBeforeTheList()
    {
        // "1234567" is common but too short: the length is the actionable message
        Policy.Check("1234567", "someone").Should().ContainSingle().Which.Should().Contain("8 to 128 characters");
    }

    [Fact]
    public async Task Returns400FromRegisterGivenCommonPassword()
    {
        var response = await app.CreateClient().PostAsJsonAsync("/register", new { username = "common-pw-user", password = "superman1" });

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await response.JsonAsync()).GetProperty("errors").GetProperty("password")[0].GetString().Should().Contain("most common");
    }

    [Fact]
    public async Task Returns400FromRegisterGivenPasswordEqualToUsername()
    {
        var response = await app.CreateClient().PostAsJsonAsync("/register", new { username = "same-as-name", password = "Same-As-Name" });

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await response.JsonAsync()).GetProperty("errors").GetProperty("password")[0].GetString().Should().Contain("username");
    }

    [Fact]
    public async Task Returns400FromPasswordChangeGivenCommonPassword()
    {
        var user = await app.CreateUserAsync();
        using var client = await app.ClientForAsync(user);

        var response = await client.PutAsJsonAsync("/me/password", new { current_password = user.Password, new_password = "football1" });

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await response.JsonAsync()).GetProperty("errors").GetProperty("new_password")[0].GetString().Should().Contain("most common");
    }

    [Fact]
    public void RefusesToStartGivenCommonSeedPassword()
    {
        var factory = new JwtApiFactory();
        factory.Settings["Seed:AdminPassword"] = "password123";

        StartupFailure.Of(factory).Should().Contain("most common");
    }
}
