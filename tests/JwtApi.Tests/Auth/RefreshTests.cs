using System.Net;
using System.Net.Http.Json;
using JwtApi.Tests.Support;
using Microsoft.IdentityModel.JsonWebTokens;

namespace JwtApi.Tests.Auth;

public sealed class RefreshTests(JwtApiFactory app) : IClassFixture<JwtApiFactory>
{
    [Fact]
    public async Task LoginReturnsRefreshTokenOfItsOwnTypeKeyAndAudience()
    {
        var alice = await app.CreateUserAsync();

        var pair = await app.LoginPairAsync(alice);
        var access = new JsonWebToken(pair.Access);
        var refresh = new JsonWebToken(pair.Refresh);

        pair.RefreshExpiresIn.Should().Be((int)TimeSpan.FromDays(14).TotalSeconds);
        refresh.Typ.Should().Be("rt+jwt");
        refresh.Alg.Should().Be("HS256");
        refresh.Kid.Should().NotBe(access.Kid);
        refresh.Audiences.Should().NotContain(app.JwtOptions.Audience);
        refresh.Subject.Should().Be(alice.Id.ToString());
        foreach (var claim in new[] { "jti", "sid", "ver", "auth_time", "iat", "exp" })
        {
            refresh.TryGetPayloadValue<object>(claim, out _).Should().BeTrue(claim);
        }
        refresh.GetClaim("sid").Value.Should().Be(access.GetClaim("sid").Value);
        refresh.TryGetPayloadValue<object>("role", out _).Should().BeFalse("a refresh token carries no rights of its own");
    }

    [Fact]
    public async Task Returns200WithNewPairOfSameFamilyGivenValidRefreshToken()
    {
        var alice = await app.CreateUserAsync();
        var first = await app.LoginPairAsync(alice);

        var response = await app.RefreshAsync(first.Refresh);

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        response.Headers.CacheControl!.NoStore.Should().BeTrue();
        var second = TokenSet.From(await response.JsonAsync());
        var (before, after) = (new JsonWebToken(first.Refresh), new JsonWebToken(second.Refresh));
        after.Id.Should().NotBe(before.Id);
        after.GetClaim("sid").Value.Should().Be(before.GetClaim("sid").Value);
        after.GetClaim("auth_time").Value.Should().Be(before.GetClaim("auth_time").Value);
        new JsonWebToken(second.Access).Id.Should().NotBe(new JsonWebToken(first.Access).Id);
        (await app.ClientWithToken(second.Access).GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task BothSucceedGivenTwoRefreshesRacingWithOneToken()
    {
        // two browser tabs: stateless rotation cannot tell a race from reuse, so both get a pair
        var pair = await app.LoginPairAsync(await app.CreateUserAsync());

        var responses = await Task.WhenAll(app.RefreshAsync(pair.Refresh), app.RefreshAsync(pair.Refresh));

        responses.Should().AllSatisfy(r => r.Should().HaveStatusCode(HttpStatusCode.OK));
    }

    [Fact]
    public async Task Returns401GivenAccessTokenAtRefresh()
    {
        var pair = await app.LoginPairAsync(await app.CreateUserAsync());

        (await app.RefreshAsync(pair.Access)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Returns401GivenRefreshTokenAsBearer()
    {
        var pair = await app.LoginPairAsync(await app.CreateUserAsync());

        var response = await app.ClientWithToken(pair.Refresh).GetAsync("/me");

        response.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().Should().StartWith("Bearer error=\"invalid_token\"");
    }

    [Theory]
    [InlineData("not-a-jwt")]
    [InlineData("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")]
    public async Task Returns401GivenGarbage(string token)
    {
        (await app.RefreshAsync(token)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Returns400GivenNoRefreshToken()
    {
        var response = await app.CreateClient().PostAsJsonAsync("/refresh", new { });

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await response.JsonAsync()).GetProperty("errors").TryGetProperty("refresh_token", out _).Should().BeTrue();
    }

    [Fact]
    public async Task Returns401GivenRolesChangedDisabledOrDeleted()
    {
        using var admin = await app.ClientForAsync(await app.AdminAsync());
        var changed = await app.CreateUserAsync();
        var disabled = await app.CreateUserAsync();
        var deleted = await app.CreateUserAsync();
        var tokens = new[] { await app.LoginPairAsync(changed), await app.LoginPairAsync(disabled), await app.LoginPairAsync(deleted) };

        (await admin.PutAsJsonAsync($"/users/{changed.Id}/roles", new { roles = new[] { "user", "ops" } })).EnsureSuccessStatusCode();
        (await admin.PostAsync($"/users/{disabled.Id}/disable", null)).EnsureSuccessStatusCode();
        (await admin.DeleteAsync($"/users/{deleted.Id}")).EnsureSuccessStatusCode();

        foreach (var pair in tokens)
        {
            (await app.RefreshAsync(pair.Refresh)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
            // and the access tokens they held are refused at once, not in up to 15 minutes
            var me = await app.ClientWithToken(pair.Access).GetAsync("/me");
            me.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
            (await me.JsonAsync()).GetProperty("reason").GetString().Should().Be("token_revoked");
        }
        // a new login carries the new roles
        var fresh = new JsonWebToken((await app.LoginPairAsync(changed)).Access);
        fresh.GetPayloadValue<string[]>("role").Should().Equal("ops", "user");
    }

    [Fact]
    public async Task Returns401WithOneIdenticalBodyForEveryRefusal()
    {
        var alice = await app.CreateUserAsync();
        var pair = await app.LoginPairAsync(alice);
        using (var client = app.ClientWithToken(pair.Access))
        {
            (await client.PostAsJsonAsync("/logout", new { refresh_token = pair.Refresh })).EnsureSuccessStatusCode();
        }

        var revoked = await app.RefreshAsync(pair.Refresh);
        var garbage = await app.RefreshAsync("x.y.z");
        var access = await app.RefreshAsync((await app.LoginPairAsync(alice)).Access);

        var bodies = await Task.WhenAll(new[] { revoked, garbage, access }.Select(async r =>
        {
            r.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
            var body = await r.JsonAsync();
            return $"{body.GetProperty("title")}|{body.GetProperty("detail")}|{body.GetProperty("status")}";
        }));
        bodies.Distinct().Should().ContainSingle();
    }
}
