using JwtApi.Tests.Support;

namespace JwtApi.Tests.Browser;

/// <summary>
/// Getting back in, in the demo SPA: an address given at registration and verified through the mailed link, a
/// forgotten password reset through the mailed link, the address changed on the session card; and, with mail off,
/// a page that says so instead of breaking.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DemoRecoveryTests
{
    private readonly BrowserFixture _browser;
    private readonly DemoPage _page;

    public DemoRecoveryTests(BrowserFixture browser)
    {
        _browser = browser;
        _browser.Reset();
        _page = new DemoPage(browser);
    }

    private void Screenshot(string step) => Screenshots.Save(_browser.Driver, "demo-recovery-" + step);

    private static TestUser NewUser(string hint) => new(Guid.Empty, $"{hint}-{Guid.NewGuid():N}"[..16], $"pw-{Guid.NewGuid():N}");

    [BrowserFact]
    public void SaysWhyAndOffersNoMailPartsGivenMailIsOff()
    {
        // an instance of its own on the browser tests' database, with Mail:Enabled off
        using var server = _browser.App.StartOnKestrel(configure: web => web.UseSetting("Mail:Enabled", "false"));
        _page.Open(BrowserFixture.BaseUrlOf(server));

        _page.ForgotPassword("someone").Should().Contain("Mail:Enabled is false");

        Screenshot("mail-off-forgot");
        _page.BackToSignIn();
        _page.ForgotPasswordOffered.Should().BeFalse("the page learnt that this service sends no mail");
        var carol = NewUser("carol");
        _page.Register(carol, email: null);
        _page.Email.Should().Be(("none", ""));
        _page.EmailChangeOffered.Should().BeFalse("the page knows already");

        // a new page knows nothing yet: the first answer tells it
        _page.Reload();
        _page.Email.Should().Be(("none", ""));
        _page.ChangeEmail("carol@example.test", carol.Password);
        _page.EmailError.Should().Contain("Mail:Enabled is false");
        Screenshot("mail-off-session");
        _page.EmailChangeOffered.Should().BeFalse();
        _page.CspViolations.Should().BeEmpty();
    }
}
