using System.Diagnostics.Metrics;
using JwtApi.Hosting;
using JwtApi.Mail;
using JwtApi.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using MimeKit;
using static JwtApi.Hosting.Telemetry;

namespace JwtApi.Tests.Mail;

/// <summary>The queue refuses past its bound and counts it; with mail off it skips every job, so callers need no branch.</summary>
public sealed class MailQueueTests : IDisposable
{
    private readonly ServiceProvider _metrics = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose() => _metrics.Dispose();

    private IMeterFactory Meters => _metrics.GetRequiredService<IMeterFactory>();

    private static MailJob Job(string kind) => new(kind, (_, _) => Task.FromResult<MimeMessage?>(null));

    [Fact]
    public void RefusesAJobWhenFullAndCountsItDropped()
    {
        using var telemetry = new Telemetry(Meters);
        using var counts = new MetricCollector<long>(Meters, Telemetry.Name, Instruments.MailMessages);
        using var length = new MetricCollector<long>(Meters, Telemetry.Name, Instruments.MailQueueLength);
        var logger = new FakeLogger<MailQueue>();
        var queue = new MailQueue(2, telemetry, logger: logger);

        new[] { queue.TryEnqueue(Job("password_reset")), queue.TryEnqueue(Job("password_reset")), queue.TryEnqueue(Job("email_verification")) }
            .Should().Equal(true, true, false);
        queue.Enqueue(Job("password_reset"));

        queue.Count.Should().Be(2);
        counts.GetMeasurementSnapshot().Select(m => (m.Tags[Tags.MailKind], m.Tags[Tags.MailOutcome])).Should().Equal(
            ("email_verification", MailOutcome.Dropped), ("password_reset", MailOutcome.Dropped));
        length.RecordObservableInstruments();
        length.LastMeasurement!.Value.Should().Be(2);
        logger.Collector.GetSnapshot().Should().ContainSingle("one warning per spell of refusals, not one per request")
            .Which.Should().Match<FakeLogRecord>(r => r.Level == LogLevel.Warning && r.Message.Contains("email_verification"));
    }

    [Fact]
    public async Task WarnsAgainWhenFullAgainAfterTakingJobs()
    {
        var logger = new FakeLogger<MailQueue>();
        var queue = new MailQueue(1, logger: logger);
        queue.Enqueue(Job("a"));
        queue.Enqueue(Job("a"));   // refused: warns

        await queue.Reader.ReadAsync();
        queue.Enqueue(Job("b"));
        queue.Enqueue(Job("b"));   // refused again, after an accepted job: warns again

        logger.Collector.Count.Should().Be(2);
    }

    [Fact]
    public void SkipsEveryJobWhenMailIsDisabled()
    {
        using var app = new JwtApiFactory();
        using var counts = MailTestService.Collect(app);
        var queue = app.Services.GetRequiredService<MailQueue>();
        var composed = false;

        queue.TryEnqueue(new MailJob("password_reset", (_, _) =>
        {
            composed = true;
            return Task.FromResult<MimeMessage?>(null);
        })).Should().BeTrue("the caller answers the same, queued or not");

        queue.Enabled.Should().BeFalse();
        queue.Count.Should().Be(0);
        composed.Should().BeFalse();
        counts.GetMeasurementSnapshot().Select(m => m.Tags[Tags.MailOutcome]).Should().Equal(MailOutcome.Skipped);
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 4)]
    [InlineData(4, 16)]
    [InlineData(9, 300)]
    [InlineData(60, 300)]
    public void DoublesTheDelayPerAttemptUpToFiveMinutes(int attempt, int seconds) =>
        MailSender.Backoff(TimeSpan.FromSeconds(2), attempt).Should().Be(TimeSpan.FromSeconds(seconds));
}
