using System.Net.Http.Json;
using JwtApi.Tests.Mfa;
using JwtApi.Tests.Support;

namespace JwtApi.Tests.Browser;

/// <summary>
/// Two-factor sign-in in the demo SPA, in a real browser: enrolment from the QR code the page draws (the test reads
/// the secret shown beside it, as a person types it into an app), the recovery codes shown once, the code step of a
/// sign-in with a code or a recovery code, a wrong code, turning it off, and a role that requires it.
/// </summary>
/// <remarks>
/// Codes are computed from the service's clock, the factory's <c>FakeTimeProvider</c>, which stays put: each user's
/// codes are those of the step before now, now and the step after (all within the window the service accepts),
/// used in that order since a step is good once. Advancing the clock instead would put the tokens' <c>nbf</c>
/// past the 30 s clock skew of the system clock JwtBearer checks them on.
/// </remarks>
[Collection(BrowserCollection.Name)]
public sealed class DemoMfaTests
{
    /// <summary>A role listed in Auth:RequireMfaFor by <see cref="BrowserFixture"/>.</summary>
    public const string RoleRequiringMfa = "staff";

    private readonly BrowserFixture _browser;
    private readonly DemoPage _page;

    public DemoMfaTests(BrowserFixture browser)
    {
        _browser = browser;
        _browser.Reset();
        _page = new DemoPage(browser);
    }

    private void Screenshot(string step) => Screenshots.Save(_browser.Driver, "demo-mfa-" + step);

    /// <summary>The code of the step <paramref name="stepsFromNow"/> away from the service's now.</summary>
    private string Code(string secret, int stepsFromNow) => TotpCodes.At(secret, _browser.App.Time.GetUtcNow(), stepsFromNow);

    private async Task<EnrolledUser> EnrolledAsync() => await _browser.App.EnrolledAsync();   // confirmed with step -1

    [BrowserFact]
    public async Task TurnsOnFromTheQrCodeAndShowsTenRecoveryCodesOnceThenTokensSayPwdAndOtp()
    {
        // a name fit for the README's screenshot (docs/demo-mfa.png is the enrolment step's)
        var grace = new TestUser(Guid.Empty, "grace", $"pw-{Guid.NewGuid():N}");
        using (var admin = await _browser.App.ClientForAsync(await _browser.App.AdminAsync()))
        {
            (await admin.PostAsJsonAsync("/users", new { grace.Username, grace.Password, roles = new[] { "user" } })).EnsureSuccessStatusCode();
        }
        _page.Open().SignIn(grace);
        _page.Amr.Should().Be("pwd");
        _page.MfaStatus.Should().StartWith("Off");

        var secret = _page.StartEnrolment();

        Screenshot("01-enrol");
        _page.QrCode.Displayed.Should().BeTrue();
        _page.QrCode.GetAttribute("src").Should().StartWith("data:image/svg+xml;base64,", "the server's SVG as an image, never as markup");
        _page.QrCode.Size.Width.Should().BeGreaterThan(100, "big enough to scan");
        secret.Should().MatchRegex("^[A-Z2-7]{32}$", "160 bits in base32, to type by hand");
        var recoveryCodes = _page.ConfirmEnrolment(grace.Password, Code(secret, -1));
        _page.SignedInAs(grace);
        Screenshot("02-recovery-codes");
        recoveryCodes.Should().HaveCount(10).And.OnlyHaveUniqueItems()
            .And.AllSatisfy(c => c.Should().MatchRegex("^[a-z2-7]{4}(-[a-z2-7]{4}){3}$"));
        _page.Status.Should().Contain("two-factor sign-in is on");
        _browser.Until(_ => _page.MfaStatus.StartsWith("On", StringComparison.Ordinal), "the status to say On");
        _page.MfaStatus.Should().Contain("10 recovery codes left");
        _page.Payload.GetProperty("amr").EnumerateArray().Select(a => a.GetString()).Should().Equal("pwd", "otp");
        _page.Amr.Should().Be("pwd, otp");
        _page.QrCode.GetAttribute("src").Should().BeNullOrEmpty("the secret is shown once, until confirmed");
        _page.Call("call-me").Status.Should().Be(200, "the confirmation's tokens are the new login");
        var before = _page.Jti;
        _page.RefreshNow();
        _browser.Until(_ => _page.Refreshes == 1, "a refresh with the new login's cookie");
        _page.Jti.Should().NotBe(before);
        _page.Amr.Should().Be("pwd, otp", "a refresh keeps how the user signed in");
        _page.CspViolations.Should().BeEmpty("the QR code is a data: image, which img-src allows");
    }

    [BrowserFact]
    public async Task SignsInWithThePasswordThenACodeFromTheApp()
    {
        var enrolled = await EnrolledAsync();
        _page.Open().SignInToSecondStep(enrolled.User);
        _page.SignedIn.Should().BeFalse();
        _page.CodeStepLabel.Should().Be("Code from the authenticator app");
        Screenshot("03-code-step");

        _page.SendSecondFactor(Code(enrolled.Secret, 0)).SignedInAs(enrolled.User);

        Screenshot("04-signed-in-with-code");
        _page.Status.Should().EndWith("with a code from the app.");
        _page.Amr.Should().Be("pwd, otp");
        _page.MfaStatus.Should().StartWith("On");
        _page.Call("call-me").Status.Should().Be(200);
        _page.SignOut();
        _page.SignedIn.Should().BeFalse();
        _page.OnCodeStep.Should().BeFalse("signed out, the page starts from the password again");
    }

    [BrowserFact]
    public async Task SignsInWithARecoveryCodeWhichIsThenUsedUp()
    {
        var enrolled = await EnrolledAsync();
        _page.Open().SignInToSecondStep(enrolled.User);

        _page.SendSecondFactor(enrolled.RecoveryCodes[3], recoveryCode: true).SignedInAs(enrolled.User);

        Screenshot("05-signed-in-with-recovery-code");
        _page.Status.Should().EndWith("with a recovery code.");
        _page.Amr.Should().Be("pwd, otp");
        _page.MfaStatus.Should().Contain("9 recovery codes left");
        _page.SignOut();
        _page.SignInToSecondStep(enrolled.User).SendSecondFactor(enrolled.RecoveryCodes[3], recoveryCode: true);
        _page.CodeStepError.Should().Be("Invalid code: The code is incorrect, expired or already used.");
        _page.SignedIn.Should().BeFalse();
    }

    [BrowserFact]
    public async Task ShowsAnErrorForAWrongOrAlreadyUsedCodeAndStaysOnTheCodeStep()
    {
        var enrolled = await EnrolledAsync();
        var accepted = new[] { -1, 0, 1 }.Select(step => Code(enrolled.Secret, step)).ToList();
        var wrong = Enumerable.Range(0, 1000).Select(i => $"{i * 7919 % 1_000_000:D6}").First(c => !accepted.Contains(c));
        _page.Open().SignInToSecondStep(enrolled.User);

        _page.SendSecondFactor(wrong);

        _page.CodeStepError.Should().Be("Invalid code: The code is incorrect, expired or already used.");
        Screenshot("06-wrong-code");
        _page.OnCodeStep.Should().BeTrue("another try needs no password again");
        _page.SignedIn.Should().BeFalse();
        // the code of the step the enrolment used: right, but used
        _page.SendSecondFactor(accepted[0]);   // the click clears the error first

        _page.CodeStepError.Should().Contain("already used");
        _page.SignedIn.Should().BeFalse();

        _page.SendSecondFactor(accepted[1]).SignedInAs(enrolled.User);

        _page.Amr.Should().Be("pwd, otp");
    }

    [BrowserFact]
    public async Task TurnsOffWithThePasswordAndACodeAndTokensSayPwdAgain()
    {
        var enrolled = await EnrolledAsync();
        _page.Open().SignInToSecondStep(enrolled.User).SendSecondFactor(Code(enrolled.Secret, 0)).SignedInAs(enrolled.User);

        _page.TurnOff(enrolled.User.Password, Code(enrolled.Secret, 0));   // the sign-in's, used

        _page.MfaError.Should().Be("The code is incorrect, expired or already used.");
        _page.TurnOff(enrolled.User.Password, Code(enrolled.Secret, 1));

        _browser.Until(_ => _page.Status.Contains("two-factor sign-in is off", StringComparison.Ordinal), "the new login");
        _browser.Until(_ => _page.MfaStatus.StartsWith("Off", StringComparison.Ordinal), "the status to say Off");
        Screenshot("07-turned-off");
        _page.Amr.Should().Be("pwd");
        _page.Call("call-me").Status.Should().Be(200);
        _page.SignOut();
        _page.SignIn(enrolled.User).Amr.Should().Be("pwd", "the password alone signs in again");
    }

    [BrowserFact]
    public async Task LeadsAUserWhoseRoleRequiresItFromAnEnrolmentOnlyTokenToAFullLogin()
    {
        var bo = await _browser.App.CreateUserAsync(RoleRequiringMfa);
        _page.Open().SignIn(bo);
        _page.Status.Should().Contain("whose role requires two-factor sign-in");
        _page.NextRefreshText.Should().StartWith("none", "an enrolment-only token comes without a refresh token");
        var (status, body) = _page.Call("call-me");
        status.Should().Be(403);
        body.Should().Contain("mfa_enrollment_required");

        var secret = _page.StartEnrolment();
        _page.ConfirmEnrolment(bo.Password, Code(secret, -1)).Should().HaveCount(10);

        _page.SignedInAs(bo);
        _page.Amr.Should().Be("pwd, otp");
        _page.Call("call-me").Status.Should().Be(200);
        _page.RefreshNow();
        _browser.Until(_ => _page.Refreshes == 1, "a refresh: the full login has a refresh cookie");
    }
}
