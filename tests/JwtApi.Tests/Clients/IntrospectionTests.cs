using System.Net;
using System.Text.Json;
using JwtApi.Tests.Support;
using static JwtApi.Tests.Clients.TestClients;

namespace JwtApi.Tests.Clients;

/// <summary>POST /introspect (RFC 7662): the bearer path's answer, for registered clients allowed to ask.</summary>
public sealed class IntrospectionTests(JwtApiFactory app) : IClassFixture<JwtApiFactory>
{
    private async Task<HttpResponseMessage> IntrospectAsync(string token, TestClient? basic = null)
    {
        basic ??= await app.CreateClientAsync("introspection");
        return await app.PostFormAsync("/introspect", [Field("token", token)], basic);
    }

    private async Task<JsonElement> AnswerAsync(string token)
    {
        var response = await IntrospectAsync(token);
        response.Should().HaveStatusCode(HttpStatusCode.OK);
        response.Headers.CacheControl!.NoStore.Should().BeTrue();
        return await response.JsonAsync();
    }

    private static string[] Names(JsonElement answer) => answer.EnumerateObject().Select(p => p.Name).ToArray();

    [Fact]
    public async Task DescribesAnActiveUserToken()
    {
        var alice = await app.CreateUserAsync();
        var token = (await app.LoginPairAsync(alice)).Access;
        var jwt = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(token);

        var answer = await AnswerAsync(token);

        answer.GetProperty("active").GetBoolean().Should().BeTrue();
        answer.GetProperty("sub").GetString().Should().Be(alice.Id.ToString());
        answer.GetProperty("username").GetString().Should().Be(alice.Username);
        answer.GetProperty("aud").GetString().Should().Be(app.JwtOptions.Audience);
        answer.GetProperty("iss").GetString().Should().Be(app.JwtOptions.Issuer);
        answer.GetProperty("jti").GetString().Should().Be(jwt.Id);
        answer.GetProperty("exp").GetInt64().Should().Be(jwt.GetPayloadValue<long>("exp"));
        answer.GetProperty("iat").GetInt64().Should().Be(jwt.GetPayloadValue<long>("iat"));
        answer.GetProperty("nbf").GetInt64().Should().Be(jwt.GetPayloadValue<long>("nbf"));
        answer.GetProperty("token_type").GetString().Should().Be("Bearer");
        Names(answer).Should().NotContain(["client_id", "scope"]);
    }

    [Fact]
    public async Task DescribesAnActiveClientToken()
    {
        var client = await app.CreateClientAsync();
        var token = app.MintClientToken(client);

        var answer = await AnswerAsync(token);

        answer.GetProperty("active").GetBoolean().Should().BeTrue();
        answer.GetProperty("sub").GetString().Should().Be(client.Id);
        answer.GetProperty("client_id").GetString().Should().Be(client.Id);
        answer.GetProperty("scope").GetString().Should().Be("orders.read orders.write");
        answer.GetProperty("aud").GetString().Should().Be(TestClients.Audience);
        answer.GetProperty("iss").GetString().Should().Be(app.JwtOptions.Issuer);
        answer.GetProperty("token_type").GetString().Should().Be("Bearer");
        Names(answer).Should().Contain(["exp", "iat", "nbf", "jti"]).And.NotContain("username");
    }

    [Theory]
    [InlineData("expired")]
    [InlineData("logged out")]
    [InlineData("revoked at /revoke")]
    [InlineData("refresh token")]
    [InlineData("device token")]
    [InlineData("badly signed")]
    [InlineData("malformed")]
    [InlineData("of a disabled user")]
    [InlineData("of a disabled client")]
    public async Task AnswersOnlyActiveFalseGivenTokenThatIsNotActive(string kind)
    {
        var token = await TokenAsync(kind);

        var answer = await AnswerAsync(token);

        answer.GetRawText().Should().Be("""{"active":false}""");
    }

    private async Task<string> TokenAsync(string kind)
    {
        var minter = new TokenMinter(app.JwtOptions, app.Algorithm);
        switch (kind)
        {
            case "expired":
                var past = DateTime.UtcNow.AddMinutes(-20);
                return minter.Mint(d => (d.IssuedAt, d.NotBefore, d.Expires) = (past, past, past.AddMinutes(10)));
            case "logged out":
                var pair = await app.LoginPairAsync(await app.CreateUserAsync());
                (await app.ClientWithToken(pair.Access).PostAsync("/logout", null)).Should().HaveStatusCode(HttpStatusCode.NoContent);
                return pair.Access;
            case "revoked at /revoke":
                var access = (await app.LoginPairAsync(await app.CreateUserAsync())).Access;
                (await app.PostFormAsync("/revoke", [Field("token", access)])).Should().HaveStatusCode(HttpStatusCode.OK);
                return access;
            case "refresh token":
                return (await app.LoginPairAsync(await app.CreateUserAsync())).Refresh;
            case "device token":
                var user = await app.CreateUserAsync();
                using (var http = app.CreateClient())
                {
                    return (await (await http.LoginAsync(user.Username, user.Password)).JsonAsync()).GetProperty("device_token").GetString()!;
                }
            case "badly signed":
                return minter.Mint(credentials: minter.ForeignCredentials);
            case "malformed":
                return "not.a-jwt";
            case "of a disabled user":
                var bob = await app.CreateUserAsync();
                var bobs = (await app.LoginPairAsync(bob)).Access;
                using (var admin = await app.ClientForAsync(await app.AdminAsync()))
                {
                    (await admin.PostAsync($"/users/{bob.Id}/disable", null)).Should().HaveStatusCode(HttpStatusCode.OK);
                }
                return bobs;
            case "of a disabled client":
                var client = await app.CreateClientAsync();
                var clients = app.MintClientToken(client);
                await app.DisableClientAsync(client);
                return clients;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    [Fact]
    public async Task TurnsInactiveWhenItsClientIsDisabled()
    {
        var client = await app.CreateClientAsync();
        var token = app.MintClientToken(client);
        (await AnswerAsync(token)).GetProperty("active").GetBoolean().Should().BeTrue();

        await app.DisableClientAsync(client);

        (await AnswerAsync(token)).GetProperty("active").GetBoolean().Should().BeFalse();
        // the bearer path agrees
        (await app.ClientWithToken(token).GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Returns403UnauthorizedClientGivenClientWithoutTheIntrospectionGrant()
    {
        var client = await app.CreateClientAsync("client_credentials");

        var response = await IntrospectAsync(app.MintClientToken(client), client);

        response.Should().HaveStatusCode(HttpStatusCode.Forbidden);
        (await response.JsonAsync()).GetProperty("error").GetString().Should().Be("unauthorized_client");
    }

    [Fact]
    public async Task Returns401InvalidClientGivenNoCredentialsOrAWrongSecret()
    {
        var introspector = await app.CreateClientAsync("introspection");
        var token = (await app.LoginPairAsync(await app.CreateUserAsync())).Access;

        var anonymous = await app.PostFormAsync("/introspect", [Field("token", token)]);
        var wrong = await IntrospectAsync(token, introspector with { Secret = "wrong" });

        foreach (var response in new[] { anonymous, wrong })
        {
            response.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
            response.Headers.WwwAuthenticate.ToString().Should().Be("Basic realm=\"jwtapi\"");
            (await response.JsonAsync()).GetProperty("error").GetString().Should().Be("invalid_client");
        }
    }

    [Fact]
    public async Task AcceptsClientSecretPost()
    {
        var introspector = await app.CreateClientAsync("introspection");
        var token = (await app.LoginPairAsync(await app.CreateUserAsync())).Access;

        var response = await app.PostFormAsync("/introspect",
            [Field("token", token), Field("client_id", introspector.Id), Field("client_secret", introspector.Secret)]);

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        (await response.JsonAsync()).GetProperty("active").GetBoolean().Should().BeTrue();
    }
}
