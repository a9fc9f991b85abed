using JwtApi.Mail;
using JwtApi.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace JwtApi.Tests.Mail;

/// <summary>Development with no SMTP server: each mail is an .eml file in the data folder, its path logged.</summary>
public sealed class MailPickupTests
{
    [Fact]
    public async Task WritesAParseableEmlFileInDevelopmentWithNoSmtpHost()
    {
        // Mail:Enabled comes from appsettings.Development.json, the folder from the Development default
        using var app = new JwtApiFactory { Environment = "Development" };
        app.Settings["Passwords:WorkFactor"] = "10";
        using var server = app.WithWebHostBuilder(web => web.ConfigureLogging(logging => logging.AddFakeLogging()));
        var subject = "Pickup " + Guid.NewGuid();

        server.Services.GetRequiredService<MailQueue>().Enqueue(MailTestService.Job("password_reset", "kim@example.com", subject, "token-kim"));

        var written = await MailTestService.WaitForLogAsync(server.Services.GetFakeLogCollector(), r => r.Id.Name == "MailWritten");
        var path = written.GetStructuredStateValue("Path")!;
        written.Level.Should().Be(LogLevel.Information);
        Path.GetDirectoryName(path).Should().Be(Path.Combine(app.DataPath, "mail"));
        Path.GetExtension(path).Should().Be(".eml");
        var message = await MimeMessage.LoadAsync(path);
        message.Subject.Should().Be(subject);
        message.To.Mailboxes.Select(to => to.Address).Should().Equal("kim@example.com");
        message.From.Mailboxes.Select(from => from.Address).Should().Equal("no-reply@localhost");
        message.TextBody.Should().Contain("token-kim");
        Directory.GetFiles(Path.GetDirectoryName(path)!).Should().Equal(path);   // no .partial left behind
        if (!OperatingSystem.IsWindows())
        {
            File.GetUnixFileMode(path).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
