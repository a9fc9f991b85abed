using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using JwtApi.Tests.Support;

namespace JwtApi.Tests.Recovery;

/// <summary>Email addresses on accounts: given at registration or changed with the password, verified through a real mail.</summary>
public sealed class EmailTests(RecoveryApp app) : IClassFixture<RecoveryApp>
{
    private const string VerifySubject = "Confirm your email address";

    private async Task<JsonElement> MeAsync(HttpClient client) => await (await client.GetAsync("/me")).JsonAsync();

    [Fact]
    public async Task VerifiesTheAddressGivenAtRegistrationThroughTheMailedLink()
    {
        var email = RecoveryApp.NewAddress();
        var user = await app.RegisterWithEmailAsync(email, verify: false);
        using var client = await app.ClientForAsync(user);
        var me = await MeAsync(client);
        me.GetProperty("email").GetString().Should().Be(email);
        me.GetProperty("email_verified").GetBoolean().Should().BeFalse();

        var mail = await app.MailToAsync(email, VerifySubject);
        RecoveryApp.LinkIn(mail).Fragment.Should().StartWith("#verify-email?token=");
        var verified = await app.CreateClient().PostAsJsonAsync("/email/verify", new { token = RecoveryApp.TokenIn(mail) });

        verified.Should().HaveStatusCode(HttpStatusCode.OK);
        (await verified.JsonAsync()).GetProperty("email_verified").GetBoolean().Should().BeTrue();
        (await MeAsync(client)).GetProperty("email_verified").GetBoolean().Should().BeTrue();
        using var admin = await app.ClientForAsync(await app.AdminAsync());
        var viewed = await (await admin.GetAsync($"/users/{user.Id}")).JsonAsync();
        viewed.GetProperty("email").GetString().Should().Be(email);
        viewed.GetProperty("email_verified").GetBoolean().Should().BeTrue();
    }

    [Fact]
    public async Task ChangesTheAddressOnlyWithThePasswordAndTellsTheOldOne()
    {
        var old = RecoveryApp.NewAddress("old");
        var user = await app.RegisterWithEmailAsync(old);
        using var client = await app.ClientForAsync(user);
        var next = RecoveryApp.NewAddress("new");

        var wrong = await client.PutAsJsonAsync("/me/email", new { email = next, password = "not-the-password" });
        wrong.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await MeAsync(client)).GetProperty("email").GetString().Should().Be(old);

        var changed = await client.PutAsJsonAsync("/me/email", new { email = next, password = user.Password });
        changed.Should().HaveStatusCode(HttpStatusCode.OK);
        (await changed.JsonAsync()).GetProperty("email_verified").GetBoolean().Should().BeFalse();
        (await app.MailToAsync(old, "Your email address was changed")).TextBody.Should().NotContain(next);
        var token = RecoveryApp.TokenIn(await app.MailToAsync(next, VerifySubject));
        (await app.CreateClient().PostAsJsonAsync("/email/verify", new { token })).Should().HaveStatusCode(HttpStatusCode.OK);
        (await MeAsync(client)).GetProperty("email").GetString().Should().Be(next);
    }

    [Fact]
    public async Task RefusesAVerificationLinkToAnAddressTheAccountNoLongerHas()
    {
        var first = RecoveryApp.NewAddress("first");
        var user = await app.RegisterWithEmailAsync(first, verify: false);
        var token = RecoveryApp.TokenIn(await app.MailToAsync(first, VerifySubject));
        using var client = await app.ClientForAsync(user);
        (await client.PutAsJsonAsync("/me/email", new { email = RecoveryApp.NewAddress("second"), password = user.Password }))
            .Should().HaveStatusCode(HttpStatusCode.OK);

        var stale = await app.CreateClient().PostAsJsonAsync("/email/verify", new { token });

        stale.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await stale.JsonAsync()).GetProperty("error").GetString().Should().Be("invalid_verification_token");
        (await MeAsync(client)).GetProperty("email_verified").GetBoolean().Should().BeFalse();
    }

    [Fact]
    public async Task AResetLinkDiesWhenTheAddressChanges()
    {
        var email = RecoveryApp.NewAddress();
        var user = await app.RegisterWithEmailAsync(email);
        (await app.ForgotAsync(new { email })).Should().HaveStatusCode(HttpStatusCode.Accepted);
        var token = RecoveryApp.TokenIn(await app.MailToAsync(email, "Reset your password"));
        using var client = await app.ClientForAsync(user);
        (await client.PutAsJsonAsync("/me/email", new { email = RecoveryApp.NewAddress(), password = user.Password }))
            .Should().HaveStatusCode(HttpStatusCode.OK);

        (await app.ResetAsync(token, "taken-over-password")).Should().HaveStatusCode(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task RefusesAnAddressAnotherAccountHasWhateverItsCase()
    {
        var email = RecoveryApp.NewAddress();
        await app.RegisterWithEmailAsync(email, verify: false);
        var other = await app.RegisterUserAsync();
        using var client = await app.ClientForAsync(other);

        var taken = await client.PutAsJsonAsync("/me/email", new { email = email.ToUpperInvariant(), password = other.Password });
        taken.Should().HaveStatusCode(HttpStatusCode.Conflict);
        (await taken.JsonAsync()).GetProperty("error").GetString().Should().Be("email_taken");

        var registered = await app.CreateClient().PostAsJsonAsync("/register",
            new { username = $"dup{Guid.NewGuid():N}"[..12], password = "pw-long-enough-1", email = " " + email.ToUpperInvariant() });
        registered.Should().HaveStatusCode(HttpStatusCode.Conflict);
    }

    [Theory]
    [InlineData("no-at-sign")]
    [InlineData("two@@example.com")]
    [InlineData("space in@example.com")]
    [InlineData("nul\u0000@example.com")]
    [InlineData("name@nodot")]
    [InlineData("<name@example.com>")]
    public async Task RefusesMalformedAddressesWithAFieldError(string email)
    {
        var response = await app.CreateClient().PostAsJsonAsync("/register",
            new { username = $"bad{Guid.NewGuid():N}"[..12], password = "pw-long-enough-1", email });

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await response.JsonAsync()).GetProperty("errors").TryGetProperty("email", out _).Should().BeTrue();
        (await app.ForgotAsync(new { email })).Should().HaveStatusCode(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task SendsTheVerificationMailAgainOnRequest()
    {
        var email = RecoveryApp.NewAddress();
        var user = await app.RegisterWithEmailAsync(email, verify: false);
        await app.MailToAsync(email, VerifySubject);
        using var client = await app.ClientForAsync(user);

        (await client.PostAsync("/me/email/verification", null)).Should().HaveStatusCode(HttpStatusCode.Accepted);

        await app.Smtp.WaitForMailAsync(m => m.Message.To.Mailboxes.Any(b => b.Address == email) &&
            app.Smtp.Received.Count(r => r.Message.To.Mailboxes.Any(b => b.Address == email)) == 2, RecoveryApp.MailWait);
        using var noAddress = await app.ClientForAsync(await app.RegisterUserAsync());
        (await noAddress.PostAsync("/me/email/verification", null)).Should().HaveStatusCode(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task AnAdminCreatesAUserWithAnUnverifiedAddress()
    {
        var email = RecoveryApp.NewAddress();
        using var admin = await app.ClientForAsync(await app.AdminAsync());

        var created = await admin.PostAsJsonAsync("/users", new { username = $"adm{Guid.NewGuid():N}"[..12], password = "pw-long-enough-1", email });

        created.Should().HaveStatusCode(HttpStatusCode.Created);
        var body = await created.JsonAsync();
        body.GetProperty("email").GetString().Should().Be(email);
        body.GetProperty("email_verified").GetBoolean().Should().BeFalse();
        await app.MailToAsync(email, VerifySubject);
    }
}

/// <summary>With Mail:Enabled off (the default outside Development) there are no addresses and nothing is mailed.</summary>
public sealed class MailDisabledTests(JwtApiFactory app) : IClassFixture<JwtApiFactory>
{
    [Theory]
    [InlineData("/password/forgot", """{"username":"someone"}""")]
    [InlineData("/password/reset", """{"token":"x","new_password":"whatever-password"}""")]
    [InlineData("/email/verify", """{"token":"x"}""")]
    public async Task AnswersTheMailEndpoints404(string path, string json)
    {
        var response = await app.CreateClient().PostAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        response.Should().HaveStatusCode(HttpStatusCode.NotFound);
        (await response.JsonAsync()).GetProperty("error").GetString().Should().Be("mail_disabled");
    }

    [Fact]
    public async Task RefusesAnAddressAtRegistration()
    {
        var response = await app.CreateClient().PostAsJsonAsync("/register",
            new { username = $"nomail{Guid.NewGuid():N}"[..14], password = "pw-long-enough-1", email = "someone@example.test" });

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await response.JsonAsync()).GetProperty("errors").TryGetProperty("email", out _).Should().BeTrue();
    }
}
