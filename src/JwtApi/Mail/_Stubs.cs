// TEMPORARY until the mail branch merges
namespace JwtApi.Mail;

public sealed class MailOptions
{
    public bool Enabled { get; init; }
    public string From { get; init; } = "JwtApi <no-reply@localhost>";
}

public sealed class MailLinks
{
    public string Reset(string token) => "http://localhost/demo/#reset-password?token=" + Uri.EscapeDataString(token);
    public string Verify(string token) => "http://localhost/demo/#verify-email?token=" + Uri.EscapeDataString(token);
}

public static class MailSetup
{
    public static IHostApplicationBuilder AddMail(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<MailOptions>().BindConfiguration("Mail");
        builder.Services.AddSingleton(new MailQueue(1000));
        builder.Services.AddSingleton<MailLinks>();
        return builder;
    }
}
