using JwtApi.Tests.Support;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace JwtApi.Tests.Browser;

/// <summary>Swagger UI in a real browser: Authorize with a pasted token, then "Try it out" on <c>GET /me</c>.</summary>
[Collection(BrowserCollection.Name)]
public sealed class SwaggerUiTests(BrowserFixture browser)
{
    private ChromeDriver Driver => browser.Driver;

    private void OpenSwaggerUi()
    {
        browser.Reset();
        Driver.Navigate().GoToUrl(browser.Url("/swagger"));
        browser.Until(d => d.FindElement(By.CssSelector("#operations-Users-Me")), "the /me operation");
    }

    /// <summary>Expands <c>GET /me</c>, "Try it out", "Execute"; the live response's status and body.</summary>
    private (string Status, string Body) TryGetMe()
    {
        var operation = Driver.FindElement(By.CssSelector("#operations-Users-Me"));
        operation.FindElement(By.CssSelector(".opblock-summary-control")).Click();
        browser.Until(_ => operation.FindElement(By.CssSelector(".try-out__btn")), "Try it out").Click();
        browser.Until(_ => operation.FindElement(By.CssSelector(".btn.execute")), "Execute").Click();
        var status = browser.Until(_ => operation.FindElement(By.CssSelector(".live-responses-table tbody .response-col_status")),
            "the live response");
        var body = operation.FindElement(By.CssSelector(".live-responses-table tbody .highlight-code pre"));
        return (status.Text.Trim(), body.Text);
    }

    /// <summary>
    /// The whole value in one input event, as a paste makes it (typing a 300-character token key by key costs
    /// seconds of React re-renders). The native setter, so that React sees the change.
    /// </summary>
    private void Paste(IWebElement input, string text) => ((IJavaScriptExecutor)Driver).ExecuteScript("""
        Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(arguments[0], arguments[1]);
        arguments[0].dispatchEvent(new Event('input', { bubbles: true }));
        """, input, text);

    [BrowserFact]
    public async Task Returns200WithTheUsernameFromMeAfterAuthorizingWithAPastedToken()
    {
        var alice = await browser.App.CreateUserAsync();
        string token;
        using (var client = browser.Server.CreateClient())
        {
            token = (await (await client.LoginAsync(alice.Username, alice.Password)).EnsureSuccessStatusCode().JsonAsync())
                .GetProperty("access_token").GetString()!;
        }
        OpenSwaggerUi();

        Driver.FindElement(By.CssSelector(".scheme-container .btn.authorize")).Click();
        var bearer = browser.Until(d => d.FindElements(By.CssSelector(".modal-ux .auth-container"))
            .SingleOrDefault(c => c.FindElement(By.TagName("h4")).Text.StartsWith("Bearer", StringComparison.Ordinal)),
            "the Bearer scheme in the Authorize dialog");
        Paste(bearer.FindElement(By.Id("auth-bearer-value")), token);
        Screenshots.Save(Driver, "swagger-01-token-pasted");
        bearer.FindElement(By.CssSelector("button.authorize")).Click();
        browser.Until(_ => bearer.FindElements(By.CssSelector("button[aria-label='Remove authorization']")).Count == 1,
            "the scheme to show Logout");
        Driver.FindElement(By.CssSelector(".modal-ux button.btn-done")).Click();
        browser.Until(d => d.FindElements(By.CssSelector(".modal-ux")).Count == 0, "the dialog to close");

        var (status, body) = TryGetMe();

        Screenshots.Save(Driver, "swagger-02-me-200");
        status.Should().Be("200");
        body.Should().Contain($"\"username\": \"{alice.Username}\"");
    }

    [BrowserFact]
    public void Returns401FromMeWithoutAuthorizing()
    {
        OpenSwaggerUi();

        var (status, _) = TryGetMe();

        Screenshots.Save(Driver, "swagger-03-me-401");
        status.Should().Be("401");
    }
}
