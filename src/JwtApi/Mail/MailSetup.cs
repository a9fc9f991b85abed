using JwtApi.Hosting;
using JwtApi.Storage;
using Microsoft.Extensions.Options;

namespace JwtApi.Mail;

public static class MailSetup
{
    /// <summary>
    /// Mail to users: the options (checked at start), the queue the endpoints put jobs on, the links mails carry,
    /// and the sender with its transport (SMTP, or a folder of .eml files). With <c>Mail:Enabled</c> false the
    /// queue is still there and skips every job, so a caller needs no branch.
    /// </summary>
    public static IHostApplicationBuilder AddMail(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<MailOptions>().BindConfiguration(MailOptions.Section)
            .PostConfigure<DataDirectory, IHostEnvironment>((options, data, env) => options.PickupDirectory = PickupDirectory(options, data, env))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<MailOptions>, MailOptionsAnnotations>();
        services.AddSingleton<IValidateOptions<MailOptions>, MailOptionsValidator>();
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<MailOptions>>().Value;
            return new MailQueue(options.QueueCapacity, sp.GetRequiredService<Telemetry>(), options.Enabled, sp.GetRequiredService<ILogger<MailQueue>>());
        });
        services.AddSingleton<MailLinks>();
        services.AddSingleton<IMailTransport>(sp => string.IsNullOrWhiteSpace(sp.GetRequiredService<IOptions<MailOptions>>().Value.PickupDirectory)
            ? ActivatorUtilities.CreateInstance<SmtpTransport>(sp)
            : ActivatorUtilities.CreateInstance<PickupDirectoryTransport>(sp));
        services.AddHostedService<MailSender>();
        return builder;
    }

    /// <summary>The configured folder from the content root; in Development with no SMTP host, <c>mail</c> in the data folder.</summary>
    private static string? PickupDirectory(MailOptions options, DataDirectory data, IHostEnvironment env) =>
        !string.IsNullOrWhiteSpace(options.PickupDirectory) ? Path.GetFullPath(options.PickupDirectory, env.ContentRootPath)
        : env.IsDevelopment() && string.IsNullOrWhiteSpace(options.Smtp.Host) ? Path.Combine(data.Path, "mail")
        : null;
}
