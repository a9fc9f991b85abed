using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using JwtApi.Tests.Support;

namespace JwtApi.Tests.Hosting;

public sealed class ApiDocsTests(JwtApiFactory app) : IClassFixture<JwtApiFactory>
{
    private async Task<JsonElement> SwaggerJsonAsync()
    {
        var response = await app.CreateClient().GetAsync("/swagger/v1/swagger.json");
        response.Should().HaveStatusCode(HttpStatusCode.OK);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task DeclaresHttpBearerScheme()
    {
        var scheme = (await SwaggerJsonAsync()).GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer");

        scheme.GetProperty("type").GetString().Should().Be("http");
        scheme.GetProperty("scheme").GetString().Should().Be("bearer");
        scheme.GetProperty("bearerFormat").GetString().Should().Be("JWT");
    }

    [Fact]
    public async Task OffersTheClientCredentialsFlowWithoutRequiringItAnywhere()
    {
        var doc = await app.CreateClient().GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");

        var flows = doc.GetProperty("components").GetProperty("securitySchemes").GetProperty("OAuth2ClientCredentials").GetProperty("flows");
        flows.EnumerateObject().Select(f => f.Name).Should().BeEquivalentTo("clientCredentials");
        flows.GetProperty("clientCredentials").GetProperty("tokenUrl").GetString().Should().Be("http://localhost/token");
        var required = doc.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject())
            .SelectMany(operation => operation.Value.TryGetProperty("security", out var security) ? security.EnumerateArray() : [])
            .SelectMany(requirement => requirement.EnumerateObject().Select(scheme => scheme.Name)).ToList();
        required.Should().Contain("OAuth2").And.NotContain("OAuth2ClientCredentials", "a client's token is for other APIs, never required here");
    }

    [Fact]
    public async Task DeclaresOAuth2PasswordFlowAtTheTokenEndpoint()
    {
        var scheme = (await SwaggerJsonAsync()).GetProperty("components").GetProperty("securitySchemes").GetProperty("OAuth2");

        scheme.GetProperty("type").GetString().Should().Be("oauth2");
        var flows = scheme.GetProperty("flows");
        flows.EnumerateObject().Select(f => f.Name).Should().BeEquivalentTo("password");
        // absolute, as the caller reached the service: tools resolve relative token URLs differently
        flows.GetProperty("password").GetProperty("tokenUrl").GetString().Should().Be("http://localhost/token");
        flows.GetProperty("password").GetProperty("scopes").EnumerateObject().Should().BeEmpty();
    }

    [Theory]
    [InlineData("/me", "get", true)]
    [InlineData("/me/password", "put", true)]
    [InlineData("/logout", "post", true)]
    [InlineData("/users", "get", true)]
    [InlineData("/users/{id}/roles", "put", true)]
    [InlineData("/login", "post", false)]
    [InlineData("/register", "post", false)]
    [InlineData("/refresh", "post", false)]
    [InlineData("/token", "post", false)]
    [InlineData("/.well-known/jwks.json", "get", false)]
    public async Task RequiresBearerOrOAuth2OnProtectedOperationsOnly(string path, string method, bool protectedOperation)
    {
        var operation = (await SwaggerJsonAsync()).GetProperty("paths").GetProperty(path).GetProperty(method);

        if (protectedOperation)
        {
            // two requirements are alternatives: either scheme's token will do. Each names its scheme:
            // Swashbuckle 10+ silently writes "security": [{}] when the reference is built the old way.
            var requirements = operation.GetProperty("security").EnumerateArray()
                .Select(r => r.EnumerateObject().Single()).ToList();
            requirements.Select(r => r.Name).Should().Equal("Bearer", "OAuth2");
            requirements.Should().OnlyContain(r => r.Value.GetArrayLength() == 0);
            operation.GetProperty("responses").TryGetProperty("401", out _).Should().BeTrue();
        }
        else
        {
            operation.TryGetProperty("security", out _).Should().BeFalse();
        }
    }

    [Fact]
    public async Task DocumentsTheTokenEndpointAsAForm()
    {
        var doc = await SwaggerJsonAsync();
        var operation = doc.GetProperty("paths").GetProperty("/token").GetProperty("post");

        var content = operation.GetProperty("requestBody").GetProperty("content");
        content.EnumerateObject().Select(c => c.Name).Should().Equal("application/x-www-form-urlencoded");
        var schema = doc.GetProperty("components").GetProperty("schemas").GetProperty("TokenRequest");
        schema.GetProperty("properties").EnumerateObject().Select(p => p.Name)
            .Should().Contain(["grant_type", "username", "password", "refresh_token"]);
        schema.GetProperty("required").EnumerateArray().Select(r => r.GetString()).Should().Equal("grant_type");
        operation.GetProperty("responses").EnumerateObject().Select(r => r.Name).Should().BeEquivalentTo("200", "400", "401", "403", "429");
    }

    [Fact]
    public async Task DocumentsSnakeCaseTokenResponseAndLoginErrors()
    {
        var doc = await SwaggerJsonAsync();

        doc.GetProperty("components").GetProperty("schemas").GetProperty("TokenResponse").GetProperty("properties")
            .EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo("access_token", "token_type", "expires_in", "refresh_token", "refresh_token_expires_in", "device_token", "mfa_enrollment_required");
        doc.GetProperty("paths").GetProperty("/login").GetProperty("post").GetProperty("responses")
            .EnumerateObject().Select(p => p.Name).Should().Contain(["200", "400", "401"]);
    }

    [Fact]
    public async Task ServesSwaggerUi()
    {
        var response = await app.CreateClient().GetAsync("/swagger/index.html");

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Contain("swagger-ui");
    }

    [Fact]
    public async Task Returns200FromMeGivenTokenAsSwaggerUiSendsIt()
    {
        // Swagger UI's http/bearer scheme sends "Authorization: Bearer <pasted token>"
        var token = await app.LoginAsync(await app.AdminAsync());
        var request = new HttpRequestMessage(HttpMethod.Get, "/me");
        request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {token}");

        (await app.CreateClient().SendAsync(request)).Should().HaveStatusCode(HttpStatusCode.OK);
    }
}
