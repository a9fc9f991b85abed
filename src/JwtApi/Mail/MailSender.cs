using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Options;
using MimeKit;
using static JwtApi.Hosting.Telemetry;
using Telemetry = JwtApi.Hosting.Telemetry;

namespace JwtApi.Mail;

/// <summary>
/// Takes jobs off the <see cref="MailQueue"/>, composes each on a scope of its own, and sends it, trying a
/// temporary failure again after a doubling delay. Up to <see cref="Concurrency"/> jobs at once, so a mail waiting
/// for its next attempt holds one turn and not the queue. On shutdown it stops taking jobs; those still queued are
/// lost with the process (the queue lives in memory: a user asks for the mail again).
/// </summary>
/// <remarks>
/// The logs name the job's kind, the attempt and what failed (an SMTP status code, an exception type), never a
/// recipient, a subject, a body or an exception's message: the server's answer often quotes the address
/// ("550 5.1.1 &lt;bob@example.com&gt;: user unknown"), and a body carries a live token.
/// </remarks>
public sealed partial class MailSender(
    MailQueue queue, IServiceScopeFactory scopes, IMailTransport transport, IOptions<MailOptions> options,
    TimeProvider time, Telemetry telemetry, IHostEnvironment env, ILogger<MailSender> logger) : BackgroundService
{
    /// <summary>Jobs handled at once.</summary>
    public const int Concurrency = 4;

    /// <summary>The longest wait between two attempts, however many doublings.</summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            return;
        }
        DescribeTransport(settings);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = stoppingToken };
        try
        {
            await Parallel.ForEachAsync(queue.Reader.ReadAllAsync(stoppingToken), parallel, HandleAsync);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down
        }
    }

    /// <summary>One job, start to end. Never throws but on shutdown: a throw would end every other job too.</summary>
    private async ValueTask HandleAsync(MailJob job, CancellationToken ct)
    {
        try
        {
            if (await ComposeAsync(job, ct) is { } message)
            {
                await SendAsync(job.Kind, message, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // shutting down mid-job: not counted, as it neither failed nor was sent
        }
    }

    private async Task<MimeMessage?> ComposeAsync(MailJob job, CancellationToken ct)
    {
        // disposed before sending: no database connection held through the retries
        await using var scope = scopes.CreateAsyncScope();
        try
        {
            var message = await job.Compose(scope.ServiceProvider, ct);
            if (message is null)
            {
                telemetry.MailHandled(job.Kind, MailOutcome.Skipped);
            }
            return message;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // the type and the stack, not the message: it may quote the address or the token being composed
            telemetry.MailHandled(job.Kind, MailOutcome.Failed);
            LogComposeFailed(logger, job.Kind, e.GetType().FullName!, e.StackTrace);
            return null;
        }
    }

    private async Task SendAsync(string kind, MimeMessage message, CancellationToken ct)
    {
        var settings = options.Value;
        if (message.From.Count == 0)
        {
            message.From.Add(MailOptions.ParseFrom(settings.From)!);   // checked at start
        }
        message.Date = time.GetUtcNow();
        for (var attempt = 1; ; attempt++)
        {
            string failure;
            bool temporary;
            try
            {
                await transport.SendAsync(message, ct);
                telemetry.MailHandled(kind, MailOutcome.Sent);
                LogSent(logger, kind, attempt);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                (failure, temporary) = Classify(e);
            }
            if (!temporary || attempt >= settings.MaxAttempts)
            {
                telemetry.MailHandled(kind, MailOutcome.Failed);
                LogFailed(logger, kind, attempt, failure, temporary ? "no attempts left (Mail:MaxAttempts)" : "permanent");
                return;
            }
            var delay = Backoff(settings.RetryDelay, attempt);
            var wait = Task.Delay(delay, time, ct);
            // logged once the timer is set, so that a test's fake clock moved after this line passes it
            LogRetrying(logger, kind, attempt, failure, delay);
            await wait;
        }
    }

    /// <summary>The wait after failed attempt number <paramref name="attempt"/>: doubling from the first, capped.</summary>
    public static TimeSpan Backoff(TimeSpan first, int attempt) =>
        TimeSpan.FromTicks(Math.Min(first.Ticks * (1L << Math.Clamp(attempt - 1, 0, 20)), MaxRetryDelay.Ticks));

    /// <summary>
    /// What failed, in words safe to log, and whether it is worth another attempt: a 4xx answer (greylisting, a
    /// full mailbox, a busy server) or a connection that broke or timed out is; a 5xx answer, a refused login or a
    /// failed TLS handshake is not (the same mail would meet the same answer).
    /// </summary>
    public static (string Failure, bool Temporary) Classify(Exception e) => e switch
    {
        SmtpCommandException smtp => ($"SMTP {(int)smtp.StatusCode} ({smtp.ErrorCode})", (int)smtp.StatusCode is >= 400 and < 500),
        SocketException socket => ($"{nameof(SocketException)} ({socket.SocketErrorCode})", true),
        SmtpProtocolException or ServiceNotConnectedException or IOException or TimeoutException or OperationCanceledException => (e.GetType().Name, true),
        _ => (e.GetType().Name, false),
    };

    private void DescribeTransport(MailOptions settings)
    {
        if (!string.IsNullOrWhiteSpace(settings.PickupDirectory))
        {
            LogPickup(logger, settings.PickupDirectory);
            return;
        }
        var smtp = settings.Smtp;
        LogSmtp(logger, smtp.Host!, smtp.Port, smtp.Security, string.IsNullOrEmpty(smtp.Username) ? "no login" : "logging in");
        if (smtp.Security == SmtpSecurity.None && !string.IsNullOrEmpty(smtp.Username) && !env.IsDevelopment())
        {
            LogPlainTextLogin(logger);
        }
    }

    [LoggerMessage(EventId = 3002, EventName = "MailSent", Level = LogLevel.Information, Message = "Mail {Kind} sent at attempt {Attempt}")]
    private static partial void LogSent(ILogger logger, string kind, int attempt);

    [LoggerMessage(EventId = 3003, EventName = "MailRetrying", Level = LogLevel.Warning,
        Message = "Mail {Kind} attempt {Attempt} failed: {Failure}; trying again in {Delay}")]
    private static partial void LogRetrying(ILogger logger, string kind, int attempt, string failure, TimeSpan delay);

    [LoggerMessage(EventId = 3004, EventName = "MailFailed", Level = LogLevel.Error,
        Message = "Mail {Kind} not sent: attempt {Attempt} failed: {Failure}, {Reason}")]
    private static partial void LogFailed(ILogger logger, string kind, int attempt, string failure, string reason);

    [LoggerMessage(EventId = 3006, EventName = "MailComposeFailed", Level = LogLevel.Error,
        Message = "Mail {Kind} not sent: composing it threw {ExceptionType}\n{StackTrace}")]
    private static partial void LogComposeFailed(ILogger logger, string kind, string exceptionType, string? stackTrace);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Information, Message = "Mail is written to {PickupDirectory} as .eml files, not sent")]
    private static partial void LogPickup(ILogger logger, string pickupDirectory);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Information, Message = "Mail is sent through {Host}:{Port} ({Security}, {Login})")]
    private static partial void LogSmtp(ILogger logger, string host, int port, SmtpSecurity security, string login);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Warning,
        Message = "Mail:Smtp:Security is None: the SMTP password and every mail's link cross the network in plain text. Use StartTls or SslOnConnect unless the server is on this host")]
    private static partial void LogPlainTextLogin(ILogger logger);
}
