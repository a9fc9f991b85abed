using System.Diagnostics.Metrics;
using JwtApi.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace JwtApi.Tests.Browser;

/// <summary>
/// CSRF against the refresh cookie, in a real browser signed in to the demo: pages of another origin try to
/// make the browser refresh, by script and by form, and get no token; the service counts no successful refresh.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class CrossSiteRefreshTests : IAsyncLifetime
{
    /// <summary>Another site than the API's <c>localhost</c>.</summary>
    private const string OtherSite = "127.0.0.1";

    /// <summary>The API's own site, on the attacker's port: another origin only.</summary>
    private const string SameSite = "localhost";

    private readonly BrowserFixture _browser;
    private AttackerSite _attacker = null!;
    private MetricCollector<long> _refreshes = null!;

    public CrossSiteRefreshTests(BrowserFixture browser)
    {
        _browser = browser;
        _browser.Reset();
    }

    public async Task InitializeAsync()
    {
        _attacker = await AttackerSite.StartAsync(_browser.BaseUrl);
        var user = await _browser.App.CreateUserAsync();
        var demo = new DemoPage(_browser).Open().SignIn(user);
        demo.Call("call-me").Status.Should().Be(200);
        _browser.BrowserCookie(DemoPage.CookieName, "/refresh").Should().NotBeNull("the browser holds a live refresh cookie");
        _refreshes = new MetricCollector<long>(
            _browser.Server.Services.GetRequiredService<IMeterFactory>(), Telemetry.Name, Telemetry.Instruments.Refreshes);
    }

    public async Task DisposeAsync()
    {
        _refreshes.Dispose();
        await _attacker.DisposeAsync();
    }

    private ChromeDriver Driver => _browser.Driver;

    private string Text(string id) => Driver.FindElement(By.Id(id)).Text;

    private List<string?> RefreshOutcomes() =>
        [.. _refreshes.GetMeasurementSnapshot().Select(m => m.Tags[Telemetry.Tags.RefreshOutcome]?.ToString())];

    /// <summary>After an attack, the cookie was still there and good: the demo's own silent refresh signs in.</summary>
    private void SessionSurvives()
    {
        _refreshes.Clear();
        new DemoPage(_browser).Open().SignedIn.Should().BeTrue("the same-origin page may refresh with the cookie");
        RefreshOutcomes().Should().Equal(Telemetry.RefreshOutcome.Success);
    }

    /// <summary>Loads the attacker's script page and waits for both its requests to end.</summary>
    private (string Cors, string NoCors) RunScript(string host, string screenshot)
    {
        Driver.Navigate().GoToUrl(_attacker.Page(host, "/script"));
        var cors = _browser.Until(_ => Text("cors") is var t && t != "…" ? t : null, "the CORS request to end");
        var noCors = _browser.Until(_ => Text("no-cors") is var t && t != "…" ? t : null, "the no-cors request to end");
        Screenshots.Save(Driver, screenshot);
        return (cors, noCors);
    }

    [BrowserFact]
    public void RefusesARefreshByScriptFromAnotherSite()
    {
        var (cors, noCors) = RunScript(OtherSite, "csrf-01-script-other-site");

        cors.Should().Be("refused: TypeError", "the preflight finds no CORS grant for this origin");
        noCors.Should().Be("opaque 0 []", "a no-cors answer cannot be read");
        // SameSite=Strict: the no-cors request went without the cookie, so it was no refresh attempt at all
        RefreshOutcomes().Should().BeEmpty();
        SessionSurvives();
    }

    [BrowserFact]
    public void RefusesARefreshByScriptFromAnotherOriginOfTheSameSite()
    {
        var (cors, noCors) = RunScript(SameSite, "csrf-02-script-same-site");

        cors.Should().Be("refused: TypeError", "the preflight finds no CORS grant for this origin");
        noCors.Should().Be("opaque 0 []");
        // same site: the cookie went along with the no-cors request, and the missing header refused it
        RefreshOutcomes().Should().Equal("csrf_header_missing");
        SessionSurvives();
    }

    /// <summary>
    /// Loads the attacker's form page, which posts itself to the API: the browser follows to the answer, which the
    /// attacker cannot read but the user sees. Any 4xx without a token will do: today it is 415, as a form cannot
    /// send JSON and /refresh reads nothing else, before the cookie is even looked at (the CSRF check is the next
    /// wall, tested with the no-cors script).
    /// </summary>
    private void PostForm(string host, string screenshot)
    {
        Driver.Navigate().GoToUrl(_attacker.Page(host, "/form"));

        _browser.Until(d => d.Url.StartsWith(_browser.Url("/refresh").ToString(), StringComparison.Ordinal), "the form to post");
        var answer = _browser.Until(d => d.FindElement(By.TagName("body")).Text is { Length: > 0 } t ? t : null, "the answer");
        Screenshots.Save(Driver, screenshot);
        answer.Should().MatchRegex("\"status\":4[0-9][0-9]").And.NotContain("access_token");
        RefreshOutcomes().Should().NotContain(Telemetry.RefreshOutcome.Success);
        SessionSurvives();
    }

    [BrowserFact]
    public void RefusesARefreshByFormFromAnotherSite() => PostForm(OtherSite, "csrf-03-form-other-site");

    [BrowserFact]
    public void RefusesARefreshByFormFromAnotherOriginOfTheSameSite() => PostForm(SameSite, "csrf-04-form-same-site");
}
