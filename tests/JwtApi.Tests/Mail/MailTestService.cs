using System.Diagnostics.Metrics;
using JwtApi.Hosting;
using JwtApi.Mail;
using JwtApi.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using MimeKit;

namespace JwtApi.Tests.Mail;

/// <summary>The service with its mail going to an <see cref="SmtpTestServer"/> of its own, and its logs captured.</summary>
public sealed class MailTestService : JwtApiFactory
{
    public MailTestService() : this(new SmtpTestServer())
    {
    }

    /// <summary>With a server of the test's own (one that requires a login, say).</summary>
    internal MailTestService(SmtpTestServer smtp)
    {
        Smtp = smtp;
        UseMail(smtp);
    }

    public SmtpTestServer Smtp { get; }

    public MailQueue Queue => Services.GetRequiredService<MailQueue>();

    public FakeLogCollector Logs => Services.GetFakeLogCollector();

    /// <summary>Counts of <c>jwtapi.mail.messages</c> from now on.</summary>
    public MetricCollector<long> CollectMessages() => Collect(this);

    public static MetricCollector<long> Collect(WebApplicationFactory<Program> app) =>
        new(app.Services.GetRequiredService<IMeterFactory>(), Telemetry.Name, Telemetry.Instruments.MailMessages);

    /// <summary>The <paramref name="count"/>th log record <paramref name="match"/> accepts, written already or from now on.</summary>
    public static async Task<FakeLogRecord> WaitForLogAsync(FakeLogCollector logs, Func<FakeLogRecord, bool> match, int count = 1)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = 0;
        await foreach (var record in logs.GetLogsAsync(timeout.Token))
        {
            if (match(record) && ++seen == count)
            {
                return record;
            }
        }
        throw new TimeoutException("The log stream ended.");
    }

    public Task<FakeLogRecord> WaitForLogAsync(string eventName, string kind, int count = 1) =>
        WaitForLogAsync(Logs, r => r.Id.Name == eventName && r.GetStructuredStateValue("Kind") == kind, count);

    /// <summary>A job that sends one plain-text mail to <paramref name="to"/>.</summary>
    public static MailJob Job(string kind, string to, string subject, string body = "Hello.") =>
        new(kind, (_, _) => Task.FromResult<MimeMessage?>(
            new MimeMessage([], [MailboxAddress.Parse(to)], subject, new TextPart("plain") { Text = body })));

    /// <summary>A kind of mail no other test uses, so its counts and logs are this test's.</summary>
    public static string NewKind() => "test_" + Guid.NewGuid().ToString("N")[..8];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureLogging(logging => logging.AddFakeLogging());
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Smtp.Dispose();
        }
    }
}
