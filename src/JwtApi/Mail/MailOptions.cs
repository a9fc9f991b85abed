using System.ComponentModel.DataAnnotations;
using JwtApi.Hosting;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace JwtApi.Mail;

/// <summary>Mail to users (<c>Mail</c>): password-reset and address-verification links.</summary>
public sealed class MailOptions
{
    public const string Section = "Mail";

    /// <summary>
    /// Sends mail. Off (the default; on in appsettings.Development.json), nothing is sent and no other <c>Mail</c>
    /// setting is needed: mails are counted as skipped.
    /// </summary>
    public bool Enabled { get; init; }

    /// <summary>
    /// The sender of every mail: an address with an optional display name, such as
    /// <c>JwtApi &lt;no-reply@example.com&gt;</c>. Outside Development, an address of your own domain (receiving
    /// servers refuse or bin mail from <c>@localhost</c>).
    /// </summary>
    public string From { get; init; } = "JwtApi <no-reply@localhost>";

    /// <summary>The SMTP server mail is handed to.</summary>
    [Required, ValidateObjectMembers]
    public SmtpOptions Smtp { get; init; } = new();

    /// <summary>
    /// A folder each mail is written to as an <c>.eml</c> file (a mail client opens it) instead of being sent; its
    /// path is logged. In Development with no <c>Mail:Smtp:Host</c>: <c>mail</c> in the data folder. A relative path
    /// is taken from the content root. Not together with <c>Mail:Smtp:Host</c>. The files hold live reset links: for
    /// Development and tests, not production.
    /// </summary>
    public string? PickupDirectory { get; set; }

    /// <summary>
    /// Templates of the links mails carry, <c>{token}</c> standing for the token: an absolute http(s) URL of the app
    /// that handles them, or a path on this service, resolved against <c>Hosting:PublicOrigin</c> (in Development
    /// without one, the server's own address). Keep the token after a <c>#</c>: a fragment never reaches a server
    /// log or a <c>Referer</c> header.
    /// </summary>
    public MailLinkOptions Links { get; init; } = new();

    /// <summary>
    /// Mails waiting for the sender. Past it a new one is dropped (counted, and logged once per spell), so a
    /// flood of requests costs memory up to this bound and no more.
    /// </summary>
    [Range(1, 1_000_000)]
    public int QueueCapacity { get; init; } = 1000;

    /// <summary>
    /// Attempts at sending one mail, the first included. Only a temporary failure (an SMTP 4xx answer, a
    /// connection, I/O or time-out error) is tried again; a 5xx answer is final.
    /// </summary>
    [Range(1, 20)]
    public int MaxAttempts { get; init; } = 5;

    /// <summary>The wait before the second attempt; it doubles before each next one, up to 5 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary><see cref="From"/> as a mailbox, or null when it is not one address with a domain.</summary>
    public static MailboxAddress? ParseFrom(string? from) =>
        MailboxAddress.TryParse(from ?? "", out var mailbox) && mailbox.Domain.Length > 0 && mailbox.LocalPart.Length > 0 ? mailbox : null;
}

/// <summary>How an SMTP connection is secured (<c>Mail:Smtp:Security</c>).</summary>
public enum SmtpSecurity
{
    /// <summary>Plain text, password and links readable on the way: a relay on the same host or network only.</summary>
    None,

    /// <summary>STARTTLS, required: the connection fails when the server does not offer it (port 587).</summary>
    StartTls,

    /// <summary>TLS from the first byte (port 465).</summary>
    SslOnConnect,

    /// <summary>
    /// TLS on connect for port 465, else STARTTLS when the server offers it, plain text when not: someone on the path
    /// can strip the offer. Prefer <see cref="StartTls"/>.
    /// </summary>
    Auto,
}

/// <summary>The SMTP server (<c>Mail:Smtp</c>); one connection per mail.</summary>
public sealed class SmtpOptions
{
    /// <summary>
    /// The SMTP server's host name, such as <c>smtp.example.com</c>. Empty: mail goes to <c>Mail:PickupDirectory</c>;
    /// with <c>Mail:Enabled</c> outside Development one of the two must be set.
    /// </summary>
    public string? Host { get; init; }

    /// <summary>Its port: 587 for STARTTLS (submission), 465 for TLS on connect, 25 for a local relay.</summary>
    [Range(1, 65535)]
    public int Port { get; init; } = 587;

    /// <summary>The user to log in as (SMTP AUTH); empty: no login. Set both or neither of it and <c>Mail:Smtp:Password</c>.</summary>
    public string? Username { get; init; }

    /// <summary>Its password: a secret, from the environment (<c>Mail__Smtp__Password</c>) or a secret store, never the repository.</summary>
    public string? Password { get; init; }

    /// <summary>How the connection is secured.</summary>
    [EnumDataType(typeof(SmtpSecurity))]
    public SmtpSecurity Security { get; init; } = SmtpSecurity.StartTls;

    /// <summary>How long one SMTP operation (connect, each command) may take before the attempt fails (and is tried again).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    internal SecureSocketOptions SocketOptions => Security switch
    {
        SmtpSecurity.None => SecureSocketOptions.None,
        SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
        SmtpSecurity.Auto => SecureSocketOptions.Auto,
        _ => SecureSocketOptions.StartTls,
    };
}

/// <summary>
/// The links in mails (<c>Mail:Links</c>): templates where <c>{token}</c> stands for the token, for the app that
/// handles them. An absolute http(s) URL, or a path on this service (resolved against <c>Hosting:PublicOrigin</c>).
/// Keep the token after a <c>#</c>: a fragment never reaches a server log or a <c>Referer</c> header.
/// </summary>
public sealed class MailLinkOptions
{
    public const string Token = "{token}";

    /// <summary>The link of a password-reset mail.</summary>
    public string ResetUrl { get; init; } = $"{Demo.Path}/#reset-password?token={Token}";

    /// <summary>The link of an address-verification mail.</summary>
    public string VerifyUrl { get; init; } = $"{Demo.Path}/#verify-email?token={Token}";

    internal IEnumerable<(string Key, string Template)> Templates =>
    [
        ($"{MailOptions.Section}:Links:{nameof(ResetUrl)}", ResetUrl),
        ($"{MailOptions.Section}:Links:{nameof(VerifyUrl)}", VerifyUrl),
    ];
}

[OptionsValidator]
internal sealed partial class MailOptionsAnnotations : IValidateOptions<MailOptions>;

/// <summary>What annotations cannot say: the sender, the credentials, where mail goes, and the links' origin.</summary>
internal sealed class MailOptionsValidator(IHostEnvironment env, IOptions<PublicOriginOptions> origin) : IValidateOptions<MailOptions>
{
    public ValidateOptionsResult Validate(string? name, MailOptions options)
    {
        var failures = new List<string>();
        var from = MailOptions.ParseFrom(options.From);
        if (from is null)
        {
            failures.Add($"Mail:From is '{options.From}': it must be one mail address, with an optional display name, such as " +
                         "'JwtApi <no-reply@example.com>' (environment variable Mail__From).");
        }
        if (string.IsNullOrEmpty(options.Smtp.Username) != string.IsNullOrEmpty(options.Smtp.Password))
        {
            failures.Add("Mail:Smtp:Username and Mail:Smtp:Password go together: set both to log in to the SMTP server, or neither " +
                         "(environment variables Mail__Smtp__Username and Mail__Smtp__Password).");
        }
        if (!string.IsNullOrWhiteSpace(options.Smtp.Host) && !string.IsNullOrWhiteSpace(options.PickupDirectory))
        {
            failures.Add("Mail:Smtp:Host and Mail:PickupDirectory are both set: mail goes to one of them. Remove Mail:PickupDirectory " +
                         "to send through the SMTP server, or Mail:Smtp:Host to write .eml files.");
        }
        foreach (var (key, template) in options.Links.Templates)
        {
            if (MailLinks.Classify(template) == LinkTemplate.Invalid)
            {
                failures.Add($"{key} is '{template}': it must contain {MailLinkOptions.Token} (where the token goes) and be an " +
                             $"absolute http(s) URL, such as https://app.example.com/#reset-password?token={MailLinkOptions.Token}, " +
                             $"or a path on this service starting with a single '/', such as {Demo.Path}/#reset-password?token={MailLinkOptions.Token}.");
            }
        }
        if (options.Enabled && !env.IsDevelopment())
        {
            AddProductionFailures(options, from, failures);
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private void AddProductionFailures(MailOptions options, MailboxAddress? from, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(options.Smtp.Host) && string.IsNullOrWhiteSpace(options.PickupDirectory))
        {
            failures.Add("Mail:Enabled is true but mail has nowhere to go: set Mail:Smtp:Host (environment variable Mail__Smtp__Host) " +
                         "to your SMTP server, with Mail:Smtp:Port, Mail:Smtp:Security, Mail:Smtp:Username and Mail:Smtp:Password as it needs; " +
                         "or Mail:PickupDirectory to write each mail to a folder; or set Mail:Enabled to false.");
        }
        if (from is not null && from.Domain.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            failures.Add($"Mail:From is '{options.From}': outside Development it must be an address of your own domain, such as " +
                         "'JwtApi <no-reply@example.com>' (environment variable Mail__From); mail from @localhost is refused or binned.");
        }
        if (origin.Value.Origin is null)
        {
            foreach (var (key, template) in options.Links.Templates.Where(t => MailLinks.Classify(t.Template) == LinkTemplate.Relative))
            {
                failures.Add($"{key} is the path '{template}' but Hosting:PublicOrigin is not set, so the link has no origin: set " +
                             "Hosting:PublicOrigin (environment variable Hosting__PublicOrigin) to the URL users reach this service at, " +
                             $"such as https://auth.example.com, or make {key} an absolute URL. A link is never built from a request's Host header.");
            }
        }
    }
}
