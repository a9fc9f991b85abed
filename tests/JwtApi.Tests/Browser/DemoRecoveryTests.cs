using JwtApi.Tests.Recovery;
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

    private static string NewAddress(string hint) => RecoveryApp.NewAddress(hint);

    [BrowserFact]
    public void ResetsAForgottenPasswordThroughTheMailTheSmtpServerReceived()
    {
        var dana = NewUser("dana");
        var address = NewAddress("dana");
        _page.Open().Register(dana, address);
        _page.Email.Should().Be((address, "not verified"));

        // the verification mail's link, opened as a mail client opens it: in a new tab
        _page.OpenLinkInNewTab(RecoveryApp.LinkIn(_browser.MailTo(address, "Confirm your email address")));
        _page.Verification.Should().Be(($"{address} is verified: a forgotten password can now be reset through it.", ""));
        _page.CloseTab().Reload().Email.Should().Be((address, "verified"));
        _page.SignOut();

        _page.ForgotPassword(address).Should().StartWith("If an account matches and has a verified email address");
        Screenshot("forgot-sent");
        var link = RecoveryApp.LinkIn(_browser.MailTo(address, "Reset your password"));
        link.GetLeftPart(UriPartial.Path).Should().Be(_browser.Url("/demo/").ToString(), "the link opens this service's demo page");
        _page.OpenLinkInNewTab(link);
        _page.Url.Should().NotContain("token=", "the page takes the token out of the address bar once read");
        var renewed = dana with { Password = $"new-{Guid.NewGuid():N}" };
        _page.SetNewPassword(renewed.Password);
        _page.ResetDone.Should().StartWith("Your password is changed, and every login of the account has ended");
        Screenshot("reset-done");

        _page.SignInAfterReset();
        _page.SignInRefused(dana).Should().NotBeEmpty("the old password is gone");
        _page.SignIn(renewed);
        _browser.MailTo(address, "Your password was changed").TextBody.Should().Contain($"Hello {dana.Username},");

        // the same link again: used
        _page.OpenLink(link);
        _page.SetNewPassword($"other-{Guid.NewGuid():N}");
        _page.ResetError.Should().Contain("invalid, expired or already used");
        _page.ResetFormShown.Should().BeFalse("a dead link offers no form, only the way to a new one");
        _page.CspViolations.Should().BeEmpty();
    }

    [BrowserFact]
    public void ChangesTheAddressOnTheSessionCardAndVerifiesItThroughTheMail()
    {
        var erin = NewUser("erin");
        _page.Open().Register(erin, email: null);
        _page.Email.Should().Be(("none", ""));

        var address = NewAddress("erin");
        _page.ChangeEmail(address, "not-the-password");
        _page.EmailError.Should().Contain("The password is incorrect.");
        _page.ChangeEmail(address, erin.Password);
        _page.EmailMessage.Should().Be($"A mail to verify {address} is on its way: open the link in it.");
        _page.Email.Should().Be((address, "not verified"));
        _page.ResendShown.Should().BeTrue();
        Screenshot("email-unverified");

        _page.OpenLinkInNewTab(RecoveryApp.LinkIn(_browser.MailTo(address, "Confirm your email address")));
        _page.Verification.Should().Be(($"{address} is verified: a forgotten password can now be reset through it.", ""));
        _page.LeaveVerification();
        _page.SignedIn.Should().BeTrue("the new tab shares the session");
        _page.Email.Should().Be((address, "verified"));
        _page.ResendShown.Should().BeFalse();
        Screenshot("email-verified");
        _page.CspViolations.Should().BeEmpty();
    }

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
