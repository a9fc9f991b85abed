using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using JwtApi.Tests.Support;
using MimeKit;

namespace JwtApi.Tests.Recovery;

/// <summary>The service sending its mail to a real SMTP server on loopback, and the steps a user takes through that mail.</summary>
public sealed partial class RecoveryApp : JwtApiFactory
{
    public static readonly TimeSpan MailWait = TimeSpan.FromSeconds(30);

    public RecoveryApp()
    {
        UseMail(Smtp);
        Settings["Mail:RetryDelay"] = "00:00:01";
    }

    public SmtpTestServer Smtp { get; } = new();

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Smtp.Dispose();
        }
    }

    /// <summary>A unique address at a domain no mail ever leaves this machine for.</summary>
    public static string NewAddress(string hint = "user") => $"{hint}-{Guid.NewGuid():N}"[..20] + "@example.test";

    /// <summary>The first mail to <paramref name="address"/> with <paramref name="subject"/> the SMTP server received.</summary>
    public async Task<MimeMessage> MailToAsync(string address, string subject) =>
        (await Smtp.WaitForMailAsync(m => m.Message.To.Mailboxes.Any(b => b.Address == address) && m.Message.Subject == subject, MailWait)).Message;

    /// <summary>The link in a mail, as the user would click it.</summary>
    public static Uri LinkIn(MimeMessage message) =>
        new(LinkPattern().Match(message.TextBody ?? "").Value);

    /// <summary>The token the app that handles the link reads from its fragment (#…?token=…).</summary>
    public static string TokenIn(MimeMessage message)
    {
        var fragment = LinkIn(message).Fragment;
        var token = TokenPattern().Match(fragment);
        token.Success.Should().BeTrue($"the link's fragment '{fragment}' carries the token");
        return Uri.UnescapeDataString(token.Groups[1].Value);
    }

    /// <summary>A user registered through /register with <paramref name="email"/>, its address verified through the mail when asked.</summary>
    public async Task<TestUser> RegisterWithEmailAsync(string email, bool verify = true)
    {
        var username = $"mail{Guid.NewGuid():N}"[..16];
        var password = $"pw-{Guid.NewGuid():N}";
        using var client = CreateClient();
        var response = await client.PostAsJsonAsync("/register", new { username, password, email });
        response.Should().HaveStatusCode(HttpStatusCode.Created);
        var user = new TestUser((await response.JsonAsync()).GetProperty("id").GetGuid(), username, password);
        if (verify)
        {
            var mail = await MailToAsync(email, "Confirm your email address");
            (await client.PostAsJsonAsync("/email/verify", new { token = TokenIn(mail) })).Should().HaveStatusCode(HttpStatusCode.OK);
        }
        return user;
    }

    public async Task<HttpResponseMessage> ForgotAsync(object body)
    {
        using var client = CreateClient();
        return await client.PostAsJsonAsync("/password/forgot", body);
    }

    public async Task<HttpResponseMessage> ResetAsync(string token, string newPassword)
    {
        using var client = CreateClient();
        return await client.PostAsJsonAsync("/password/reset", new { token, new_password = newPassword });
    }

    [GeneratedRegex(@"https?://\S+")]
    private static partial Regex LinkPattern();

    [GeneratedRegex(@"[?&]token=([^&]+)")]
    private static partial Regex TokenPattern();
}
