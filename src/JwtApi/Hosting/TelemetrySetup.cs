namespace JwtApi.Hosting;

public static class TelemetrySetup
{
    /// <summary>The instruments and activities (<see cref="Telemetry"/>): read in-process, for now, by dotnet-counters and listeners.</summary>
    public static IHostApplicationBuilder AddTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<Telemetry>();
        return builder;
    }
}
