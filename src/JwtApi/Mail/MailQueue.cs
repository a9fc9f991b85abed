using System.Threading.Channels;
using JwtApi.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using MimeKit;

namespace JwtApi.Mail;

/// <summary>
/// One mail to send, composed in the background: <see cref="Compose"/> runs on the sender's own scope, after the
/// request that queued it has been answered, so an endpoint such as <c>/password/forgot</c> answers in the same
/// time whether or not the account exists. It returns null when there is nothing to send (no such account, no
/// verified address).
/// </summary>
/// <param name="Kind">A code from a short fixed list (password_reset, email_verification, password_changed,
/// email_changed): the metrics tag and what the logs say, never an address or a token.</param>
/// <param name="Compose">Builds the message, or null. Never logs the token or the address it puts in it. A message
/// without a From is sent from <c>Mail:From</c>.</param>
public sealed record MailJob(string Kind, Func<IServiceProvider, CancellationToken, Task<MimeMessage?>> Compose);

/// <summary>
/// The bounded queue between the endpoints and the mail sender. Full, it refuses (the caller has answered or will
/// answer the client the same either way): a flood of requests costs memory up to the bound, never more.
/// </summary>
public sealed partial class MailQueue
{
    private readonly Channel<MailJob> _channel;
    private readonly int _capacity;
    private readonly Telemetry? _telemetry;
    private readonly ILogger _logger;
    private int _refusing;   // 1 from the first refusal to the next accepted job: one warning per spell, not per request

    /// <param name="capacity"><c>Mail:QueueCapacity</c>.</param>
    /// <param name="telemetry">Counts what the queue refuses or skips, and reports its length.</param>
    /// <param name="enabled"><c>Mail:Enabled</c>: false, every job is skipped at once (counted, never composed).</param>
    /// <param name="logger">Warns when the queue starts refusing.</param>
    public MailQueue(int capacity, Telemetry? telemetry = null, bool enabled = true, ILogger<MailQueue>? logger = null)
    {
        _capacity = capacity;
        _channel = Channel.CreateBounded<MailJob>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,   // with TryWrite: refused when full, nothing dropped silently
            SingleReader = false,
            SingleWriter = false,
        });
        _telemetry = telemetry;
        _logger = logger ?? NullLogger<MailQueue>.Instance;
        Enabled = enabled;
        telemetry?.ObserveMailQueue(() => Count);
    }

    /// <summary><c>Mail:Enabled</c>: whether a queued job is ever sent. An endpoint may answer differently without mail.</summary>
    public bool Enabled { get; }

    /// <summary>
    /// Queues the job; false when the queue is full (the job is not queued, and is counted as dropped). True when
    /// <see cref="Enabled"/> is false, though nothing is queued: the job is counted as skipped.
    /// </summary>
    public bool TryEnqueue(MailJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (!Enabled)
        {
            _telemetry?.MailHandled(job.Kind, Telemetry.MailOutcome.Skipped);
            return true;
        }
        if (_channel.Writer.TryWrite(job))
        {
            Volatile.Write(ref _refusing, 0);
            return true;
        }
        _telemetry?.MailHandled(job.Kind, Telemetry.MailOutcome.Dropped);
        if (Interlocked.Exchange(ref _refusing, 1) == 0)
        {
            LogFull(_logger, job.Kind, _capacity);
        }
        return false;
    }

    /// <summary><see cref="TryEnqueue"/> for a caller that answers the same either way: a refusal is counted and logged there.</summary>
    public void Enqueue(MailJob job) => _ = TryEnqueue(job);

    public ChannelReader<MailJob> Reader => _channel.Reader;

    public int Count => _channel.Reader.Count;

    [LoggerMessage(EventId = 3001, EventName = "MailQueueFull", Level = LogLevel.Warning,
        Message = "Mail queue full ({Capacity} mails, Mail:QueueCapacity): dropping mails, the first a {Kind}, until it has room")]
    private static partial void LogFull(ILogger logger, string kind, int capacity);
}
