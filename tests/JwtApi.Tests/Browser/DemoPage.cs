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
        SendPassword(user);
        browser.Until(_ => SignedIn && Status.StartsWith("Signed in", StringComparison.Ordinal), $"{user.Username} to be signed in");
        return this;
    }

    /// <summary>The password step of a user with two-factor sign-in on: waits for the code step.</summary>
    public DemoPage SignInToSecondStep(TestUser user)
    {
        SendPassword(user);
        browser.Until(_ => Shown("mfa-step"), $"the code step for {user.Username}");
        return this;
    }

    /// <summary>Types a code (or, after "use a recovery code", a recovery code) into the code step and sends it.</summary>
    public DemoPage SendSecondFactor(string code, bool recoveryCode = false)
    {
        if (recoveryCode)
        {
            Driver.FindElement(By.Id("mfa-step-toggle")).Click();
        }
        var input = Driver.FindElement(By.Id("mfa-step-code"));
        input.Clear();
        input.SendKeys(code);
        Driver.FindElement(By.Id("mfa-step-verify")).Click();
        return this;
    }

    public string CodeStepLabel => Text("mfa-step-label");

    public bool OnCodeStep => Shown("mfa-step");

    /// <summary>The code step's error, once there is one.</summary>
    public string CodeStepError => browser.Until(_ => Text("mfa-step-error") is { Length: > 0 } e ? e : null, "the code step's error");

    /// <summary>Waits for <paramref name="user"/> to be signed in (after a second step, or an enrolment).</summary>
    public DemoPage SignedInAs(TestUser user)
    {
        browser.Until(_ => SignedIn && Status.StartsWith($"Signed in as {user.Username}", StringComparison.Ordinal),
            $"{user.Username} to be signed in");
        return this;
    }

    /// <summary>The amr the session card shows, "pwd, otp".</summary>
    public string Amr => Text("amr");

    /// <summary>The panel's status line once GET /me/mfa has answered.</summary>
    public string MfaStatus => browser.Until(_ => Text("mfa-status") is { } s && s != "Checking…" ? s : null, "the two-factor status");

    public IWebElement QrCode => Driver.FindElement(By.Id("mfa-qr"));

    /// <summary>"Turn on": waits for the QR code to be drawn; the base32 secret shown beside it, without its spaces.</summary>
    public string StartEnrolment()
    {
        browser.Until(_ => Shown("mfa-turn-on"), "the Turn on button");
        Driver.FindElement(By.Id("mfa-turn-on")).Click();
        browser.Until(_ => Shown("mfa-enrol") && (bool)Script(
            "const i = document.getElementById('mfa-qr'); return i.complete && i.naturalWidth > 0;")!, "the QR code to be drawn");
        return Text("mfa-secret").Replace(" ", "", StringComparison.Ordinal);
    }

    /// <summary>Confirms the enrolment; waits for the recovery codes, and returns them.</summary>
    public IReadOnlyList<string> ConfirmEnrolment(string password, string code)
    {
        Driver.FindElement(By.Id("mfa-confirm-password")).SendKeys(password);
        Driver.FindElement(By.Id("mfa-confirm-code")).SendKeys(code);
        Driver.FindElement(By.Id("mfa-confirm")).Click();
        browser.Until(_ => Shown("mfa-recovery"), "the recovery codes");
        return Driver.FindElements(By.CssSelector("#mfa-recovery-codes li")).Select(li => li.Text).ToList();
    }

    /// <summary>"Turn off" (or, with its form still open, another try) with the password and a code or a recovery code; does not wait.</summary>
    public void TurnOff(string password, string code)
    {
        if (!Shown("mfa-disable-form"))
        {
            browser.Until(_ => Shown("mfa-turn-off"), "the Turn off button");
            Driver.FindElement(By.Id("mfa-turn-off")).Click();
        }
        foreach (var (id, text) in new[] { ("mfa-disable-password", password), ("mfa-disable-code", code) })
        {
            var input = Driver.FindElement(By.Id(id));
            input.Clear();
            input.SendKeys(text);
        }
        Driver.FindElement(By.Id("mfa-disable")).Click();
    }

    /// <summary>The panel's error, once there is one.</summary>
    public string MfaError => browser.Until(_ => Text("mfa-error") is { Length: > 0 } e ? e : null, "the two-factor panel's error");

    /// <summary>The password step; the username is kept after a sign-out, as a browser keeps a field.</summary>
    private void SendPassword(TestUser user)
    {
        var username = Driver.FindElement(By.Id("username"));
        username.Clear();
        username.SendKeys(user.Username);
        Driver.FindElement(By.Id("password")).SendKeys(user.Password);
        Driver.FindElement(By.Id("sign-in")).Click();
    }

    public JsonElement Header => JsonDocument.Parse(Text("claims-header")).RootElement;

    public JsonElement Payload => JsonDocument.Parse(Text("claims-payload")).RootElement;

    public string Jti => Text("jti");

    public int Refreshes => int.Parse(Text("refresh-count"), CultureInfo.InvariantCulture);

    public string LastRefresh => Text("last-refresh");

    /// <summary>The countdown, <c>mm:ss</c>.</summary>
    public TimeSpan Lifetime => Minutes(Text("lifetime"));

    /// <summary>As shown: "in mm:ss", or why there is none.</summary>
    public string NextRefreshText => Text("next-refresh");

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
