using System.ComponentModel.DataAnnotations;

namespace JwtApi.Clients;

/// <summary><c>Clients</c>: registered clients (machine to machine).</summary>
public sealed class ClientsOptions
{
    public const string Section = "Clients";

    /// <summary>How long the previous secret keeps working after <c>POST /clients/{id}/secret</c>, so a deployment can roll.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "30.00:00:00")]
    public TimeSpan SecretOverlap { get; init; } = TimeSpan.FromHours(24);
}

public static class ClientsSetup
{
    /// <summary>Client authentication and the options of registered clients.</summary>
    public static IHostApplicationBuilder AddClients(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ClientsOptions>().BindConfiguration(ClientsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddScoped<ClientAuthentication>();
        builder.Services.AddScoped<ClientCredentialsGrant>();
        builder.Services.AddSingleton<ClientRules>();
        return builder;
    }
}
