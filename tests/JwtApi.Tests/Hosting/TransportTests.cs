using System.Net;
using JwtApi.Tests.Support;

namespace JwtApi.Tests.Hosting;

/// <summary>Security headers on every answer, HTTPS outside Development, CORS for the configured origins only.</summary>
public sealed class TransportTests
{
    private static JwtApiFactory Factory(string environment = "Testing", params (string Key, string Value)[] settings)
    {
        var factory = new JwtApiFactory { Environment = environment };
        if (environment != "Testing")
        {
            factory.Settings["Passwords:WorkFactor"] = "10";
        }
        foreach (var (key, value) in settings)
        {
            factory.Settings[key] = value;
        }
        return factory;
    }

    public static TheoryData<string, string, HttpStatusCode> Requests => new()
    {
        { "GET", "/health", HttpStatusCode.OK },
        { "GET", "/me", HttpStatusCode.Unauthorized },
        { "GET", "/no-such-route", HttpStatusCode.NotFound },
        { "POST", "/login", HttpStatusCode.BadRequest },
        { "GET", "/swagger/index.html", HttpStatusCode.OK },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task SendsSecurityHeadersOnEveryAnswer(string method, string path, HttpStatusCode status)
    {
        using var factory = Factory();
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = new StringContent("{not json", System.Text.Encoding.UTF8, "application/json");
        }

        var response = await factory.CreateClient().SendAsync(request);

        response.Should().HaveStatusCode(status);
        response.Headers.GetValues("X-Content-Type-Options").Should().Equal("nosniff");
        response.Headers.GetValues("X-Frame-Options").Should().Equal("DENY");
        response.Headers.GetValues("Content-Security-Policy").Should().Equal("frame-ancestors 'none'");
        response.Headers.GetValues("Referrer-Policy").Should().Equal("no-referrer");
    }

    [Fact]
    public async Task MarksTokenResponsesNoStore()
    {
        using var factory = Factory();
        var response = await factory.CreateClient().LoginAsync(JwtApiFactory.AdminUsername, JwtApiFactory.AdminPassword);

        response.Headers.CacheControl!.NoStore.Should().BeTrue();
        response.Headers.Pragma.ToString().Should().Be("no-cache");
    }

    [Fact]
    public async Task RedirectsToHttpsAndSendsHstsOutsideDevelopment()
    {
        using var factory = Factory("Production", ("https_port", "443"));
        var client = factory.CreateClient(new() { AllowAutoRedirect = false, BaseAddress = new Uri("http://jwtapi.example") });

        var plain = await client.GetAsync("/health");
        var secure = await factory.CreateClient(new() { BaseAddress = new Uri("https://jwtapi.example") }).GetAsync("/health");

        plain.Should().HaveStatusCode(HttpStatusCode.TemporaryRedirect);
        plain.Headers.Location.Should().Be(new Uri("https://jwtapi.example/health"));
        secure.Should().HaveStatusCode(HttpStatusCode.OK);
        secure.Headers.GetValues("Strict-Transport-Security").Should().Equal("max-age=31536000; includeSubDomains");
    }

    [Fact]
    public async Task NeitherRedirectsNorSendsHstsInDevelopment()
    {
        using var factory = Factory("Development", ("https_port", "443"));

        var plain = await factory.CreateClient(new() { AllowAutoRedirect = false, BaseAddress = new Uri("http://jwtapi.example") }).GetAsync("/health");
        var secure = await factory.CreateClient(new() { BaseAddress = new Uri("https://jwtapi.example") }).GetAsync("/health");

        plain.Should().HaveStatusCode(HttpStatusCode.OK);
        secure.Headers.Contains("Strict-Transport-Security").Should().BeFalse();
    }

    private static HttpRequestMessage Preflight(string origin, string path = "/login") => new(HttpMethod.Options, path)
    {
        Headers =
        {
            { "Origin", origin },
            { "Access-Control-Request-Method", "POST" },
            { "Access-Control-Request-Headers", "content-type" },
        },
    };

    [Fact]
    public async Task AllowsConfiguredOriginsOnlyWithCredentials()
    {
        using var factory = Factory(settings: [("Cors:AllowedOrigins:0", "https://app.example"), ("Cors:AllowedOrigins:1", "http://localhost:5173")]);
        var client = factory.CreateClient();

        var allowed = await client.SendAsync(Preflight("https://app.example"));
        var other = await client.SendAsync(Preflight("https://evil.example"));
        var token = await factory.LoginAsync(await factory.AdminAsync());
        var get = new HttpRequestMessage(HttpMethod.Get, "/me") { Headers = { { "Origin", "http://localhost:5173" }, { "Authorization", $"Bearer {token}" } } };
        var me = await client.SendAsync(get);

        allowed.Should().HaveStatusCode(HttpStatusCode.NoContent);
        allowed.Headers.GetValues("Access-Control-Allow-Origin").Should().Equal("https://app.example");
        allowed.Headers.GetValues("Access-Control-Allow-Credentials").Should().Equal("true");
        other.Headers.Contains("Access-Control-Allow-Origin").Should().BeFalse();
        other.Headers.Contains("Access-Control-Allow-Credentials").Should().BeFalse();
        me.Should().HaveStatusCode(HttpStatusCode.OK);
        me.Headers.GetValues("Access-Control-Allow-Origin").Should().Equal("http://localhost:5173");
        me.Headers.GetValues("Access-Control-Expose-Headers").Single().Should().Contain("WWW-Authenticate").And.Contain("Retry-After");
    }

    [Fact]
    public async Task AllowsNoOriginGivenNoneConfigured()
    {
        using var factory = Factory();

        var response = await factory.CreateClient().SendAsync(Preflight("https://app.example"));

        response.Headers.Contains("Access-Control-Allow-Origin").Should().BeFalse();
    }

    [Theory]
    [InlineData("https://app.example/")]
    [InlineData("https://app.example/path")]
    [InlineData("*")]
    [InlineData("app.example")]
    public void RefusesToStartGivenAnOriginThatCanNeverMatch(string origin)
    {
        StartupFailure.Of(Factory(settings: ("Cors:AllowedOrigins:0", origin))).Should().Contain("Cors:AllowedOrigins");
    }
}
