using System.Net;
using System.Net.Http.Json;
using JwtApi.Tests.Support;
using static JwtApi.Tests.Clients.TestClients;

namespace JwtApi.Tests.Clients;

/// <summary>POST /revoke (RFC 7009): by whoever holds the token, or by the registered client it was issued to.</summary>
public sealed class RevocationEndpointTests(JwtApiFactory app) : IClassFixture<JwtApiFactory>
{
    private Task<HttpResponseMessage> RevokeAsync(string token, string? hint = null, TestClient? basic = null, params KeyValuePair<string, string>[] more)
    {
        var form = new List<KeyValuePair<string, string>> { Field("token", token) };
        if (hint is not null)
        {
            form.Add(Field("token_type_hint", hint));
        }
        form.AddRange(more);
        return app.PostFormAsync("/revoke", form, basic);
    }

    private async Task<bool> IsActiveAsync(string token)
    {
        var introspector = await app.CreateClientAsync("introspection");
        var response = await app.PostFormAsync("/introspect", [Field("token", token)], introspector);
        response.Should().HaveStatusCode(HttpStatusCode.OK);
        return (await response.JsonAsync()).GetProperty("active").GetBoolean();
    }

    private static async Task ShouldBeEmpty200Async(HttpResponseMessage response)
    {
        response.Should().HaveStatusCode(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().BeEmpty();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("refresh_token")]
    [InlineData("access_token")]   // a wrong hint is only a hint: the other kind is tried
    public async Task EndsTheLoginGivenItsRefreshToken(string? hint)
    {
        var pair = await app.LoginPairAsync(await app.CreateUserAsync());

        await ShouldBeEmpty200Async(await RevokeAsync(pair.Refresh, hint));

        (await app.RefreshAsync(pair.Refresh)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        // the access tokens of that login share its sid
        var me = await app.ClientWithToken(pair.Access).GetAsync("/me");
        me.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await me.JsonAsync()).GetProperty("reason").GetString().Should().Be("token_revoked");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("access_token")]
    [InlineData("refresh_token")]
    public async Task Returns401TokenRevokedAtMeGivenRevokedAccessToken(string? hint)
    {
        var pair = await app.LoginPairAsync(await app.CreateUserAsync());

        await ShouldBeEmpty200Async(await RevokeAsync(pair.Access, hint));

        var me = await app.ClientWithToken(pair.Access).GetAsync("/me");
        me.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await me.JsonAsync()).GetProperty("reason").GetString().Should().Be("token_revoked");
        // that one token only: the login goes on
        (await app.RefreshAsync(pair.Refresh)).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task RevokesItsOwnTokenGivenClientSecretBasic()
    {
        var client = await app.CreateClientAsync();
        var token = app.MintClientToken(client);

        await ShouldBeEmpty200Async(await RevokeAsync(token, basic: client));

        (await IsActiveAsync(token)).Should().BeFalse();
    }

    [Fact]
    public async Task RevokesItsOwnTokenGivenClientSecretPost()
    {
        var client = await app.CreateClientAsync();
        var token = app.MintClientToken(client);

        await ShouldBeEmpty200Async(await RevokeAsync(token, more: [Field("client_id", client.Id), Field("client_secret", client.Secret)]));

        (await IsActiveAsync(token)).Should().BeFalse();
    }

    [Fact]
    public async Task Returns200AndRevokesNothingGivenAnotherClientsToken()
    {
        var client = await app.CreateClientAsync();
        var other = app.MintClientToken(await app.CreateClientAsync());

        await ShouldBeEmpty200Async(await RevokeAsync(other, basic: client));

        (await IsActiveAsync(other)).Should().BeTrue();
    }

    [Fact]
    public async Task Returns200AndRevokesNothingGivenAUsersTokensWithClientCredentials()
    {
        var client = await app.CreateClientAsync();
        var pair = await app.LoginPairAsync(await app.CreateUserAsync());

        await ShouldBeEmpty200Async(await RevokeAsync(pair.Access, basic: client));
        await ShouldBeEmpty200Async(await RevokeAsync(pair.Refresh, basic: client));

        (await app.ClientWithToken(pair.Access).GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.OK);
        (await app.RefreshAsync(pair.Refresh)).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task RevokesAClientsTokenGivenNoCredentials()
    {
        // whoever holds a token may end it: a leaked client token is revoked by whoever found it
        var token = app.MintClientToken(await app.CreateClientAsync());

        await ShouldBeEmpty200Async(await RevokeAsync(token));

        (await IsActiveAsync(token)).Should().BeFalse();
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.e30.c2ln")]
    [InlineData("forged")]
    [InlineData("expired")]
    public async Task Returns200WithEmptyBodyGivenUnknownMalformedOrInvalidToken(string kind)
    {
        var minter = new TokenMinter(app.JwtOptions, app.Algorithm);
        var token = kind switch
        {
            "forged" => minter.Mint(credentials: minter.ForeignCredentials),
            "expired" => minter.Mint(d => (d.IssuedAt, d.NotBefore, d.Expires) = (DateTime.UtcNow.AddMinutes(-20), DateTime.UtcNow.AddMinutes(-20), DateTime.UtcNow.AddMinutes(-10))),
            _ => kind,
        };

        await ShouldBeEmpty200Async(await RevokeAsync(token));
    }

    [Fact]
    public async Task Returns200GivenAnAlreadyRevokedToken()
    {
        var pair = await app.LoginPairAsync(await app.CreateUserAsync());
        await ShouldBeEmpty200Async(await RevokeAsync(pair.Refresh));

        await ShouldBeEmpty200Async(await RevokeAsync(pair.Refresh));
        await ShouldBeEmpty200Async(await RevokeAsync(pair.Access));
    }

    [Fact]
    public async Task Returns401InvalidClientGivenWrongSecret()
    {
        var client = await app.CreateClientAsync();
        var token = app.MintClientToken(client);

        var response = await RevokeAsync(token, basic: client with { Secret = "wrong" });

        response.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().Should().Be("Basic realm=\"jwtapi\"");
        (await response.JsonAsync()).GetProperty("error").GetString().Should().Be("invalid_client");
        (await IsActiveAsync(token)).Should().BeTrue();
    }

    [Fact]
    public async Task Returns429WithRetryAfterGivenTooManyWrongSecrets()
    {
        using var strict = new JwtApiFactory();
        strict.Settings["RateLimits:PerUsernameAndAddress:PermitLimit"] = "2";
        var client = await strict.CreateClientAsync();
        var token = strict.MintClientToken(client);
        var wrong = client with { Secret = "wrong" };

        for (var i = 0; i < 2; i++)
        {
            (await strict.PostFormAsync("/revoke", [Field("token", token)], wrong)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        }
        var response = await strict.PostFormAsync("/revoke", [Field("token", token)], client);

        // the right secret too: the limit is counted before the secret is checked
        response.Should().HaveStatusCode(HttpStatusCode.TooManyRequests);
        response.Headers.RetryAfter.Should().NotBeNull();
    }

    [Fact]
    public async Task Returns400InvalidRequestGivenBothAuthenticationMethods()
    {
        var client = await app.CreateClientAsync();
        var token = app.MintClientToken(client);

        var response = await RevokeAsync(token, basic: client, more: [Field("client_id", client.Id), Field("client_secret", client.Secret)]);

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await response.JsonAsync()).GetProperty("error").GetString().Should().Be("invalid_request");
        (await IsActiveAsync(token)).Should().BeTrue();
    }

    [Fact]
    public async Task Returns400InvalidRequestGivenJsonOrNoToken()
    {
        using var http = app.CreateClient();

        var json = await http.PostAsJsonAsync("/revoke", new { token = "x" });
        var empty = await app.PostFormAsync("/revoke", []);

        json.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await json.JsonAsync()).GetProperty("error").GetString().Should().Be("invalid_request");
        empty.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await empty.JsonAsync()).GetProperty("error").GetString().Should().Be("invalid_request");
    }
}
