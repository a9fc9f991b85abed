using JwtApi.Mail;
using JwtApi.Tests.Support;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using MimeKit;
using static JwtApi.Hosting.Telemetry;

namespace JwtApi.Tests.Mail;

/// <summary>
/// A queued job reaches a real SMTP server as composed; a temporary refusal is tried again after the back-off on
/// the service's clock, a permanent one is not; each outcome is counted, and no log line names the recipient.
/// </summary>
public sealed class MailSenderTests(MailTestService app) : IClassFixture<MailTestService>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static string NewSubject() => "Subject " + Guid.NewGuid().ToString("N");

    private static List<(string? Kind, string? Outcome)> Outcomes(MetricCollector<long> counts, string kind) =>
        [.. counts.GetMeasurementSnapshot()
            .Where(m => m.Tags[Tags.MailKind] as string == kind)
            .Select(m => (m.Tags[Tags.MailKind] as string, m.Tags[Tags.MailOutcome] as string))];

    /// <summary>What a log line could leak of a mail: none of it may appear in any record.</summary>
    private void NothingLoggedOf(params string[] secrets)
    {
        foreach (var record in app.Logs.GetSnapshot())
        {
            var text = string.Join(" | ", new[] { record.Message, record.Exception?.ToString() }
                .Concat(record.StructuredState?.Select(s => s.Value) ?? []));
            foreach (var secret in secrets)
            {
                text.Should().NotContain(secret, $"log {record.Category} {record.Id.Name} must not carry it");
            }
        }
    }

    /// <summary>A mail queued after the server was told to refuse the next <paramref name="refusals"/> mails with <paramref name="code"/>.</summary>
    private Refused QueueRefused(int refusals, int code, string to, string body = "Hello.")
    {
        var (kind, subject, counts, before) = (MailTestService.NewKind(), NewSubject(), app.CollectMessages(), app.Smtp.Refused);
        app.Smtp.FailNext(refusals, code);
        app.Queue.Enqueue(MailTestService.Job(kind, to, subject, body));
        return new Refused(kind, subject, counts, before);
    }

    /// <summary>The queued mail's kind and subject, the counts since just before, and how many the server had refused then.</summary>
    private sealed record Refused(string Kind, string Subject, MetricCollector<long> Counts, int Before) : IDisposable
    {
        public void Dispose() => Counts.Dispose();
    }

    [Fact]
    public async Task DeliversTheComposedMailFromMailFrom()
    {
        var kind = MailTestService.NewKind();
        var subject = NewSubject();
        using var counts = app.CollectMessages();
        app.Time.Advance(TimeSpan.FromDays(1));   // a day off the system clock: the mail is dated by the service's

        app.Queue.TryEnqueue(MailTestService.Job(kind, "alice@example.com", subject, "Your link: http://localhost/x")).Should().BeTrue();

        var mail = await app.Smtp.WaitForSubjectAsync(subject);
        mail.Message.From.Mailboxes.Should().ContainSingle().Which.Should().Match<MailboxAddress>(
            from => from.Name == "JwtApi Tests" && from.Address == "no-reply@jwtapi.test");
        mail.Message.To.Mailboxes.Select(to => to.Address).Should().Equal("alice@example.com");
        mail.Message.TextBody.Should().Contain("Your link: http://localhost/x");
        mail.Message.Date.Should().BeCloseTo(app.Time.GetUtcNow(), TimeSpan.FromSeconds(2));
        mail.From.Should().Be("no-reply@jwtapi.test");
        mail.To.Should().Equal("alice@example.com");
        mail.User.Should().BeNull("no username is set");
        await counts.WaitForMeasurementsAsync(1, Timeout);
        Outcomes(counts, kind).Should().Equal((kind, MailOutcome.Sent));
    }

    [Fact]
    public async Task KeepsTheFromTheComposerSet()
    {
        var subject = NewSubject();
        var job = new MailJob(MailTestService.NewKind(), (_, _) => Task.FromResult<MimeMessage?>(new MimeMessage(
            [new MailboxAddress("Security", "security@jwtapi.test")], [MailboxAddress.Parse("bob@example.com")], subject, new TextPart("plain") { Text = "Hi" })));

        app.Queue.Enqueue(job);

        var mail = await app.Smtp.WaitForSubjectAsync(subject);
        mail.Message.From.Mailboxes.Select(from => from.Address).Should().Equal("security@jwtapi.test");
        mail.From.Should().Be("security@jwtapi.test");
    }

    [Fact]
    public async Task TriesATemporaryRefusalAgainAfterTheBackOff()
    {
        using var mail = QueueRefused(1, 451, "carol@example.com", "token-carol-451");

        var retrying = await app.WaitForLogAsync("MailRetrying", mail.Kind);
        retrying.GetStructuredStateValue("Failure").Should().Be("SMTP 451 (MessageNotAccepted)");
        retrying.GetStructuredStateValue("Delay").Should().Be(TimeSpan.FromSeconds(2).ToString());
        retrying.Level.Should().Be(LogLevel.Warning);
        app.Smtp.Received.Should().NotContain(m => m.Message.Subject == mail.Subject, "the second attempt waits for the clock");

        app.Time.Advance(TimeSpan.FromSeconds(2));

        (await app.Smtp.WaitForSubjectAsync(mail.Subject)).To.Should().Equal("carol@example.com");
        app.Smtp.Refused.Should().Be(mail.Before + 1);
        await mail.Counts.WaitForMeasurementsAsync(1, Timeout);
        Outcomes(mail.Counts, mail.Kind).Should().Equal((mail.Kind, MailOutcome.Sent));
        NothingLoggedOf("carol@example.com", mail.Subject, "token-carol-451");
    }

    [Fact]
    public async Task GivesUpAfterMaxAttemptsOfTemporaryRefusals()
    {
        using var mail = QueueRefused(5, 451, "dave@example.com");

        for (var attempt = 1; attempt < 5; attempt++)
        {
            await app.WaitForLogAsync("MailRetrying", mail.Kind, count: attempt);
            app.Time.Advance(MailSender.Backoff(TimeSpan.FromSeconds(2), attempt));   // 2, 4, 8, 16 s
        }
        var failed = await app.WaitForLogAsync("MailFailed", mail.Kind);
        failed.GetStructuredStateValue("Attempt").Should().Be("5");
        failed.Level.Should().Be(LogLevel.Error);
        app.Smtp.Refused.Should().Be(mail.Before + 5);
        await mail.Counts.WaitForMeasurementsAsync(1, Timeout);
        Outcomes(mail.Counts, mail.Kind).Should().Equal((mail.Kind, MailOutcome.Failed));
    }

    [Fact]
    public async Task DoesNotRetryAPermanentRefusalAndCountsItFailed()
    {
        using var mail = QueueRefused(1, 550, "erin@example.com", "token-erin-550");

        await mail.Counts.WaitForMeasurementsAsync(1, Timeout);
        Outcomes(mail.Counts, mail.Kind).Should().Equal((mail.Kind, MailOutcome.Failed));
        app.Smtp.Refused.Should().Be(mail.Before + 1, "one attempt, no retry");
        var failed = await app.WaitForLogAsync("MailFailed", mail.Kind);
        failed.GetStructuredStateValue("Failure").Should().Be("SMTP 550 (MessageNotAccepted)");
        failed.GetStructuredStateValue("Reason").Should().Be("permanent");
        app.Logs.GetSnapshot().Should().NotContain(r => r.Id.Name == "MailRetrying" && r.GetStructuredStateValue("Kind") == mail.Kind);
        NothingLoggedOf("erin@example.com", mail.Subject, "token-erin-550");
    }

    [Fact]
    public async Task OneMailWaitingToRetryDoesNotHoldTheOthers()
    {
        var (slow, fast) = (NewSubject(), NewSubject());
        var kind = MailTestService.NewKind();
        app.Smtp.FailNext(1, 451);
        app.Queue.Enqueue(MailTestService.Job(kind, "frank@example.com", slow));
        await app.WaitForLogAsync("MailRetrying", kind);

        app.Queue.Enqueue(MailTestService.Job(MailTestService.NewKind(), "grace@example.com", fast));

        await app.Smtp.WaitForSubjectAsync(fast);
        app.Time.Advance(TimeSpan.FromSeconds(2));
        await app.Smtp.WaitForSubjectAsync(slow);
    }

    [Fact]
    public async Task SendsNothingWhenComposeReturnsNull()
    {
        var kind = MailTestService.NewKind();
        using var counts = app.CollectMessages();
        var composed = 0;

        app.Queue.Enqueue(new MailJob(kind, (services, _) =>
        {
            services.GetService(typeof(global::JwtApi.Storage.AppDb)).Should().NotBeNull("composing runs on a scope of the service's");
            Interlocked.Increment(ref composed);
            return Task.FromResult<MimeMessage?>(null);
        }));

        await counts.WaitForMeasurementsAsync(1, Timeout);
        Outcomes(counts, kind).Should().Equal((kind, MailOutcome.Skipped));
        composed.Should().Be(1);
        app.Logs.GetSnapshot().Should().NotContain(r => r.GetStructuredStateValue("Kind") == kind && r.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task CountsAComposeThatThrowsAsFailedAndLogsNotItsMessage()
    {
        var kind = MailTestService.NewKind();
        using var counts = app.CollectMessages();

        app.Queue.Enqueue(new MailJob(kind, (_, _) => throw new InvalidOperationException("no mailbox for heidi@example.com")));

        await counts.WaitForMeasurementsAsync(1, Timeout);
        Outcomes(counts, kind).Should().Equal((kind, MailOutcome.Failed));
        var failed = await app.WaitForLogAsync("MailComposeFailed", kind);
        failed.GetStructuredStateValue("ExceptionType").Should().Be(typeof(InvalidOperationException).FullName);
        failed.Level.Should().Be(LogLevel.Error);
        NothingLoggedOf("heidi@example.com");
    }
}

/// <summary>The SMTP connection: the login is used when a username is set and a refused one is final; a refused connection is tried again.</summary>
public sealed class SmtpConnectionTests
{
    [Fact]
    public async Task LogsInToTheSmtpServerWhenAUsernameIsSet()
    {
        using var app = new MailTestService(new SmtpTestServer("mailer", "mailer-password"));
        var subject = "Login " + Guid.NewGuid();

        app.Queue.Enqueue(MailTestService.Job("test_login", "ivan@example.com", subject));

        (await app.Smtp.WaitForSubjectAsync(subject)).User.Should().Be("mailer");
    }

    [Fact]
    public async Task CountsAWrongPasswordFailedWithoutRetryingIt()
    {
        using var app = new MailTestService(new SmtpTestServer("mailer", "mailer-password"));
        app.Settings["Mail:Smtp:Password"] = "wrong-password";
        using var counts = app.CollectMessages();

        app.Queue.Enqueue(MailTestService.Job("test_login", "judy@example.com", "Login"));

        await counts.WaitForMeasurementsAsync(1, TimeSpan.FromSeconds(30));
        counts.LastMeasurement!.Tags[Tags.MailOutcome].Should().Be(MailOutcome.Failed);
        var failed = await app.WaitForLogAsync("MailFailed", "test_login");
        failed.GetStructuredStateValue("Failure").Should().Be("AuthenticationException");
        app.Smtp.Received.Should().BeEmpty();
        app.Logs.GetSnapshot().Select(r => r.Message).Should().NotContain(m => m.Contains("wrong-password"));
    }

    [Fact]
    public async Task TriesARefusedConnectionAgain()
    {
        var closed = new SmtpTestServer();
        using var app = new MailTestService(closed);
        await closed.DisposeAsync();   // nothing listens on its port any more

        app.Queue.Enqueue(MailTestService.Job("test_refused", "ken@example.com", "Refused"));

        var retrying = await app.WaitForLogAsync("MailRetrying", "test_refused");
        retrying.GetStructuredStateValue("Failure").Should().Be("SocketException (ConnectionRefused)");
    }
}
