using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using JwtApi.Tests.Support;
using Microsoft.IdentityModel.JsonWebTokens;

namespace JwtApi.Tests.Auth;

/// <summary>POST /token as OAuth 2.0 clients call it (RFC 6749 §4.3, §6, §5.1, §5.2).</summary>
public sealed class TokenEndpointTests(JwtApiFactory app) : IClassFixture<JwtApiFactory>
{
    private async Task<HttpResponseMessage> PostFormAsync(params (string Key, string Value)[] parameters)
    {
        using var client = app.CreateClient();
        return await client.PostAsync("/token", new FormUrlEncodedContent(parameters.Select(p => KeyValuePair.Create(p.Key, p.Value))));
    }

    private Task<HttpResponseMessage> PasswordGrantAsync(TestUser user) =>
        PostFormAsync(("grant_type", "password"), ("username", user.Username), ("password", user.Password));

    private static async Task ShouldBeOAuthErrorAsync(HttpResponseMessage response, string error)
    {
        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        var body = await response.JsonAsync();
        body.GetProperty("error").GetString().Should().Be(error);
        body.GetProperty("error_description").GetString().Should().NotBeNullOrWhiteSpace();
        body.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo("error", "error_description");
    }

    [Fact]
    public async Task IssuesTokenResponseGivenPasswordGrant()
    {
        var user = await app.CreateUserAsync();

        var response = await PasswordGrantAsync(user);

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        response.Headers.CacheControl!.NoStore.Should().BeTrue();
        response.Headers.Pragma.ToString().Should().Be("no-cache");
        var body = await response.JsonAsync();
        body.GetProperty("token_type").GetString().Should().Be("Bearer");
        body.GetProperty("expires_in").GetInt32().Should().Be((int)app.JwtOptions.AccessTokenLifetime.TotalSeconds);
        var tokens = TokenSet.From(body);
        using var client = app.ClientWithToken(tokens.Access);
        var me = await client.GetFromJsonAsync<JsonElement>("/me", JwtApiFactory.Json);
        me.GetProperty("username").GetString().Should().Be(user.Username);
    }

    [Fact]
    public async Task IssuesTheSameKindOfAccessTokenAsLogin()
    {
        var user = await app.CreateUserAsync("user", "auditor");

        var fromToken = new JsonWebToken(TokenSet.From(await (await PasswordGrantAsync(user)).JsonAsync()).Access);
        var fromLogin = new JsonWebToken(await app.LoginAsync(user));

        fromToken.Claims.Select(c => c.Type).Distinct().Should().BeEquivalentTo(fromLogin.Claims.Select(c => c.Type).Distinct());
        fromToken.Typ.Should().Be(fromLogin.Typ);
        fromToken.GetClaim("sub").Value.Should().Be(fromLogin.GetClaim("sub").Value);
        fromToken.Claims.Where(c => c.Type == "role").Select(c => c.Value).Should().BeEquivalentTo(["user", "auditor"]);
    }

    [Fact]
    public async Task AcceptsTheRequestSwaggerUiSends()
    {
        // Swagger UI's password flow: empty client credentials in a Basic header and an empty scope
        var user = await app.CreateUserAsync();
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/token")
        {
            Content = new StringContent(
                $"grant_type=password&username={Uri.EscapeDataString(user.Username)}&password={Uri.EscapeDataString(user.Password)}&scope=",
                Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(":"u8.ToArray()));

        var response = await client.SendAsync(request);

        response.Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task IgnoresClientIdAndSecret()
    {
        var user = await app.CreateUserAsync();

        var response = await PostFormAsync(("grant_type", "password"), ("username", user.Username), ("password", user.Password),
            ("client_id", "postman"), ("client_secret", "anything"));

        response.Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task RotatesGivenRefreshTokenGrant()
    {
        var user = await app.CreateUserAsync();
        var first = TokenSet.From(await (await PasswordGrantAsync(user)).JsonAsync());

        var response = await PostFormAsync(("grant_type", "refresh_token"), ("refresh_token", first.Refresh));

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        response.Headers.CacheControl!.NoStore.Should().BeTrue();
        var second = TokenSet.From(await response.JsonAsync());
        second.Refresh.Should().NotBe(first.Refresh);
        new JsonWebToken(second.Access).GetClaim("sid").Value.Should().Be(new JsonWebToken(first.Access).GetClaim("sid").Value);
    }

    [Fact]
    public async Task SharesRefreshTokensWithLoginAndRefresh()
    {
        var user = await app.CreateUserAsync();
        var fromLogin = await app.LoginPairAsync(user);

        var viaToken = await PostFormAsync(("grant_type", "refresh_token"), ("refresh_token", fromLogin.Refresh));
        var viaRefresh = await app.RefreshAsync(TokenSet.From(await viaToken.JsonAsync()).Refresh);

        viaToken.Should().HaveStatusCode(HttpStatusCode.OK);
        viaRefresh.Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task RefusesRefreshTokenGrantAfterLogout()
    {
        var user = await app.CreateUserAsync();
        var tokens = TokenSet.From(await (await PasswordGrantAsync(user)).JsonAsync());
        using (var client = app.ClientWithToken(tokens.Access))
        {
            (await client.PostAsync("/logout", null)).Should().HaveStatusCode(HttpStatusCode.NoContent);
        }

        var response = await PostFormAsync(("grant_type", "refresh_token"), ("refresh_token", tokens.Refresh));

        await ShouldBeOAuthErrorAsync(response, "invalid_grant");
    }

    [Fact]
    public async Task RefusesAccessTokenAsRefreshToken()
    {
        var tokens = TokenSet.From(await (await PasswordGrantAsync(await app.CreateUserAsync())).JsonAsync());

        await ShouldBeOAuthErrorAsync(await PostFormAsync(("grant_type", "refresh_token"), ("refresh_token", tokens.Access)), "invalid_grant");
    }

    [Fact]
    public async Task AnswersWrongPasswordUnknownUserAndDisabledUserAlike()
    {
        var user = await app.CreateUserAsync();
        var disabled = await app.CreateUserAsync();
        using (var admin = await app.ClientForAsync(await app.AdminAsync()))
        {
            (await admin.PostAsync($"/users/{disabled.Id}/disable", null)).Should().BeSuccessful();
        }

        var bodies = new List<string>();
        foreach (var (username, password) in new[] { (user.Username, "wrong-password"), ("nobody-here", "whatever-pw"), (disabled.Username, disabled.Password) })
        {
            var response = await PostFormAsync(("grant_type", "password"), ("username", username), ("password", password));
            await ShouldBeOAuthErrorAsync(response, "invalid_grant");
            bodies.Add(await response.Content.ReadAsStringAsync());
        }

        bodies.Distinct().Should().ContainSingle();
    }

    [Theory]
    [InlineData("authorization_code")]
    [InlineData("urn:ietf:params:oauth:grant-type:jwt-bearer")]
    [InlineData("PASSWORD")]
    public async Task RefusesOtherGrantTypes(string grantType)
    {
        await ShouldBeOAuthErrorAsync(await PostFormAsync(("grant_type", grantType), ("username", "root"), ("password", "x")), "unsupported_grant_type");
    }

    public static TheoryData<(string, string)[]> IncompleteRequests => new()
    {
        Array.Empty<(string, string)>(),
        new[] { ("username", "root"), ("password", "x") },
        new[] { ("grant_type", ""), ("username", "root") },
        new[] { ("grant_type", "password"), ("username", "root") },
        new[] { ("grant_type", "password"), ("password", "x") },
        new[] { ("grant_type", "password"), ("username", ""), ("password", "x") },
        new[] { ("grant_type", "refresh_token") },
        new[] { ("grant_type", "password"), ("grant_type", "password"), ("username", "root"), ("password", "x") },
        new[] { ("grant_type", "password"), ("username", "root"), ("username", "other"), ("password", "x") },
        Enumerable.Range(0, 17).Select(i => ($"p{i}", "1")).ToArray(),
        new[] { ("grant_type", "password"), ("username", new string('a', 9000)), ("password", "x") },
    };

    [Theory]
    [MemberData(nameof(IncompleteRequests))]
    public async Task AnswersInvalidRequestGivenMissingRepeatedOrOversizedParameters((string, string)[] parameters)
    {
        await ShouldBeOAuthErrorAsync(await PostFormAsync(parameters), "invalid_request");
    }

    [Fact]
    public async Task AnswersInvalidScopeGivenScope()
    {
        var user = await app.CreateUserAsync();

        var response = await PostFormAsync(("grant_type", "password"), ("username", user.Username), ("password", user.Password), ("scope", "openid"));

        await ShouldBeOAuthErrorAsync(response, "invalid_scope");
    }

    [Theory]
    [InlineData("application/json", "{\"grant_type\":\"password\",\"username\":\"root\",\"password\":\"x\"}")]
    [InlineData("text/plain", "grant_type=password&username=root&password=x")]
    [InlineData(null, "")]
    public async Task AnswersInvalidRequestGivenBodyThatIsNotAForm(string? contentType, string body)
    {
        using var client = app.CreateClient();
        var content = new StringContent(body);
        content.Headers.ContentType = contentType is null ? null : new MediaTypeHeaderValue(contentType);

        await ShouldBeOAuthErrorAsync(await client.PostAsync("/token", content), "invalid_request");
    }

    [Fact]
    public async Task AnswersInvalidRequestGivenMultipartForm()
    {
        using var client = app.CreateClient();
        using var content = new MultipartFormDataContent { { new StringContent("password"), "grant_type" } };

        await ShouldBeOAuthErrorAsync(await client.PostAsync("/token", content), "invalid_request");
    }

    [Fact]
    public async Task AnswersProblemGivenGet()
    {
        using var client = app.CreateClient();

        var response = await client.GetAsync("/token");

        response.Should().HaveStatusCode(HttpStatusCode.MethodNotAllowed);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
    }

    [Fact]
    public async Task NamesTheTokenEndpointInDiscovery()
    {
        using var client = app.CreateClient();

        var discovery = await client.GetFromJsonAsync<JsonElement>("/.well-known/openid-configuration");

        discovery.GetProperty("token_endpoint").GetString().Should().Be("http://localhost/token");
        discovery.GetProperty("grant_types_supported").EnumerateArray().Select(g => g.GetString())
            .Should().BeEquivalentTo("password", "refresh_token", "client_credentials", "urn:jwtapi:grant-type:mfa-otp", "urn:jwtapi:grant-type:mfa-recovery-code");
        discovery.GetProperty("token_endpoint_auth_methods_supported").EnumerateArray().Select(g => g.GetString())
            .Should().BeEquivalentTo("client_secret_basic", "client_secret_post", "none");
    }
}
