using System.Net;
using System.Net.Http.Json;
using JwtApi.Tests.Support;
using Microsoft.IdentityModel.JsonWebTokens;

namespace JwtApi.Tests.Mfa;

/// <summary>A factory whose admins must use a second factor (Auth:RequireMfaFor = admin).</summary>
public sealed class MfaForAdminsFactory : JwtApiFactory
{
    private string? _adminToken;

    public MfaForAdminsFactory() => Settings["Auth:RequireMfaFor:0"] = "admin";

    /// <summary>The seeded admin enrols once (its first login can do nothing else); its full token is kept.</summary>
    protected override async Task<string> AdminTokenAsync()
    {
        if (_adminToken is null)
        {
            var admin = await AdminAsync();
            using var client = ClientWithToken(await LoginAsync(admin));
            var secret = await MfaUsers.StartAsync(client);
            var confirmed = await client.PostAsJsonAsync("/me/mfa/totp/confirm",
                new { password = admin.Password, code = TotpCodes.At(secret, Time.GetUtcNow(), -1) });
            _adminToken = (await confirmed.EnsureSuccessStatusCode().JsonAsync()).GetProperty("tokens").GetProperty("access_token").GetString();
        }
        return _adminToken!;
    }
}

/// <summary><c>Auth:RequireMfaFor</c>: endpoints requiring a listed role require <c>otp</c> in <c>amr</c>; such a user without a second factor can only enrol.</summary>
public sealed class MfaPolicyTests(MfaForAdminsFactory app) : IClassFixture<MfaForAdminsFactory>
{
    private DateTimeOffset Now => app.Time.GetUtcNow();

    [Fact]
    public async Task AnAdminWithoutASecondFactorGetsATokenThatCanOnlyEnrol()
    {
        var admin = await app.CreateUserAsync("admin", "user");
        using var anonymous = app.CreateClient();

        var login = await anonymous.LoginAsync(admin.Username, admin.Password);

        login.Should().HaveStatusCode(HttpStatusCode.OK);
        var body = await login.JsonAsync();
        body.GetProperty("mfa_enrollment_required").GetBoolean().Should().BeTrue();
        body.TryGetProperty("refresh_token", out _).Should().BeFalse("the login ends with this token unless a second factor is turned on");
        var token = new JsonWebToken(body.GetProperty("access_token").GetString()!);
        token.Audiences.Should().Equal(app.JwtOptions.Audience + "/mfa-enrollment");
        token.Claims.Where(c => c.Type == "role").Should().BeEmpty("no API may take it for an admin's");
        using var client = app.ClientWithToken(token.EncodedToken);
        foreach (var path in new[] { "/users", "/me" })
        {
            var refused = await client.GetAsync(path);
            refused.Should().HaveStatusCode(HttpStatusCode.Forbidden);
            refused.Headers.WwwAuthenticate.ToString().Should().StartWith("Bearer error=\"insufficient_user_authentication\"");
            (await refused.JsonAsync()).GetProperty("reason").GetString().Should().Be("mfa_enrollment_required");
        }

        // the way out: enrol, and the confirmation is a full login with both factors
        var secret = await MfaUsers.StartAsync(client);
        var confirmed = await client.PostAsJsonAsync("/me/mfa/totp/confirm", new { password = admin.Password, code = TotpCodes.At(secret, Now) });
        confirmed.Should().HaveStatusCode(HttpStatusCode.OK);
        var access = (await confirmed.JsonAsync()).GetProperty("tokens").GetProperty("access_token").GetString()!;
        MfaUsers.Amr(access).Should().Equal("pwd", "otp");
        using var full = app.ClientWithToken(access);
        (await full.GetAsync("/users")).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task AnAdminTokenWithoutOtpIsRefusedAtAdminEndpointsOnly()
    {
        var minter = new TokenMinter(app.JwtOptions, app.Algorithm);
        var admin = await app.CreateUserAsync("admin");
        var passwordOnly = minter.Mint(d =>
        {
            d.Claims["sub"] = admin.Id.ToString();
            d.Claims["amr"] = new[] { "pwd" };
        }, roles: ["admin"]);
        using var client = app.ClientWithToken(passwordOnly);

        var adminEndpoint = await client.GetAsync("/users");
        var userEndpoint = await client.GetAsync("/me");

        adminEndpoint.Should().HaveStatusCode(HttpStatusCode.Forbidden);
        var body = await adminEndpoint.JsonAsync();
        body.GetProperty("error").GetString().Should().Be("insufficient_user_authentication");
        body.GetProperty("reason").GetString().Should().Be("mfa_required");
        userEndpoint.Should().HaveStatusCode(HttpStatusCode.OK, "only endpoints requiring a listed role ask for the second factor");
    }

    [Fact]
    public async Task AUserWithoutTheRoleIsToldTheRoleNotTheFactor()
    {
        using var client = await app.ClientForAsync(await app.CreateUserAsync());

        var response = await client.GetAsync("/users");

        response.Should().HaveStatusCode(HttpStatusCode.Forbidden);
        (await response.JsonAsync()).GetProperty("reason").GetString().Should().Be("missing_role");
    }

    [Fact]
    public async Task UsersOfOtherRolesLogInWithThePasswordAlone()
    {
        var token = await app.LoginAsync(await app.CreateUserAsync("billing"));

        new JsonWebToken(token).Audiences.Should().Equal(app.JwtOptions.Audience);
    }

    [Fact]
    public async Task AnEnrolledAdminActsAfterTheSecondStep()
    {
        var admin = await app.EnrolledAsync(null, "admin");
        var response = await app.SecondStepAsync(await app.MfaTokenAsync(admin.User), TotpCodes.At(admin.Secret, Now));
        using var client = app.ClientWithToken(TokenSet.From(await response.JsonAsync()).Access);

        (await client.GetAsync("/users")).Should().HaveStatusCode(HttpStatusCode.OK);
    }
}

/// <summary>A factory with a real guessing limit: three failures per username and address.</summary>
public sealed class TightGuessingLimitFactory : JwtApiFactory
{
    public TightGuessingLimitFactory() => Settings["RateLimits:PerUsernameAndAddress:PermitLimit"] = "3";
}

/// <summary>Wrong codes are guesses like wrong passwords: they count under the same keys and limits.</summary>
public sealed class MfaGuessingTests(TightGuessingLimitFactory app) : IClassFixture<TightGuessingLimitFactory>
{
    [Fact]
    public async Task WrongCodesCountUnderThePasswordGuessingLimit()
    {
        var olga = await app.EnrolledAsync();
        var right = TotpCodes.At(olga.Secret, app.Time.GetUtcNow());
        var wrong = right == "000000" ? "000001" : "000000";
        for (var i = 0; i < 3; i++)
        {
            (await app.SecondStepAsync(await app.MfaTokenAsync(olga.User), wrong)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        }

        var fourth = await app.CreateClient().LoginAsync(olga.User.Username, olga.User.Password);

        fourth.Should().HaveStatusCode(HttpStatusCode.TooManyRequests, "three wrong codes used up the username's guesses from this address");
        fourth.Headers.RetryAfter.Should().NotBeNull();
    }
}
