using System.Buffers;
using System.Net;
using MimeKit;
using SmtpServer;
using SmtpServer.Authentication;
using SmtpServer.Mail;
using SmtpServer.Net;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace JwtApi.Tests.Support;

/// <summary>A mail the test server accepted: the envelope, the parsed message, and who logged in to send it.</summary>
/// <param name="From">The envelope sender (MAIL FROM).</param>
/// <param name="To">The envelope recipients (RCPT TO).</param>
/// <param name="Message">The mail as received, parsed.</param>
/// <param name="User">The SMTP AUTH user of the session, or null when it did not log in.</param>
public sealed record ReceivedMail(string? From, IReadOnlyList<string> To, MimeMessage Message, string? User);

/// <summary>
/// A real SMTP server (the SmtpServer package) on 127.0.0.1 at a free port, plain text: what JwtApi's sender talks
/// to in tests. With a username it requires that login (AUTH). <see cref="FailNext"/> answers the next mails' DATA
/// with an error code, as a greylisting (451) or refusing (550) server would.
/// </summary>
public sealed class SmtpTestServer : IAsyncDisposable, IDisposable
{
    public const string Host = "127.0.0.1";

    private readonly Lock _lock = new();
    private readonly List<ReceivedMail> _received = [];
    private readonly List<(Func<ReceivedMail, bool> Match, TaskCompletionSource<ReceivedMail> Found)> _waiters = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly SmtpServer.SmtpServer _server;
    private readonly Task _running;
    private int _failCount;
    private int _failCode;
    private int _refused;
    private int _disposed;

    /// <param name="username">When set, every session must log in with it and <paramref name="password"/>.</param>
    /// <param name="password">The password of <paramref name="username"/>.</param>
    public SmtpTestServer(string? username = null, string? password = null)
    {
        Username = username;
        Password = password;
        var options = new SmtpServerOptionsBuilder()
            .ServerName("smtp.jwtapi.test")
            .Endpoint(endpoint => endpoint
                .Endpoint(new IPEndPoint(IPAddress.Loopback, 0))
                .AuthenticationRequired(username is not null)
                .AllowUnsecureAuthentication(true))   // no TLS on loopback: the login goes in plain text
            .Build();
        var listeners = new EndpointListenerFactory();
        listeners.EndpointStarted += (_, e) => Port = ((IPEndPoint)e.LocalEndPoint).Port;
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(listeners);
        services.Add(new Store(this));
        services.Add(new DelegatingUserAuthenticator((user, pass) => user == username && pass == password));
        _server = new SmtpServer.SmtpServer(options, services);
        // binds before its first await, so the port is known when this returns
        _running = _server.StartAsync(_stop.Token);
        if (Port == 0)
        {
            _running.GetAwaiter().GetResult();
            throw new InvalidOperationException("The SMTP test server did not start listening.");
        }
    }

    public int Port { get; private set; }

    public string? Username { get; }

    public string? Password { get; }

    /// <summary>Every mail accepted so far, in order.</summary>
    public IReadOnlyList<ReceivedMail> Received
    {
        get
        {
            lock (_lock)
            {
                return [.. _received];
            }
        }
    }

    /// <summary>How many mails were answered with the code of <see cref="FailNext"/>.</summary>
    public int Refused => Volatile.Read(ref _refused);

    /// <summary>Answers the DATA of the next <paramref name="count"/> mails with <paramref name="smtpCode"/> (451 temporary, 550 permanent).</summary>
    public void FailNext(int count, int smtpCode)
    {
        lock (_lock)
        {
            _failCount = count;
            _failCode = smtpCode;
        }
    }

    /// <summary>The first mail, received already or from now on, that <paramref name="match"/> accepts.</summary>
    /// <exception cref="TimeoutException">None within <paramref name="timeout"/>.</exception>
    public async Task<ReceivedMail> WaitForMailAsync(Func<ReceivedMail, bool> match, TimeSpan timeout)
    {
        var waiter = (match, new TaskCompletionSource<ReceivedMail>(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_lock)
        {
            if (_received.FirstOrDefault(match) is { } mail)
            {
                return mail;
            }
            _waiters.Add(waiter);
        }
        try
        {
            return await waiter.Item2.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"No matching mail within {timeout}; received {Received.Count}, refused {Refused}.");
        }
        finally
        {
            lock (_lock)
            {
                _waiters.Remove(waiter);
            }
        }
    }

    /// <summary>Waits for the first mail whose subject is <paramref name="subject"/>.</summary>
    public Task<ReceivedMail> WaitForSubjectAsync(string subject, TimeSpan? timeout = null) =>
        WaitForMailAsync(m => m.Message.Subject == subject, timeout ?? TimeSpan.FromSeconds(30));

    private SmtpResponse? Refusal()
    {
        lock (_lock)
        {
            if (_failCount == 0)
            {
                return null;
            }
            _failCount--;
            Interlocked.Increment(ref _refused);
            return new SmtpResponse((SmtpReplyCode)_failCode, "refused by the test");
        }
    }

    private void Accept(ReceivedMail mail)
    {
        lock (_lock)
        {
            _received.Add(mail);
            foreach (var (match, found) in _waiters.Where(w => w.Match(mail)))
            {
                found.TrySetResult(mail);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await _stop.CancelAsync();
        _server.Shutdown();
        try
        {
            await _running.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (OperationCanceledException)
        {
            // stopped
        }
        _stop.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private sealed class Store(SmtpTestServer server) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(
            ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            if (server.Refusal() is { } refusal)
            {
                return refusal;
            }
            using var stream = new MemoryStream(buffer.ToArray());
            var message = await MimeMessage.LoadAsync(stream, cancellationToken);
            server.Accept(new ReceivedMail(
                transaction.From?.AsAddress(), [.. transaction.To.Select(to => to.AsAddress())], message,
                context.Authentication.IsAuthenticated ? context.Authentication.User : null));
            return SmtpResponse.Ok;
        }
    }
}
