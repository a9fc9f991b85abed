using System.Security.Cryptography;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Options;
using MimeKit;

namespace JwtApi.Mail;

/// <summary>Where a composed mail goes. A failure is thrown; <see cref="MailSender"/> decides whether to try again.</summary>
public interface IMailTransport
{
    Task SendAsync(MimeMessage message, CancellationToken ct);
}

/// <summary>
/// MailKit, one connection per mail: connect with <c>Mail:Smtp:Security</c>, log in when a username is set, send,
/// say goodbye. Mails are few (resets, verifications); a pooled connection would only add a state to get wrong.
/// </summary>
internal sealed class SmtpTransport(IOptions<MailOptions> options) : IMailTransport
{
    public async Task SendAsync(MimeMessage message, CancellationToken ct)
    {
        var smtp = options.Value.Smtp;
        using var client = new SmtpClient { Timeout = (int)smtp.Timeout.TotalMilliseconds };
        await client.ConnectAsync(smtp.Host ?? throw new InvalidOperationException("Mail:Smtp:Host is not set."), smtp.Port, smtp.SocketOptions, ct);
        if (!string.IsNullOrEmpty(smtp.Username))
        {
            await client.AuthenticateAsync(smtp.Username, smtp.Password ?? "", ct);   // both or neither, checked at start
        }
        await client.SendAsync(message, ct);
        await client.DisconnectAsync(quit: true, ct);
    }
}

/// <summary>
/// Each mail as an <c>.eml</c> file in <c>Mail:PickupDirectory</c>, its path logged: Development's inbox, opened
/// with any mail client. Readable by the service's user only, as the files hold live links.
/// </summary>
internal sealed partial class PickupDirectoryTransport(IOptions<MailOptions> options, TimeProvider time, ILogger<PickupDirectoryTransport> logger)
    : IMailTransport
{
    public async Task SendAsync(MimeMessage message, CancellationToken ct)
    {
        var directory = options.Value.PickupDirectory!;
        Directory.CreateDirectory(directory);
        // time first, so a listing sorts by it; a random part, so two mails in one millisecond never collide
        var name = $"{time.GetUtcNow():yyyyMMdd'T'HHmmssfff'Z'}-{RandomNumberGenerator.GetHexString(8, lowercase: true)}.eml";
        var path = Path.Combine(directory, name);
        var partial = path + ".partial";   // a mail client watching the folder never opens half a file
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        await using (var file = new FileStream(partial, create))
        {
            await message.WriteToAsync(file, ct);
        }
        File.Move(partial, path);
        LogWritten(logger, path);
    }

    [LoggerMessage(EventId = 3005, EventName = "MailWritten", Level = LogLevel.Information, Message = "Mail written to {Path}")]
    private static partial void LogWritten(ILogger logger, string path);
}
