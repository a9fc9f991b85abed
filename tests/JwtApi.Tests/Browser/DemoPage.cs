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

    /// <summary>Opens the page (of the fixture's service, or of another) and waits for its first act, a silent refresh, to settle either way.</summary>
    public DemoPage Open(Uri? service = null)
    {
        Driver.Navigate().GoToUrl(new Uri(service ?? browser.BaseUrl, "/demo/"));
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
        Fill(("mfa-disable-password", password), ("mfa-disable-code", code));
        Driver.FindElement(By.Id("mfa-disable")).Click();
    }

    /// <summary>The panel's error, once there is one.</summary>
    public string MfaError => browser.Until(_ => Text("mfa-error") is { Length: > 0 } e ? e : null, "the two-factor panel's error");

    /// <summary>The password step, both fields typed anew (the page keeps the username after a sign-out, and a refused password).</summary>
    private void SendPassword(TestUser user)
    {
        Fill(("username", user.Username), ("password", user.Password));
        Driver.FindElement(By.Id("sign-in")).Click();
    }

    /// <summary>"Create an account" with an optional email address; waits for the sign-in that follows.</summary>
    public DemoPage Register(TestUser user, string? email)
    {
        SendRegistration(user, email);
        return SignedInAs(user);
    }

    /// <summary>"Create an account" refused; the error the form shows.</summary>
    public string RegisterRefused(TestUser user, string? email)
    {
        SendRegistration(user, email);
        return browser.Until(_ => Text("register-error") is { Length: > 0 } e ? e : null, "the registration's error");
    }

    private void SendRegistration(TestUser user, string? email)
    {
        if (!Shown("register-form"))
        {
            Driver.FindElement(By.Id("register-open")).Click();
        }
        Fill(("register-username", user.Username), ("register-password", user.Password));
        if (email is not null)
        {
            Fill(("register-email", email));
        }
        Driver.FindElement(By.Id("register")).Click();
    }

    /// <summary>"Forgot password?" with a username or an address; the answer the page shows, or its error.</summary>
    public string ForgotPassword(string usernameOrEmail)
    {
        Driver.FindElement(By.Id("forgot-open")).Click();
        Fill(("forgot-who", usernameOrEmail));
        Driver.FindElement(By.Id("forgot-send")).Click();
        return browser.Until(_ => Text("forgot-sent") is { Length: > 0 } sent ? sent : Text("forgot-error") is { Length: > 0 } e ? e : null,
            "the answer to forgot password");
    }

    public bool ForgotPasswordOffered => Shown("forgot-open");

    public void BackToSignIn() => Driver.FindElement(By.Id("forgot-back")).Click();

    /// <summary>Opens a mailed link in this tab, as a click in a webmail page would; waits for its page.</summary>
    public DemoPage OpenLink(Uri link)
    {
        Driver.Navigate().GoToUrl(link);
        browser.Until(_ => Shown("reset") || Shown("verify"), $"the page of {link.GetLeftPart(UriPartial.Path)}");
        return this;
    }

    /// <summary>Opens a mailed link in a new tab, as a mail client does; <see cref="CloseTab"/> goes back.</summary>
    public DemoPage OpenLinkInNewTab(Uri link)
    {
        Driver.SwitchTo().NewWindow(WindowType.Tab);
        return OpenLink(link);
    }

    /// <summary>Closes this tab and goes back to the first one.</summary>
    public DemoPage CloseTab()
    {
        Driver.Close();
        Driver.SwitchTo().Window(Driver.WindowHandles[0]);
        return this;
    }

    public string Url => Driver.Url;

    /// <summary>The verify page's outcome once POST /email/verify has answered: the result line and the error line.</summary>
    public (string Result, string Error) Verification =>
        (browser.Until(_ => Text("verify-result") is { Length: > 0 } r && r != "Checking the link…" ? r : null, "the verification's outcome"),
         Text("verify-error"));

    /// <summary>"Continue" on the verify page: back to the session or sign-in card.</summary>
    public DemoPage LeaveVerification()
    {
        Driver.FindElement(By.Id("verify-done")).Click();
        return Settled();
    }

    /// <summary>Sends the reset page's form; does not wait.</summary>
    public void SetNewPassword(string password, string? repeat = null)
    {
        Fill(("reset-password", password), ("reset-repeat", repeat ?? password));
        Driver.FindElement(By.Id("reset-save")).Click();
    }

    /// <summary>The reset page's success line, once shown.</summary>
    public string ResetDone => browser.Until(_ => Text("reset-done") is { Length: > 0 } s ? s : null, "the new password to be set");

    /// <summary>The reset page's error, once there is one.</summary>
    public string ResetError => browser.Until(_ => Text("reset-error") is { Length: > 0 } e ? e : null, "the reset page's error");

    public bool ResetFormShown => Shown("reset-form");

    /// <summary>"Sign in" after a reset: the sign-in card.</summary>
    public DemoPage SignInAfterReset()
    {
        Driver.FindElement(By.Id("reset-sign-in")).Click();
        return Settled();
    }

    /// <summary>A sign-in that must fail; the error the page shows.</summary>
    public string SignInRefused(TestUser user)
    {
        SendPassword(user);
        return browser.Until(_ => Text("sign-in-error") is { Length: > 0 } e ? e : null, $"{user.Username}'s sign-in to be refused");
    }

    /// <summary>The session card's address and its state ("verified", "not verified"), once GET /me has answered.</summary>
    public (string Email, string State) Email =>
        (browser.Until(_ => Shown("account-email") && Text("email") is { Length: > 0 } e && e != "Checking…" ? e : null,
            "the session card's email address"), Text("email-state"));

    /// <summary>"Change" on the session card with the new address and the password; does not wait.</summary>
    public void ChangeEmail(string email, string password)
    {
        if (!Shown("email-form"))
        {
            Driver.FindElement(By.Id("email-change-open")).Click();
        }
        Fill(("email-new", email), ("email-password", password));
        Driver.FindElement(By.Id("email-save")).Click();
    }

    public bool ResendShown => Shown("email-resend");

    public bool EmailChangeOffered => Shown("email-change-open");

    public void ResendVerification() => Driver.FindElement(By.Id("email-resend")).Click();

    /// <summary>The session card's email message, once there is one.</summary>
    public string EmailMessage => browser.Until(_ => Text("email-message") is { Length: > 0 } m ? m : null, "the email message");

    /// <summary>The session card's email error, once there is one.</summary>
    public string EmailError => browser.Until(_ => Text("email-error") is { Length: > 0 } e ? e : null, "the email error");

    private void Fill(params (string Id, string Text)[] fields)
    {
        foreach (var (id, text) in fields)
        {
            var input = Driver.FindElement(By.Id(id));
            input.Clear();
            input.SendKeys(text);
        }
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
