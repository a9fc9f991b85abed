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

    [Theory]
    [InlineData("/me", "get", true)]
    [InlineData("/users", "get", true)]
    [InlineData("/users/{id}/roles", "put", true)]
    [InlineData("/login", "post", false)]
    [InlineData("/register", "post", false)]
    public async Task RequiresBearerOnProtectedOperationsOnly(string path, string method, bool protectedOperation)
    {
        var operation = (await SwaggerJsonAsync()).GetProperty("paths").GetProperty(path).GetProperty(method);

        if (protectedOperation)
        {
            // a requirement that names the scheme: Swashbuckle 10+ silently writes "security": [{}] when the
            // reference is built the old way
            operation.GetProperty("security")[0].GetProperty("Bearer").GetArrayLength().Should().Be(0);
            operation.GetProperty("responses").TryGetProperty("401", out _).Should().BeTrue();
        }
        else
        {
            operation.TryGetProperty("security", out _).Should().BeFalse();
        }
    }

    [Fact]
    public async Task DocumentsSnakeCaseTokenResponseAndLoginErrors()
    {
        var doc = await SwaggerJsonAsync();

        doc.GetProperty("components").GetProperty("schemas").GetProperty("TokenResponse").GetProperty("properties")
            .EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo("access_token", "token_type", "expires_in", "refresh_token", "refresh_token_expires_in");
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
