using System.Net;
using System.Net.Http.Json;
using JwtApi.Tests.Support;

namespace JwtApi.Tests.Browser;

/// <summary>
/// The demo SPA at /demo/ in a real browser: sign-in in cookie mode, the decoded token and its countdown, silent
/// refresh, calls with and without the admin role, the refresh cookie out of scripts' reach, reload, logout.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DemoSpaTests
{
    private readonly BrowserFixture _browser;
    private readonly DemoPage _page;

    public DemoSpaTests(BrowserFixture browser)
    {
        _browser = browser;
        _browser.Reset();
        _page = new DemoPage(browser);
    }

    private void Screenshot(string step) => Screenshots.Save(_browser.Driver, "demo-" + step);

    private async Task<DemoPage> SignedInAsync(params string[] roles)
    {
        var user = await _browser.App.CreateUserAsync(roles);
        return _page.Open().SignIn(user);
    }

    [BrowserFact]
    public async Task ShowsTheClaimsAndALifetimeCountingDownAfterSignIn()
    {
        var alice = await _browser.App.CreateUserAsync();
        _page.Open();
        _page.SignedIn.Should().BeFalse("no refresh cookie yet: the page-load refresh finds no session");

        _page.SignIn(alice);

        Screenshot("01-signed-in");
        _page.Header.GetProperty("typ").GetString().Should().Be("at+jwt");
        _page.Payload.GetProperty("name").GetString().Should().Be(alice.Username);
        _page.Payload.GetProperty("sub").GetString().Should().Be(alice.Id.ToString());
        _page.Jti.Should().Be(_page.Payload.GetProperty("jti").GetString());
        var first = _page.Lifetime;
        first.Should().BeCloseTo(TimeSpan.FromMinutes(15), TimeSpan.FromSeconds(5));
        _browser.Until(_ => _page.Lifetime < first, "the countdown to move");
        // 80% of 15 minutes comes before 30 s ahead of expiry
        _page.NextRefresh.Should().BeCloseTo(TimeSpan.FromMinutes(12), TimeSpan.FromSeconds(5));
        _page.Script("return jwtApiDemo.refreshDelaySeconds(900)").Should().Be(720L);
        _page.Script("return jwtApiDemo.refreshDelaySeconds(60)").Should().Be(30L, "30 s before expiry comes first");
        _page.CspViolations.Should().BeEmpty("everything the page needs comes from its own files");
    }

    [BrowserFact]
    public async Task RefreshesWithTheCookieOnClickAndOnScheduleAndGetsANewToken()
    {
        await SignedInAsync();
        var first = _page.Jti;

        _page.RefreshNow();

        _browser.Until(_ => _page.Refreshes == 1, "the refresh on click");
        Screenshot("02-refreshed");
        _page.LastRefresh.Should().Contain("button");
        var second = _page.Jti;
        second.Should().NotBe(first);

        // the scheduled path, brought forward from 12 minutes
        _page.Script("jwtApiDemo.refreshInMs(100)");

        _browser.Until(_ => _page.Refreshes == 2, "the scheduled refresh");
        _page.LastRefresh.Should().Contain("scheduled");
        _page.Jti.Should().NotBe(second).And.NotBe(first);
        _page.Call("call-me").Status.Should().Be(200);
    }

    [BrowserFact]
    public async Task CallsMeAndIsRefusedUsersWithoutTheAdminRole()
    {
        var page = await SignedInAsync("user");

        var (status, body) = page.Call("call-me");

        Screenshot("03-me");
        status.Should().Be(200);
        body.Should().Contain(page.Payload.GetProperty("name").GetString());
        (status, body) = page.Call("call-admin");
        Screenshot("04-users-forbidden");
        status.Should().Be(403);
        body.Should().Contain("missing_role");
    }

    [BrowserFact]
    public async Task CallsUsersAsAnAdmin()
    {
        // a name fit for the README's screenshot (docs/demo-spa.png is this step's); the database is the browser tests' own
        var ada = new TestUser(Guid.Empty, "ada", $"pw-{Guid.NewGuid():N}");
        using (var admin = await _browser.App.ClientForAsync(await _browser.App.AdminAsync()))
        {
            (await admin.PostAsJsonAsync("/users", new { ada.Username, ada.Password, roles = new[] { "admin", "user" } }))
                .EnsureSuccessStatusCode();
        }
        var page = _page.Open().SignIn(ada);
        page.Call("call-me").Status.Should().Be(200);
        Screenshot("05-admin");

        var (status, body) = page.Call("call-admin");

        Screenshot("06-users-admin");
        status.Should().Be(200);
        body.Should().Contain("\"items\"");
    }

    [BrowserFact]
    public async Task KeepsTheRefreshTokenInAnHttpOnlySameSiteStrictCookieForRefreshOnly()
    {
        var page = await SignedInAsync();
        page.Script("return document.cookie").Should().Be("");
        page.Script("return localStorage.length + sessionStorage.length").Should().Be(0L, "the access token is in memory only");

        var cookie = _browser.BrowserCookie(DemoPage.CookieName, "/refresh");

        cookie.Should().NotBeNull("the browser holds the refresh cookie");
        cookie!.IsHttpOnly.Should().BeTrue();
        cookie.SameSite.Should().Be("Strict");
        cookie.Path.Should().Be("/refresh");
        cookie.Secure.Should().BeFalse("Development, over http://localhost");
        cookie.Expiry.Should().BeAfter(DateTime.UtcNow.AddDays(13), "it lives as long as the refresh token");
        // at /refresh the path matches: only HttpOnly keeps it from document.cookie
        page.Script("return document.cookie").Should().Be("");
    }

    [BrowserFact]
    public async Task StaysSignedInAfterAReloadThroughASilentRefresh()
    {
        var page = await SignedInAsync();
        var before = page.Jti;

        page.Reload();

        Screenshot("07-reloaded");
        page.SignedIn.Should().BeTrue();
        page.LastRefresh.Should().Contain("page load");
        page.Jti.Should().NotBe(before, "a reload forgets the access token; the refresh cookie gets a new one");
    }

    [BrowserFact]
    public async Task LogOutRevokesTheLoginAndClearsTheCookie()
    {
        var alice = await _browser.App.CreateUserAsync();
        _page.Open();
        _page.WatchTokens();
        _page.SignIn(alice);
        var token = _browser.Until(_ => _page.SeenTokens.LastOrDefault(), "the token the page received");
        _page.Jti.Should().Be(JwtParts.Of(token).Payload["jti"]!.GetValue<string>());

        _page.SignOut();

        Screenshot("08-signed-out");
        _page.SignedIn.Should().BeFalse();
        var (status, _) = _page.Call("call-me");
        Screenshot("09-refused-after-sign-out");
        status.Should().Be(401);
        using (var replay = _browser.Server.CreateClient())
        {
            replay.DefaultRequestHeaders.Authorization = new("Bearer", token);
            var response = await replay.GetAsync("/me");
            response.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
            (await response.JsonAsync()).GetProperty("reason").GetString().Should().Be("token_revoked");
        }
        _browser.BrowserCookie(DemoPage.CookieName, "/refresh").Should().BeNull("logout cleared the cookie");
        _page.Open().SignedIn.Should().BeFalse("nothing is left to refresh with");
    }
}
