using JwtApi.Tests.Support;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace JwtApi.Tests.Browser;

/// <summary>Swagger UI in a real browser: "Try it out" on <c>GET /me</c>, before and after Authorize with a pasted token.</summary>
[Collection(BrowserCollection.Name)]
public sealed class SwaggerUiTests(BrowserFixture browser)
{
    private ChromeDriver Driver => browser.Driver;

    private IWebElement Me => Driver.FindElement(By.CssSelector("#operations-Users-Me"));

    /// <summary>"Execute" on the expanded operation; the live response's status and body once it is not <paramref name="before"/>.</summary>
    private (string Status, string Body) Execute(string? before = null)
    {
        Me.FindElement(By.CssSelector(".btn.execute")).Click();
        var status = browser.Until(_ => Me.FindElement(By.CssSelector(".live-responses-table tbody .response-col_status")).Text.Trim()
            is { Length: > 0 } s && s != before ? s : null, "the live response");
        return (status, Me.FindElement(By.CssSelector(".live-responses-table tbody .highlight-code pre")).Text);
    }

    /// <summary>
    /// The whole value in one input event, as a paste makes it (typing a 300-character token key by key costs
    /// seconds of React re-renders). The native setter, so that React sees the change.
    /// </summary>
    private void Paste(IWebElement input, string text) => Driver.ExecuteScript("""
        Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(arguments[0], arguments[1]);
        arguments[0].dispatchEvent(new Event('input', { bubbles: true }));
        """, input, text);

    /// <summary>As a user would: try GET /me, be refused, authorize with a token from /login, try again.</summary>
    [BrowserFact]
    public async Task Returns401FromMeUntilAuthorizedWithAPastedTokenThen200WithTheUsername()
    {
        browser.Reset();   // first: Chromium starts beside the service
        var alice = await browser.App.CreateUserAsync();
        string token;
        using (var client = browser.Server.CreateClient())
        {
            token = (await (await client.LoginAsync(alice.Username, alice.Password)).EnsureSuccessStatusCode().JsonAsync())
                .GetProperty("access_token").GetString()!;
        }
        Driver.Navigate().GoToUrl(browser.Url("/swagger"));
        browser.Until(_ => Me, "the /me operation").FindElement(By.CssSelector(".opblock-summary-control")).Click();
        browser.Until(_ => Me.FindElement(By.CssSelector(".try-out__btn")), "Try it out").Click();

        var (status, _) = Execute();

        Screenshots.Save(Driver, "swagger-01-me-401", Me);
        status.Should().Be("401", "no token yet");
        Driver.FindElement(By.CssSelector(".scheme-container .btn.authorize")).Click();
        var bearer = browser.Until(d => d.FindElements(By.CssSelector(".modal-ux .auth-container"))
            .SingleOrDefault(c => c.FindElement(By.TagName("h4")).Text.StartsWith("Bearer", StringComparison.Ordinal)),
            "the Bearer scheme in the Authorize dialog");
        Paste(bearer.FindElement(By.Id("auth-bearer-value")), token);
        Screenshots.Save(Driver, "swagger-02-token-pasted", Driver.FindElement(By.CssSelector(".modal-ux-inner")));
        bearer.FindElement(By.CssSelector("button.authorize")).Click();
        browser.Until(_ => bearer.FindElements(By.CssSelector("button[aria-label='Remove authorization']")).Count == 1,
            "the scheme to show Logout");
        Driver.FindElement(By.CssSelector(".modal-ux button.btn-done")).Click();
        browser.Until(d => d.FindElements(By.CssSelector(".modal-ux")).Count == 0, "the dialog to close");

        (status, var body) = Execute(before: status);

        Screenshots.Save(Driver, "swagger-03-me-200", Me);
        status.Should().Be("200");
        body.Should().Contain($"\"username\": \"{alice.Username}\"");
    }
}
