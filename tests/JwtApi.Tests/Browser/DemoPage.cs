using System.Globalization;
using System.Text.Json;
using JwtApi.Tests.Support;
using OpenQA.Selenium;

namespace JwtApi.Tests.Browser;

/// <summary>The demo SPA at <c>/demo/</c> as the tests drive it, through its stable element ids.</summary>
public sealed class DemoPage(BrowserFixture browser)
{
    public const string CookieName = "jwtapi-refresh";

    private IWebDriver Driver => browser.Driver;

    private string Text(string id) => Driver.FindElement(By.Id(id)).Text;

    private bool Shown(string id) => Driver.FindElement(By.Id(id)).Displayed;

    /// <summary>Opens the page and waits for its first act, a silent refresh, to settle either way.</summary>
    public DemoPage Open()
    {
        Driver.Navigate().GoToUrl(browser.Url("/demo/"));
        return Settled();
    }

    public DemoPage Reload()
    {
        Driver.Navigate().Refresh();
        return Settled();
    }

    private DemoPage Settled()
    {
        browser.Until(_ => Shown("session") || Shown("signed-out"), "the page-load refresh to settle");
        return this;
    }

    public bool SignedIn => Shown("session");

    public string Status => Text("status");

    public DemoPage SignIn(TestUser user)
    {
        Driver.FindElement(By.Id("username")).SendKeys(user.Username);
        Driver.FindElement(By.Id("password")).SendKeys(user.Password);
        Driver.FindElement(By.Id("sign-in")).Click();
        browser.Until(_ => SignedIn && Status.StartsWith("Signed in", StringComparison.Ordinal), $"{user.Username} to be signed in");
        return this;
    }

    public JsonElement Header => JsonDocument.Parse(Text("claims-header")).RootElement;

    public JsonElement Payload => JsonDocument.Parse(Text("claims-payload")).RootElement;

    public string Jti => Text("jti");

    public int Refreshes => int.Parse(Text("refresh-count"), CultureInfo.InvariantCulture);

    public string LastRefresh => Text("last-refresh");

    /// <summary>The countdown, <c>mm:ss</c>.</summary>
    public TimeSpan Lifetime => Minutes(Text("lifetime"));

    /// <summary>"in mm:ss".</summary>
    public TimeSpan NextRefresh => Minutes(Text("next-refresh").Replace("in ", "", StringComparison.Ordinal));

    private static TimeSpan Minutes(string text) => TimeSpan.ParseExact(text, @"mm\:ss", CultureInfo.InvariantCulture);

    public void RefreshNow() => Driver.FindElement(By.Id("refresh-now")).Click();

    public void SignOut()
    {
        Driver.FindElement(By.Id("sign-out")).Click();
        browser.Until(_ => Status.StartsWith("Signed out", StringComparison.Ordinal), "the sign-out to finish");
    }

    /// <summary>Clicks a call button (<c>call-me</c>, <c>call-admin</c>); the status code and body the page shows.</summary>
    public (int Status, string Body) Call(string button)
    {
        Driver.FindElement(By.Id(button)).Click();   // the click empties the result first
        var status = browser.Until(_ => Text("result-status") is { Length: > 0 } s ? s : null, $"the answer to {button}");
        return (int.Parse(status.Split(' ')[0], CultureInfo.InvariantCulture), Text("result-body"));
    }

    /// <summary>What a script on the page sees.</summary>
    public object? Script(string script) => ((IJavaScriptExecutor)Driver).ExecuteScript(script);

    /// <summary>
    /// From now on, keeps every access token the page receives in <c>window.seenTokens</c>, by wrapping
    /// <c>fetch</c>: what an injected script could do, here for the test to replay a token after logout.
    /// </summary>
    public void WatchTokens() => Script("""
        window.seenTokens = [];
        const fetchBefore = window.fetch;
        window.fetch = async (...args) => {
          const response = await fetchBefore(...args);
          response.clone().json().then(b => b && b.access_token && window.seenTokens.push(b.access_token), () => {});
          return response;
        };
        """);

    public IReadOnlyList<string> SeenTokens =>
        ((IEnumerable<object>)Script("return window.seenTokens;")!).Cast<string>().ToList();

    /// <summary>The console's Content-Security-Policy reports since the last look.</summary>
    public IReadOnlyList<string> CspViolations =>
        Driver.Manage().Logs.GetLog(LogType.Browser).Select(entry => entry.Message)
            .Where(message => message.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase)).ToList();
}
