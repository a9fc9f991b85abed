using System.Net;
using JwtApi.Tests.Support;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace JwtApi.Tests.Hosting;

public sealed class ErrorsTests(JwtApiFactory app) : IClassFixture<JwtApiFactory>
{
    [Theory]
    [InlineData("GET", "/no-such-route", HttpStatusCode.NotFound)]
    [InlineData("GET", "/login", HttpStatusCode.MethodNotAllowed)]
    [InlineData("DELETE", "/me", HttpStatusCode.MethodNotAllowed)]
    public async Task ReturnsProblemJsonGivenUnknownRouteOrMethod(string method, string path, HttpStatusCode status)
    {
        var response = await app.CreateClient().SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        response.Should().HaveStatusCode(status);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var body = await response.JsonAsync();
        body.GetProperty("status").GetInt32().Should().Be((int)status);
        body.GetProperty("traceId").GetString().Should().NotBeNullOrEmpty();
    }

    [Theory]
    [InlineData("application/json; charset=bogus")]
    [InlineData("application/json; charset=\"utf-8\"")]
    [InlineData("application/json; charset=\"\"")]
    public async Task Returns415ProblemGivenJsonBodyInCharsetWithoutEncoding(string contentType)
    {
        // Found by FuzzTests: the framework's JSON reading threw, and the answer was a 500.
        var content = new StringContent("{\"username\":\"someone\",\"password\":\"some-password\"}");
        content.Headers.Remove("Content-Type");
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        var response = await app.CreateClient().PostAsync("/login", content);

        response.Should().HaveStatusCode(HttpStatusCode.UnsupportedMediaType);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        (await response.JsonAsync()).GetProperty("status").GetInt32().Should().Be(415);
    }

    [Fact]
    public async Task Returns200FromHealthGivenDatabaseReachable()
    {
        var response = await app.CreateClient().GetAsync("/health");

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("Healthy");
    }

    [Fact]
    public void EveryEndpointDeclaresWhoMayCallIt()
    {
        // No endpoint is open by accident: each one is either explicitly anonymous or names a policy.
        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>();

        var undeclared = endpoints
            .Where(e => !e.Metadata.OfType<IAllowAnonymous>().Any() && !e.Metadata.OfType<IAuthorizeData>().Any())
            .Select(e => e.RoutePattern.RawText)
            .ToList();

        undeclared.Should().BeEmpty();
    }

    public static TheoryData<string, string, string, string> WrongShapes => new()
    {
        // endpoint, body, the field as sent (or $ for the whole body), what the answer says it must be
        { "POST /login", "{\"username\": 5, \"password\": \"x\"}", "username", "The field 'username' must be a JSON string." },
        { "POST /login", "{\"username\": \"a\", \"password\": [\"x\"]}", "password", "The field 'password' must be a JSON string." },
        { "POST /login", "{\"username\": \"a\", \"password\": \"x\", \"refresh_cookie\": \"yes\"}", "refresh_cookie", "The field 'refresh_cookie' must be a JSON boolean." },
        { "POST /login", "[]", "$", "The request body must be a JSON object." },
        { "POST /login", "\"x\"", "$", "The request body must be a JSON object." },
        { "POST /login", "5", "$", "The request body must be a JSON object." },
        { "POST /register", "{\"username\": {}, \"password\": \"x\"}", "username", "The field 'username' must be a JSON string." },
        { "POST /register", "[]", "$", "The request body must be a JSON object." },
        { "POST /refresh", "{\"refresh_token\": 5}", "refresh_token", "The field 'refresh_token' must be a JSON string." },
        { "POST /refresh", "\"x\"", "$", "The request body must be a JSON object." },
        { "POST /users", "{\"username\": \"someone\", \"password\": \"a-valid-password\", \"roles\": \"admin\"}", "roles", "The field 'roles' must be a JSON array." },
        { "POST /users", "{\"username\": \"someone\", \"password\": \"a-valid-password\", \"roles\": [5]}", "roles[0]", "The field 'roles[0]' must be a JSON string." },
        { "POST /users", "5", "$", "The request body must be a JSON object." },
        { "PUT /users/00000000-0000-0000-0000-000000000001/roles", "{\"roles\": {\"a\": 1}}", "roles", "The field 'roles' must be a JSON array." },
        { "PUT /me/password", "{\"current_password\": true, \"new_password\": \"x\"}", "current_password", "The field 'current_password' must be a JSON string." },
    };

    [Theory]
    [MemberData(nameof(WrongShapes))]
    public async Task Returns400NamingTheFieldAndJsonTypeGivenBodyOfTheWrongShape(string endpoint, string body, string field, string message)
    {
        using var admin = await app.ClientForAsync(await app.AdminAsync());
        var (method, path) = (endpoint.Split(' ')[0], endpoint.Split(' ')[1]);

        var response = await admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        });

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var text = await response.Content.ReadAsStringAsync();
        text.Should().NotContain("JwtApi.").And.NotContain("System.");
        var problem = await response.JsonAsync();
        problem.GetProperty("title").GetString().Should().Be("Invalid JSON body");
        problem.GetProperty("detail").GetString().Should().Be(message);
        problem.GetProperty("errors").GetProperty(field)[0].GetString().Should().Be(message);
    }

    [Fact]
    public async Task NeverAnswers5xxGivenHostileInputs()
    {
        using var admin = await app.ClientForAsync(await app.AdminAsync());
        string[] bodies = ["", "{", "[]", "\"str\"", "123", "{\"username\":null,\"password\":null}", "{\"username\":{},\"password\":[]}",
            "{\"username\":\"" + new string('a', 10_000) + "\",\"password\":\"x\"}", "{\"roles\":[null]}", "{\"roles\":\"admin\"}"];
        string[] paths = ["/login", "/register", "/users", "/users/00000000-0000-0000-0000-000000000001/roles"];

        foreach (var path in paths)
        {
            foreach (var body in bodies)
            {
                var method = path.EndsWith("/roles", StringComparison.Ordinal) ? HttpMethod.Put : HttpMethod.Post;
                var response = await admin.SendAsync(new HttpRequestMessage(method, path)
                {
                    Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
                });
                ((int)response.StatusCode).Should().BeInRange(400, 499, $"{method} {path} with {body[..Math.Min(body.Length, 40)]}");
                response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
                // the client's terms, never our types
                (await response.Content.ReadAsStringAsync()).Should().NotContain("JwtApi.").And.NotContain("System.");
            }
        }
    }
}

/// <summary>A server fault (here the users table is gone) is a bare 500 problem: no exception text, no stack.</summary>
public sealed class ServerFaultTests(JwtApiFactory app) : IClassFixture<JwtApiFactory>
{
    [Fact]
    public async Task Returns500ProblemWithoutExceptionDetailsGivenDatabaseFault()
    {
        using (var scope = app.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<JwtApi.Storage.AppDb>().Database
                .ExecuteSqlRawAsync("DROP TABLE recovery_codes; DROP TABLE totp_authenticators; DROP TABLE users");   // the dependents first: PostgreSQL keeps foreign keys
        }

        var response = await app.CreateClient().LoginAsync("someone", "some-password");

        response.Should().HaveStatusCode(HttpStatusCode.InternalServerError);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var text = await response.Content.ReadAsStringAsync();
        // neither SQLite's SqliteException "no such table" nor PostgreSQL's PostgresException "does not exist"
        text.Should().NotContain("Exception").And.NotContain("no such table").And.NotContain("does not exist").And.NotContain(" at ");
    }
}
