using System.Net;
using System.Diagnostics.Metrics;
using System.Net.Http.Json;
using JwtApi.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Net.Http.Headers;

namespace JwtApi.Tests.Auth;

/// <summary>
/// Cookie mode over HTTP (the browser's view is in Browser/): the refresh token in an HttpOnly, Secure,
/// SameSite=Strict cookie for /refresh only, a CSRF check on every refresh by cookie, and bearer clients as before.
/// </summary>
public sealed class RefreshCookieTests
{
    private const string SecureName = "__Secure-jwtapi-refresh";
    private const string AllowedOrigin = "https://app.example.com";

    private static JwtApiFactory Service(string environment = "Testing", string? mode = null)
    {
        var app = new JwtApiFactory { Environment = environment };
        app.Settings["Cors:AllowedOrigins:0"] = AllowedOrigin;
        if (environment != "Testing")
        {
            app.Settings["Passwords:WorkFactor"] = "10";
        }
        if (mode is not null)
        {
            app.Settings["Auth:RefreshCookie:Mode"] = mode;
        }
        return app;
    }

    /// <summary>The client sends cookies itself, as the test decides: TestServer is plain HTTP, and Secure cookies would not go.</summary>
    private static HttpClient Client(JwtApiFactory app) => app.CreateClient(new() { HandleCookies = false });

    private static SetCookieHeaderValue RefreshCookieOf(HttpResponseMessage response, string name = SecureName) =>
        SetCookieHeaderValue.ParseList(response.Headers.TryGetValues("Set-Cookie", out var values) ? [.. values] : [])
            .Should().ContainSingle(c => c.Name == name).Subject;

    private static async Task<HttpResponseMessage> LoginWithCookieAsync(HttpClient client, TestUser user) =>
        await client.PostAsJsonAsync("/login", new { username = user.Username, password = user.Password, refresh_cookie = true });

    private static HttpRequestMessage RefreshByCookie(string cookie, string? csrf = "1", string? origin = null, string name = SecureName)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/refresh");
        request.Headers.Add("Cookie", $"{name}={cookie}");
        if (csrf is not null)
        {
            request.Headers.Add("X-JwtApi-CSRF", csrf);
        }
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }
        return request;
    }

    [Theory]
    [InlineData("planted")]
    [InlineData("same")]
    public async Task Returns400AndUsesNeitherGivenTheRefreshCookieTwice(string second)
    {
        using var app = Service();
        var user = await app.CreateUserAsync();
        var client = Client(app);
        var cookie = RefreshCookieOf(await LoginWithCookieAsync(client, user)).Value.ToString();
        // a sibling subdomain can set a second cookie of the same name for the parent domain
        var request = RefreshByCookie(cookie);
        request.Headers.Remove("Cookie");
        request.Headers.Add("Cookie", $"{SecureName}={(second == "same" ? cookie : "eyJhbGciOiJIUzI1NiJ9.e30.planted")}; {SecureName}={cookie}");

        var response = await client.SendAsync(request);

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var body = await response.JsonAsync();
        body.GetProperty("reason").GetString().Should().Be("refresh_cookie_duplicated");
        body.TryGetProperty("access_token", out _).Should().BeFalse();
        // nothing was used up: the page's own cookie alone still refreshes
        (await client.SendAsync(RefreshByCookie(cookie))).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task PutsTheRefreshTokenInAHardenedCookieAndNotInTheBody()
    {
        using var app = Service();
        var user = await app.CreateUserAsync();

        var response = await LoginWithCookieAsync(Client(app), user);

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        var body = await response.JsonAsync();
        body.TryGetProperty("refresh_token", out _).Should().BeFalse();
        body.GetProperty("access_token").GetString().Should().NotBeNullOrEmpty();
        var lifetime = body.GetProperty("refresh_token_expires_in").GetInt32();
        var cookie = RefreshCookieOf(response);
        cookie.HttpOnly.Should().BeTrue();
        cookie.Secure.Should().BeTrue();
        cookie.SameSite.Should().Be(SameSiteMode.Strict);
        cookie.Path.ToString().Should().Be("/refresh");
        cookie.Domain.HasValue.Should().BeFalse("a host-only cookie goes to this host alone");
        cookie.MaxAge.Should().Be(TimeSpan.FromSeconds(lifetime));
        response.Headers.CacheControl!.NoStore.Should().BeTrue();
        (await app.ClientWithToken(body.GetProperty("access_token").GetString()!).GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task UsesAPlainNameWithoutSecureInDevelopmentOnly()
    {
        using var app = Service("Development");
        var user = await app.CreateUserAsync();

        var cookie = RefreshCookieOf(await LoginWithCookieAsync(Client(app), user), "jwtapi-refresh");

        cookie.Secure.Should().BeFalse("http://localhost during development");
        cookie.HttpOnly.Should().BeTrue();
        cookie.SameSite.Should().Be(SameSiteMode.Strict);
    }

    [Theory]
    [InlineData(null)]                 // no Origin: not a browser script, but the header is there
    [InlineData("http://localhost")]   // this service's own pages (TestServer's origin)
    [InlineData(AllowedOrigin)]        // Cors:AllowedOrigins
    public async Task RefreshesByCookieWithTheCsrfHeaderAndRotatesTheCookie(string? origin)
    {
        using var app = Service();
        var client = Client(app);
        var first = RefreshCookieOf(await LoginWithCookieAsync(client, await app.CreateUserAsync())).Value.ToString();

        var response = await client.SendAsync(RefreshByCookie(first, origin: origin));

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        var body = await response.JsonAsync();
        body.TryGetProperty("refresh_token", out _).Should().BeFalse();
        var second = RefreshCookieOf(response).Value.ToString();
        second.Should().NotBe(first);
        (await client.SendAsync(RefreshByCookie(second))).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData(null, "https://evil.example", "csrf_header_missing")]
    [InlineData("", null, "csrf_header_missing")]
    [InlineData("1", "https://evil.example", "origin_not_allowed")]
    [InlineData("1", "null", "origin_not_allowed")]                 // a sandboxed frame or a file: page
    [InlineData("1", "https://app.example.com.evil.example", "origin_not_allowed")]
    public async Task Returns403AndChangesNothingGivenACrossSiteRefresh(string? csrf, string? origin, string reason)
    {
        using var app = Service();
        var client = Client(app);
        var cookie = RefreshCookieOf(await LoginWithCookieAsync(client, await app.CreateUserAsync())).Value.ToString();
        var before = await DatabaseSnapshot.TakeAsync(app.Services);
        using var refreshes = new MetricCollector<long>(app.Services.GetRequiredService<IMeterFactory>(), "JwtApi", "jwtapi.refreshes");

        var response = await client.SendAsync(RefreshByCookie(cookie, csrf, origin));

        response.Should().HaveStatusCode(HttpStatusCode.Forbidden);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        (await response.JsonAsync()).GetProperty("reason").GetString().Should().Be(reason);
        response.Headers.Contains("Set-Cookie").Should().BeFalse();
        (await DatabaseSnapshot.TakeAsync(app.Services)).Should().Equal(before);
        refreshes.GetMeasurementSnapshot().Select(m => m.Tags["jwtapi.refresh.outcome"]).Should().Equal(reason);
        // the cookie was not used up: the real page still refreshes with it
        (await client.SendAsync(RefreshByCookie(cookie))).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task KeepsBearerClientsAsTheyWereWhenABodyTokenIsSent()
    {
        using var app = Service();
        var client = Client(app);
        var user = await app.CreateUserAsync();
        var tokens = await app.LoginPairAsync(user);
        var cookie = RefreshCookieOf(await LoginWithCookieAsync(client, user)).Value.ToString();

        // a token in the body: no CSRF header needed, the answer carries the new refresh token in the body
        var request = RefreshByCookie(cookie, csrf: null, origin: "https://evil.example");
        request.Content = JsonContent.Create(new { refresh_token = tokens.Refresh });
        var response = await client.SendAsync(request);

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        (await response.JsonAsync()).GetProperty("refresh_token").GetString().Should().NotBeNullOrEmpty();
        response.Headers.Contains("Set-Cookie").Should().BeFalse();
    }

    [Fact]
    public async Task Returns400GivenNeitherABodyTokenNorTheCookie()
    {
        using var app = Service();
        var request = new HttpRequestMessage(HttpMethod.Post, "/refresh") { Headers = { { "X-JwtApi-CSRF", "1" } } };

        var response = await Client(app).SendAsync(request);

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await response.JsonAsync()).GetProperty("errors").GetProperty("refresh_token").EnumerateArray().Should().ContainSingle();
    }

    [Fact]
    public async Task LogoutRevokesTheLoginAndClearsTheCookie()
    {
        using var app = Service();
        var client = Client(app);
        var login = await LoginWithCookieAsync(client, await app.CreateUserAsync());
        var cookie = RefreshCookieOf(login).Value.ToString();
        var access = (await login.JsonAsync()).GetProperty("access_token").GetString()!;

        var logout = await app.ClientWithToken(access).PostAsync("/logout", null);

        logout.Should().HaveStatusCode(HttpStatusCode.NoContent);
        var cleared = RefreshCookieOf(logout);
        cleared.Value.ToString().Should().BeEmpty();
        cleared.Expires.Should().BeBefore(DateTimeOffset.UtcNow);
        cleared.Path.ToString().Should().Be("/refresh");
        var refresh = await client.SendAsync(RefreshByCookie(cookie));
        refresh.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        RefreshCookieOf(refresh).Expires.Should().BeBefore(DateTimeOffset.UtcNow, "a dead cookie is cleared");
    }

    [Fact]
    public async Task PasswordChangePutsTheNewLoginInTheCookieWhenAsked()
    {
        using var app = Service();
        var user = await app.CreateUserAsync();
        using var authed = await app.ClientForAsync(user);

        var response = await authed.PutAsJsonAsync("/me/password",
            new { current_password = user.Password, new_password = "a-whole-new-passphrase", refresh_cookie = true });

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        (await response.JsonAsync()).TryGetProperty("refresh_token", out _).Should().BeFalse();
        (await Client(app).SendAsync(RefreshByCookie(RefreshCookieOf(response).Value.ToString()))).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task IgnoresCookiesEntirelyGivenModeOff()
    {
        using var app = Service(mode: "Off");
        var client = Client(app);

        var login = await LoginWithCookieAsync(client, await app.CreateUserAsync());

        login.Headers.Contains("Set-Cookie").Should().BeFalse();
        (await login.JsonAsync()).GetProperty("refresh_token").GetString().Should().NotBeNullOrEmpty();
        (await client.SendAsync(RefreshByCookie("anything"))).Should().HaveStatusCode(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task AlwaysUsesTheCookieGivenModeAlways()
    {
        using var app = Service(mode: "Always");
        var user = await app.CreateUserAsync();

        var login = await Client(app).LoginAsync(user.Username, user.Password);

        (await login.JsonAsync()).TryGetProperty("refresh_token", out _).Should().BeFalse();
        RefreshCookieOf(login).HttpOnly.Should().BeTrue();
    }

    [Fact]
    public void StopsStartupGivenAnUnknownMode()
    {
        StartupFailure.Of(Service(mode: "Sometimes")).Should().Contain("Mode");
    }

    [Fact]
    public async Task LetsOnlyAllowedOriginsSendTheCsrfHeaderWithCredentials()
    {
        using var app = Service();
        HttpRequestMessage Preflight(string origin) => new(HttpMethod.Options, "/refresh")
        {
            Headers =
            {
                { "Origin", origin },
                { "Access-Control-Request-Method", "POST" },
                { "Access-Control-Request-Headers", "x-jwtapi-csrf" },
            },
        };

        var allowed = await Client(app).SendAsync(Preflight(AllowedOrigin));
        var other = await Client(app).SendAsync(Preflight("https://evil.example"));

        allowed.Headers.GetValues("Access-Control-Allow-Origin").Should().Equal(AllowedOrigin);
        allowed.Headers.GetValues("Access-Control-Allow-Credentials").Should().Equal("true");
        allowed.Headers.GetValues("Access-Control-Allow-Headers").Single().Should().ContainEquivalentOf("x-jwtapi-csrf");
        other.Headers.Contains("Access-Control-Allow-Origin").Should().BeFalse();
        other.Headers.Contains("Access-Control-Allow-Credentials").Should().BeFalse();
    }
}
