using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace JwtApi.Hosting;

/// <summary>
/// Where metrics and traces go, bound from <c>Telemetry</c>. Each setting falls back to the OpenTelemetry
/// variable of the same meaning, so a platform that sets <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> for every service
/// switches JwtApi's exporter on too.
/// </summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";
    public const string DefaultServiceName = "jwtapi";

    /// <summary><c>service.name</c> of everything exported; else <c>OTEL_SERVICE_NAME</c>; else <c>jwtapi</c>.</summary>
    public string? ServiceName { get; set; }

    public OtlpOptions Otlp { get; set; } = new();

    /// <summary>The settings as configured, before they are checked: enough to decide what to register.</summary>
    internal static TelemetryOptions Read(IConfiguration configuration)
    {
        var options = configuration.GetSection(Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        options.FallBackTo(configuration);
        return options;
    }

    /// <summary>The OpenTelemetry variables, for the settings left empty.</summary>
    internal void FallBackTo(IConfiguration configuration)
    {
        ServiceName = FirstSet(ServiceName, configuration["OTEL_SERVICE_NAME"]) ?? DefaultServiceName;
        Otlp.Endpoint = FirstSet(Otlp.Endpoint, configuration[OtlpOptions.EndpointVariable]);
        Otlp.Protocol = FirstSet(Otlp.Protocol, configuration[OtlpOptions.ProtocolVariable]) ?? OtlpOptions.Grpc;
    }

    private static string? FirstSet(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v))?.Trim();
}

/// <summary>The OTLP exporter: off unless an endpoint is set.</summary>
public sealed class OtlpOptions
{
    public const string EndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string ProtocolVariable = "OTEL_EXPORTER_OTLP_PROTOCOL";
    public const string Grpc = "grpc";
    public const string HttpProtobuf = "http/protobuf";

    /// <summary>
    /// The collector's base URL, as <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> means it: used as is for gRPC; for
    /// http/protobuf, <c>v1/traces</c> and <c>v1/metrics</c> are appended to its path.
    /// </summary>
    public string? Endpoint { get; set; }

    /// <summary><c>grpc</c> (the .NET SDK's default, port 4317) or <c>http/protobuf</c> (port 4318).</summary>
    public string? Protocol { get; set; }

    internal OtlpExportProtocol ExportProtocol => Protocol == HttpProtobuf ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;

    /// <summary>The URL one signal is sent to.</summary>
    internal Uri SignalEndpoint(string signalPath)
    {
        var baseUrl = new Uri(Endpoint!, UriKind.Absolute);
        return ExportProtocol == OtlpExportProtocol.HttpProtobuf
            ? new Uri(baseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/" + signalPath)
            : baseUrl;
    }
}

/// <summary>A malformed endpoint or an unknown protocol stops start-up, instead of telemetry silently going nowhere.</summary>
internal sealed class TelemetryOptionsValidator : IValidateOptions<TelemetryOptions>
{
    private const string EndpointKeys = $"Telemetry:Otlp:Endpoint (or {OtlpOptions.EndpointVariable})";

    public ValidateOptionsResult Validate(string? name, TelemetryOptions options)
    {
        // nothing to check while nothing is exported (a platform may set OTEL_EXPORTER_OTLP_PROTOCOL for everyone)
        if (options.Otlp.Endpoint is not { } endpoint)
        {
            return ValidateOptionsResult.Success;
        }
        var failures = new List<string>();
        // The value is never repeated in a message: a URL with a password in it would end up in the log.
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            failures.Add($"{EndpointKeys} must be an absolute http:// or https:// URL, such as http://otel-collector:4317 " +
                         "(gRPC) or http://otel-collector:4318 (http/protobuf). Leave it empty to export nothing.");
        }
        else if (url.UserInfo.Length > 0)
        {
            failures.Add($"{EndpointKeys} must not hold a user name or password: send the collector's credentials as " +
                         "headers in OTEL_EXPORTER_OTLP_HEADERS (for example Authorization=Bearer ...).");
        }
        else if (url.Query.Length > 0 || url.Fragment.Length > 0)
        {
            failures.Add($"{EndpointKeys} must be the collector's base URL, without a query or fragment.");
        }
        if (options.Otlp.Protocol is not (OtlpOptions.Grpc or OtlpOptions.HttpProtobuf))
        {
            failures.Add($"Telemetry:Otlp:Protocol (or {OtlpOptions.ProtocolVariable}) must be '{OtlpOptions.Grpc}' or " +
                         $"'{OtlpOptions.HttpProtobuf}' (http/json is not supported by the .NET exporter).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

public static class TelemetrySetup
{
    /// <summary>
    /// The instruments and activities (<see cref="Telemetry"/>) always; the OpenTelemetry SDK with its OTLP
    /// exporter only when an endpoint is configured, so by default nothing is collected in the background and
    /// nothing is sent anywhere.
    /// </summary>
    public static IHostApplicationBuilder AddTelemetry(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section)
            .PostConfigure<IConfiguration>((options, configuration) => options.FallBackTo(configuration))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<TelemetryOptions>, TelemetryOptionsValidator>();
        services.AddSingleton<Telemetry>();

        var configured = TelemetryOptions.Read(builder.Configuration);
        if (configured.Otlp.Endpoint is null)
        {
            return builder;
        }

        // Endpoints are set from the checked options when the providers are built (after ValidateOnStart). Logs are
        // not exported: the audit log names users and addresses, and has its own route.
        services.AddOptions<OtlpExporterOptions>(Signal.Traces).Configure<IOptions<TelemetryOptions>>((exporter, options) => Point(exporter, options.Value.Otlp, "v1/traces"));
        services.AddOptions<OtlpExporterOptions>(Signal.Metrics).Configure<IOptions<TelemetryOptions>>((exporter, options) => Point(exporter, options.Value.Otlp, "v1/metrics"));

        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(configured.ServiceName!, serviceVersion: Telemetry.Version))
            .WithMetrics(metrics => metrics
                .AddMeter(Telemetry.Name)
                // ASP.NET Core's own meters: http.server.request.duration, Kestrel, rate limiting, authentication
                // and authorization results
                .AddAspNetCoreInstrumentation()
                .AddMeter("System.Runtime")
                .AddOtlpExporter(Signal.Metrics, configure: null))
            .WithTracing(tracing => tracing
                .AddSource(Telemetry.Name)
                .AddAspNetCoreInstrumentation(aspNetCore =>
                {
                    // Probes every few seconds would bury the requests; their counts stay in the metrics.
                    aspNetCore.Filter = http => !http.Request.Path.StartsWithSegments("/health");
                    // The span keeps the path, never the query: the instrumentation records its keys even when it
                    // redacts the values, and nothing of a query (a token sent the wrong way) belongs in a trace.
                    // Headers and bodies are not recorded at all (so no Authorization header, no /token form).
                    aspNetCore.EnrichWithHttpRequest = (activity, _) => activity.SetTag("url.query", null);
                })
                .AddOtlpExporter(Signal.Traces, configure: null));
        return builder;
    }

    private static void Point(OtlpExporterOptions exporter, OtlpOptions otlp, string signalPath)
    {
        exporter.Protocol = otlp.ExportProtocol;
        exporter.Endpoint = otlp.SignalEndpoint(signalPath);
    }

    /// <summary>Names of the exporter options of each signal.</summary>
    private static class Signal
    {
        public const string Traces = "jwtapi-traces";
        public const string Metrics = "jwtapi-metrics";
    }
}
