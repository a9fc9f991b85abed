using System.Threading.Channels;
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
/// <param name="Compose">Builds the message, or null. Never logs the token or the address it puts in it.</param>
public sealed record MailJob(string Kind, Func<IServiceProvider, CancellationToken, Task<MimeMessage?>> Compose);

/// <summary>
/// The bounded queue between the endpoints and the mail sender. Full, it refuses (the caller has answered or will
/// answer the client the same either way): a flood of requests costs memory up to the bound, never more.
/// </summary>
public sealed class MailQueue(int capacity)
{
    private readonly Channel<MailJob> _channel = Channel.CreateBounded<MailJob>(new BoundedChannelOptions(capacity)
    {
        FullMode = BoundedChannelFullMode.Wait,   // with TryWrite: refused when full, nothing dropped silently
        SingleReader = false,
        SingleWriter = false,
    });

    /// <summary>Queues the job; false when the queue is full (the job is not queued).</summary>
    public bool TryEnqueue(MailJob job) => _channel.Writer.TryWrite(job);

    public ChannelReader<MailJob> Reader => _channel.Reader;

    public int Count => _channel.Reader.Count;
}
