using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Diagnostics.Metrics;
using JwtApi.Hosting;
using JwtApi.Tests.Mfa;
using JwtApi.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace JwtApi.Tests.Recovery;

/// <summary>A forgotten password, from the request to a new password, through the mail a real SMTP server received.</summary>
public sealed class PasswordResetTests(RecoveryApp app) : IClassFixture<RecoveryApp>
{
    private const string ResetSubject = "Reset your password";

    private async Task<(TestUser User, string Email, string Token)> ResetLinkAsync()
    {
        var email = RecoveryApp.NewAddress();
        var user = await app.RegisterWithEmailAsync(email);
        (await app.ForgotAsync(new { username = user.Username })).Should().HaveStatusCode(HttpStatusCode.Accepted);
        return (user, email, RecoveryApp.TokenIn(await app.MailToAsync(email, ResetSubject)));
    }

    [Fact]
    public async Task ResetsThePasswordThroughTheMailedLinkAndEndsEveryLogin()
    {
        var email = RecoveryApp.NewAddress();
        var user = await app.RegisterWithEmailAsync(email);
        var before = await app.LoginPairAsync(user);

        (await app.ForgotAsync(new { email = email.ToUpperInvariant() })).Should().HaveStatusCode(HttpStatusCode.Accepted);
        var mail = await app.MailToAsync(email, ResetSubject);

        // the mail as the server received it: our From, the account's address, a link to the app with the token in its fragment
        mail.From.Mailboxes.Single().Address.Should().Be("no-reply@jwtapi.test");
        mail.To.Mailboxes.Single().Address.Should().Be(email);
        mail.TextBody.Should().Contain(user.Username).And.Contain("30 minutes");
        var link = RecoveryApp.LinkIn(mail);
        link.GetLeftPart(UriPartial.Path).Should().Be("http://localhost/demo/");
        link.Query.Should().BeEmpty("the token travels in the fragment, which no server log or Referer sees");
        var token = RecoveryApp.TokenIn(mail);

        (await app.ResetAsync(token, "a-brand-new-password")).Should().HaveStatusCode(HttpStatusCode.NoContent);

        using var client = app.CreateClient();
        (await client.LoginAsync(user.Username, user.Password)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await client.LoginAsync(user.Username, "a-brand-new-password")).Should().HaveStatusCode(HttpStatusCode.OK);
        (await app.RefreshAsync(before.Refresh)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        using var old = app.ClientWithToken(before.Access);
        (await old.GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);

        var notice = await app.MailToAsync(email, "Your password was changed");
        notice.TextBody.Should().NotContain(token);
    }

    [Fact]
    public async Task RefusesAResetTokenUsedTwice()
    {
        var (_, _, token) = await ResetLinkAsync();
        (await app.ResetAsync(token, "first-new-password")).Should().HaveStatusCode(HttpStatusCode.NoContent);

        var second = await app.ResetAsync(token, "second-new-password");

        second.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        second.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        (await second.JsonAsync()).GetProperty("error").GetString().Should().Be("invalid_reset_token");
    }

    [Fact]
    public async Task LetsOnlyOneOfConcurrentUsesOfOneTokenThrough()
    {
        var (user, _, token) = await ResetLinkAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => app.ResetAsync(token, $"concurrent-password-{i}")));

        answers.Count(a => a.StatusCode == HttpStatusCode.NoContent).Should().Be(1);
        answers.Count(a => a.StatusCode == HttpStatusCode.BadRequest).Should().Be(9);
        var winner = Array.FindIndex(answers, a => a.StatusCode == HttpStatusCode.NoContent);
        using var client = app.CreateClient();
        (await client.LoginAsync(user.Username, $"concurrent-password-{winner}")).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task RefusesATokenFromBeforeAPasswordChange()
    {
        var (user, _, token) = await ResetLinkAsync();
        using var client = await app.ClientForAsync(user);
        (await client.PutAsJsonAsync("/me/password", new { current_password = user.Password, new_password = "changed-by-the-user" }))
            .Should().HaveStatusCode(HttpStatusCode.OK);

        (await app.ResetAsync(token, "an-attackers-password")).Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await app.CreateClient().LoginAsync(user.Username, "changed-by-the-user")).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task RefusesATokenOfADisabledAccount()
    {
        var (user, _, token) = await ResetLinkAsync();
        using var admin = await app.ClientForAsync(await app.AdminAsync());
        (await admin.PostAsync($"/users/{user.Id}/disable", null)).Should().HaveStatusCode(HttpStatusCode.OK);

        (await app.ResetAsync(token, "disabled-users-password")).Should().HaveStatusCode(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task AppliesThePasswordPolicyAndKeepsTheTokenForAnotherTry()
    {
        var (user, _, token) = await ResetLinkAsync();

        var weak = await app.ResetAsync(token, user.Username);

        weak.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await weak.JsonAsync()).GetProperty("errors").TryGetProperty("new_password", out _).Should().BeTrue();
        (await app.ResetAsync(token, "a-better-password")).Should().HaveStatusCode(HttpStatusCode.NoContent);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not.a.jwt")]
    [InlineData("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")]
    public async Task RefusesForgedTokensWithProblemDetails(string token)
    {
        var response = await app.ResetAsync(token, "whatever-password");

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
    }

    [Fact]
    public async Task AResetTokenIsNoBearerRefreshOrVerificationToken()
    {
        var (_, _, token) = await ResetLinkAsync();

        using var bearer = app.ClientWithToken(token);
        (await bearer.GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await app.RefreshAsync(token)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await app.CreateClient().PostAsJsonAsync("/email/verify", new { token })).Should().HaveStatusCode(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task KeepsTheSecondFactorOfAnAccountThatResetsItsPassword()
    {
        var email = RecoveryApp.NewAddress();
        var user = await app.RegisterWithEmailAsync(email);
        await app.EnrolledAsync(user);
        (await app.ForgotAsync(new { username = user.Username })).Should().HaveStatusCode(HttpStatusCode.Accepted);
        var token = RecoveryApp.TokenIn(await app.MailToAsync(email, ResetSubject));

        (await app.ResetAsync(token, "new-password-still-2fa")).Should().HaveStatusCode(HttpStatusCode.NoContent);

        await app.MfaTokenAsync(user with { Password = "new-password-still-2fa" });   // 401 mfa_required: the code is still asked for
    }

    [Fact]
    public async Task AnswersEveryForgotRequestAlikeAndMailsOnlyAVerifiedAddress()
    {
        var verified = RecoveryApp.NewAddress("verified");
        var unverified = RecoveryApp.NewAddress("unverified");
        var known = await app.RegisterWithEmailAsync(verified);
        var notVerified = await app.RegisterWithEmailAsync(unverified, verify: false);
        var noAddress = await app.RegisterUserAsync();
        object[] bodies =
        [
            new { username = known.Username },
            new { email = verified },
            new { username = "nobody-has-this-name" },
            new { email = RecoveryApp.NewAddress("unknown") },
            new { email = unverified },
            new { username = notVerified.Username },
            new { username = noAddress.Username },
        ];

        using var composed = new MetricCollector<long>(
            app.Services.GetRequiredService<IMeterFactory>(), Telemetry.Name, Telemetry.Instruments.MailMessages);
        var answers = new List<string>();
        foreach (var body in bodies)
        {
            var response = await app.ForgotAsync(body);
            response.Should().HaveStatusCode(HttpStatusCode.Accepted);
            answers.Add(await response.Content.ReadAsStringAsync());
        }

        answers.Distinct().Should().ContainSingle("the body says nothing about the account");
        // every job composed (sent or skipped), so a mail not here now will not come
        int Resets() => composed.GetMeasurementSnapshot().Count(m => (string?)m.Tags[Telemetry.Tags.MailKind] == "password_reset");
        while (Resets() < bodies.Length)
        {
            await composed.WaitForMeasurementsAsync(composed.GetMeasurementSnapshot().Count + 1, RecoveryApp.MailWait);
        }
        var resets = app.Smtp.Received.Where(m => m.Message.Subject == ResetSubject).ToList();
        resets.Count(m => m.Message.To.Mailboxes.Single().Address == verified).Should().Be(2, "by name and by address");
        resets.Should().NotContain(m => m.Message.To.Mailboxes.Single().Address == unverified, "an unverified address may be someone else's");
        composed.GetMeasurementSnapshot().Count(m => (string?)m.Tags[Telemetry.Tags.MailKind] == "password_reset" && (string?)m.Tags[Telemetry.Tags.MailOutcome] == "skipped").Should().Be(bodies.Length - 2);
    }

    [Fact]
    public async Task AnswersInSimilarTimeForAKnownAndAnUnknownAccount()
    {
        var known = await app.RegisterWithEmailAsync(RecoveryApp.NewAddress());
        async Task<double> TimeAsync(object body)
        {
            var watch = Stopwatch.StartNew();
            (await app.ForgotAsync(body)).Should().HaveStatusCode(HttpStatusCode.Accepted);
            return watch.Elapsed.TotalMilliseconds;
        }
        var knownTimes = new List<double>();
        var unknownTimes = new List<double>();
        for (var i = 0; i < 15; i++)   // interleaved, so a slow moment of the machine hits both
        {
            knownTimes.Add(await TimeAsync(new { username = known.Username }));
            unknownTimes.Add(await TimeAsync(new { username = $"unknown-{i}" }));
        }

        // Not a speed target: the answer does the same work for both (the account is looked up after it), so the
        // medians stay within noise of each other; a lookup, a token or an SMTP exchange before answering would not.
        double Median(List<double> times) => times.Order().ElementAt(times.Count / 2);
        Median(knownTimes).Should().BeLessThan((Median(unknownTimes) * 3) + 5);
        Median(unknownTimes).Should().BeLessThan((Median(knownTimes) * 3) + 5);
    }

    [Fact]
    public async Task AnswersBeforeTheMailServerAcceptsTheMail()
    {
        var email = RecoveryApp.NewAddress();
        var user = await app.RegisterWithEmailAsync(email);
        app.Smtp.FailNext(1, 451);

        // were the mail sent before answering, this would wait for the retry, which waits for the fake clock
        (await app.ForgotAsync(new { username = user.Username })).Should().HaveStatusCode(HttpStatusCode.Accepted);

        var arrived = app.MailToAsync(email, ResetSubject);
        // the retry waits on the service's (fake) clock: move it a second at a time (Mail:RetryDelay is one second
        // here), a little at most, so the class's tokens stay within the bearer's skew of the real clock
        for (var i = 0; i < 20 && !arrived.IsCompleted; i++)
        {
            await Task.WhenAny(arrived, Task.Delay(200));
            app.Time.Advance(TimeSpan.FromSeconds(1));
        }
        (await arrived).Should().NotBeNull();
    }
}
