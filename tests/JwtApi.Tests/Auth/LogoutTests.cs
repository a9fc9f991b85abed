using System.Net;
using System.Net.Http.Json;
using JwtApi.Tests.Support;

namespace JwtApi.Tests.Auth;

public sealed class LogoutTests(JwtApiFactory app) : IClassFixture<JwtApiFactory>
{
    private static async Task ShouldBeRevokedAsync(HttpResponseMessage response)
    {
        response.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().Should().Be("Bearer error=\"invalid_token\", error_description=\"The token has been revoked.\"");
        (await response.JsonAsync()).GetProperty("reason").GetString().Should().Be("token_revoked");
    }

    [Fact]
    public async Task Returns204AndRefusesThatAccessTokenAtOnceGivenLogout()
    {
        var pair = await app.LoginPairAsync(await app.CreateUserAsync());
        using var client = app.ClientWithToken(pair.Access);

        var logout = await client.PostAsync("/logout", null);

        logout.Should().HaveStatusCode(HttpStatusCode.NoContent);
        await ShouldBeRevokedAsync(await client.GetAsync("/me"));
        (await app.RefreshAsync(pair.Refresh)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task RevokesTheGivenRefreshTokensFamilyAndLeavesOtherDevicesLoggedIn()
    {
        var alice = await app.CreateUserAsync();
        var phone = await app.LoginPairAsync(alice);
        var laptop = await app.LoginPairAsync(alice);
        // the phone has refreshed once: its current access token is a later one of the same family
        var phoneNow = TokenSet.From(await (await app.RefreshAsync(phone.Refresh)).JsonAsync());
        using var client = app.ClientWithToken(phoneNow.Access);

        (await client.PostAsJsonAsync("/logout", new { refresh_token = phoneNow.Refresh })).Should().HaveStatusCode(HttpStatusCode.NoContent);

        (await app.RefreshAsync(phoneNow.Refresh)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await app.RefreshAsync(phone.Refresh)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        await ShouldBeRevokedAsync(await app.ClientWithToken(phone.Access).GetAsync("/me"));
        (await app.ClientWithToken(laptop.Access).GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.OK);
        (await app.RefreshAsync(laptop.Refresh)).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Returns400AndRevokesNothingGivenAnotherUsersRefreshToken()
    {
        var alice = await app.LoginPairAsync(await app.CreateUserAsync());
        var bob = await app.LoginPairAsync(await app.CreateUserAsync());
        using var client = app.ClientWithToken(alice.Access);

        var response = await client.PostAsJsonAsync("/logout", new { refresh_token = bob.Refresh });

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await response.JsonAsync()).GetProperty("errors").TryGetProperty("refresh_token", out _).Should().BeTrue();
        (await client.GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.OK);
        (await app.RefreshAsync(bob.Refresh)).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Returns401GivenLogoutWithoutToken()
    {
        var response = await app.CreateClient().PostAsync("/logout", null);

        response.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task EndsEveryLoginOfTheUserGivenLogoutAll()
    {
        var alice = await app.CreateUserAsync();
        var phone = await app.LoginPairAsync(alice);
        var laptop = await app.LoginPairAsync(alice);
        var bob = await app.LoginPairAsync(await app.CreateUserAsync());

        (await app.ClientWithToken(phone.Access).PostAsync("/logout/all", null)).Should().HaveStatusCode(HttpStatusCode.NoContent);

        foreach (var device in new[] { phone, laptop })
        {
            await ShouldBeRevokedAsync(await app.ClientWithToken(device.Access).GetAsync("/me"));
            (await app.RefreshAsync(device.Refresh)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        }
        (await app.ClientWithToken(bob.Access).GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.OK);
        // logging in again works, and so do the new tokens
        var again = await app.LoginPairAsync(alice);
        (await app.ClientWithToken(again.Access).GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.OK);
        (await app.RefreshAsync(again.Refresh)).Should().HaveStatusCode(HttpStatusCode.OK);
    }
}

public sealed class ChangePasswordTests(JwtApiFactory app) : IClassFixture<JwtApiFactory>
{
    [Fact]
    public async Task Returns200WithFreshPairAndEndsOtherLoginsGivenCorrectCurrentPassword()
    {
        var alice = await app.CreateUserAsync();
        var here = await app.LoginPairAsync(alice);
        var elsewhere = await app.LoginPairAsync(alice);

        var response = await app.ClientWithToken(here.Access)
            .PutAsJsonAsync("/me/password", new { current_password = alice.Password, new_password = "a brand new passphrase" });

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        response.Headers.CacheControl!.NoStore.Should().BeTrue();
        var fresh = TokenSet.From(await response.JsonAsync());
        (await app.ClientWithToken(fresh.Access).GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.OK);
        (await app.RefreshAsync(fresh.Refresh)).Should().HaveStatusCode(HttpStatusCode.OK);
        foreach (var old in new[] { here, elsewhere })
        {
            (await app.ClientWithToken(old.Access).GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
            (await app.RefreshAsync(old.Refresh)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        }
        (await app.CreateClient().LoginAsync(alice.Username, alice.Password)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await app.CreateClient().LoginAsync(alice.Username, "a brand new passphrase")).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData(false, "a brand new passphrase", "current_password")]
    [InlineData(true, "short", "new_password")]
    public async Task Returns400AndChangesNothingGivenBadInput(bool rightCurrent, string newPassword, string field)
    {
        var alice = await app.CreateUserAsync();
        var pair = await app.LoginPairAsync(alice);
        using var client = app.ClientWithToken(pair.Access);

        var response = await client.PutAsJsonAsync("/me/password",
            new { current_password = rightCurrent ? alice.Password : "not-the-password", new_password = newPassword });

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await response.JsonAsync()).GetProperty("errors").TryGetProperty(field, out _).Should().BeTrue();
        (await client.GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.OK);
        (await app.RefreshAsync(pair.Refresh)).Should().HaveStatusCode(HttpStatusCode.OK);
        (await app.CreateClient().LoginAsync(alice.Username, alice.Password)).Should().HaveStatusCode(HttpStatusCode.OK);
    }
}
