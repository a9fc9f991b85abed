using System.Net;
using System.Net.Http.Json;
using JwtApi.Hosting;
using JwtApi.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace JwtApi.Tests.Hosting;

/// <summary>
/// The OTLP exporter: off unless an endpoint is configured; when on, metrics and traces reach the collector, and
/// nothing that reaches it holds a credential, a token, a query string or a client address.
/// </summary>
public sealed class TelemetryExportTests
{
    private const string MetricsService = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
    private const string TraceService = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

    /// <summary>Sends what is buffered now, as the periodic reader and the batch processor would later.</summary>
    private static void Flush(WebApplicationFactory<Program> app)
    {
        app.Services.GetRequiredService<MeterProvider>().ForceFlush().Should().BeTrue();
        app.Services.GetRequiredService<TracerProvider>().ForceFlush().Should().BeTrue();
    }

    [Fact]
    public async Task RegistersNoExporterAndNoBackgroundWorkByDefault()
    {
        using var app = new JwtApiFactory();
        app.CreateClient();

        app.Services.GetService<MeterProvider>().Should().BeNull();
        app.Services.GetService<TracerProvider>().Should().BeNull();
        app.Services.GetServices<IHostedService>().Should().NotContain(s => s.GetType().FullName!.StartsWith("OpenTelemetry", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Telemetry:Otlp:Endpoint", "Telemetry:Otlp:Protocol", "http/protobuf", "/otlp", "/otlp/v1/metrics", "/otlp/v1/traces")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf", "", "/v1/metrics", "/v1/traces")]
    [InlineData("Telemetry:Otlp:Endpoint", "Telemetry:Otlp:Protocol", "grpc", "", MetricsService, TraceService)]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "", MetricsService, TraceService)]
    public async Task ExportsMetricsAndTracesToTheConfiguredCollector(
        string endpointKey, string protocolKey, string protocol, string basePath, string metricsPath, string tracesPath)
    {
        await using var collector = await FakeOtlpCollector.StartAsync(grpc: protocol == "grpc");
        using var app = new JwtApiFactory();
        app.Settings[endpointKey] = collector.Address + basePath;
        app.Settings[protocolKey] = protocol;
        var user = await app.RegisterUserAsync();

        await app.LoginAsync(user);
        Flush(app);

        var metrics = collector.Received.Where(e => e.Path == metricsPath).ToList();
        var traces = collector.Received.Where(e => e.Path == tracesPath).ToList();
        metrics.Should().Contain(e => e.Holds(Telemetry.Instruments.Logins) && e.Holds(Telemetry.LoginOutcome.Success));
        // with ASP.NET Core's and the runtime's own
        metrics.Should().Contain(e => e.Holds("aspnetcore.authentication.authenticate.duration") && e.Holds("dotnet.process.cpu.time"));
        traces.Should().Contain(e => e.Holds(Telemetry.Activities.SignIn) && e.Holds(Telemetry.Activities.PasswordVerify));
        collector.Received.Should().OnlyContain(e => e.Holds(TelemetryOptions.DefaultServiceName) &&
            e.ContentType == (protocol == "grpc" ? "application/grpc" : "application/x-protobuf"));
    }

    [Fact]
    public async Task ExportsWithTheConfiguredServiceNameAndTheCollectorsHeaders()
    {
        await using var collector = await FakeOtlpCollector.StartAsync();
        using var app = new JwtApiFactory();
        app.Settings["Telemetry:Otlp:Endpoint"] = collector.Address;
        app.Settings["Telemetry:Otlp:Protocol"] = "http/protobuf";
        app.Settings["OTEL_SERVICE_NAME"] = "ignored-when-the-setting-is-set";
        app.Settings["Telemetry:ServiceName"] = "auth-eu-west";
        app.Settings["OTEL_EXPORTER_OTLP_HEADERS"] = "Authorization=Bearer collector-key";

        (await app.CreateClient().GetAsync("/health")).Should().HaveStatusCode(HttpStatusCode.OK);
        Flush(app);

        collector.Received.Should().NotBeEmpty().And.OnlyContain(e =>
            e.Holds("auth-eu-west") && !e.Holds("ignored-when") && e.Authorization == "Bearer collector-key");
    }

    [Fact]
    public async Task ExportsNoCredentialTokenQueryStringOrClientAddress()
    {
        await using var collector = await FakeOtlpCollector.StartAsync();
        var app = new JwtApiFactory();
        app.Settings["Telemetry:Otlp:Endpoint"] = collector.Address;
        app.Settings["Telemetry:Otlp:Protocol"] = "http/protobuf";
        const string address = "203.0.113.77";
        const string queryValue = "query-secret-4f1c2a";
        var server = app.WithWebHostBuilder(web =>
            web.ConfigureTestServices(services => services.AddSingleton<IStartupFilter>(new ClientAddressFromHeader())));
        HttpClient Client(string? token = null)
        {
            var client = server.CreateClient();
            client.DefaultRequestHeaders.Add(ClientAddressFromHeader.Header, address);
            if (token is not null)
            {
                client.DefaultRequestHeaders.Authorization = new("Bearer", token);
            }
            return client;
        }

        var username = "ivy-" + Guid.NewGuid().ToString("N")[..8];
        var password = "ivy-secret-passphrase-" + Guid.NewGuid().ToString("N")[..8];
        (await Client().PostAsJsonAsync("/register", new { username, password })).Should().HaveStatusCode(HttpStatusCode.Created);
        var login = TokenSet.From(await (await Client().LoginAsync(username, password)).EnsureSuccessStatusCode().JsonAsync());
        (await Client().LoginAsync(username, "wrong-" + password)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "password", ["username"] = username, ["password"] = password });
        var viaForm = TokenSet.From(await (await Client().PostAsync("/token", form)).EnsureSuccessStatusCode().JsonAsync());
        (await Client(login.Access).GetAsync($"/me?access_token={queryValue}")).Should().HaveStatusCode(HttpStatusCode.OK);
        (await Client(login.Access + "x").GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        var refreshed = TokenSet.From(await (await Client().PostAsJsonAsync("/refresh", new { refresh_token = login.Refresh })).EnsureSuccessStatusCode().JsonAsync());
        (await Client(refreshed.Access).PostAsJsonAsync("/logout", new { refresh_token = refreshed.Refresh })).Should().HaveStatusCode(HttpStatusCode.NoContent);
        // A request span ends just after its response; one more round trip gives the last of them time to end.
        (await Client().GetAsync("/.well-known/openid-configuration")).Should().HaveStatusCode(HttpStatusCode.OK);
        Flush(server);
        server.Dispose();
        app.Dispose();

        var exports = collector.Received;
        exports.Should().Contain(e => e.Path == "/v1/traces" && e.Holds("/me") && e.Holds(Telemetry.Activities.Revoke));
        exports.Should().Contain(e => e.Path == "/v1/metrics" && e.Holds(Telemetry.Instruments.TokensRejected) && e.Holds("bad_signature") &&
            e.Holds("http.server.request.duration"));
        var secrets = new[] { username, password, queryValue, address, login.Access, login.Refresh, viaForm.Access, viaForm.Refresh, refreshed.Access, refreshed.Refresh }
            .Concat(new[] { login.Access, viaForm.Access, refreshed.Access }.Select(t => t.Split('.')[2]));
        foreach (var secret in secrets)
        {
            exports.Should().NotContain(e => e.Holds(secret), "nothing exported may hold {0}", secret);
        }
        exports.Should().NotContain(e => e.Holds("url.query"));
    }

    [Theory]
    [InlineData("Telemetry:Otlp:Endpoint", "my-collector:4317", "must be an absolute http:// or https:// URL")]
    [InlineData("Telemetry:Otlp:Endpoint", "ftp://my-collector", "must be an absolute http:// or https:// URL")]
    [InlineData("Telemetry:Otlp:Endpoint", "/v1/traces", "must be an absolute http:// or https:// URL")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "http//my-collector:4318", "must be an absolute http:// or https:// URL")]
    [InlineData("Telemetry:Otlp:Endpoint", "http://otel:hunter2-secret@otel-collector:4318", "must not hold a user name or password")]
    [InlineData("Telemetry:Otlp:Endpoint", "http://otel-collector:4318/?api_key=hunter2-secret", "without a query or fragment")]
    public void RefusesToStartGivenAMalformedEndpoint(string key, string value, string message)
    {
        var app = new JwtApiFactory();
        app.Settings[key] = value;

        var failure = StartupFailure.Of(app);

        failure.Should().Contain("Telemetry:Otlp:Endpoint (or OTEL_EXPORTER_OTLP_ENDPOINT)").And.Contain(message);
        // the value is never repeated: it may hold a secret
        failure.Should().NotContain("hunter2").And.NotContain(value);
    }

    [Theory]
    [InlineData("Telemetry:Otlp:Protocol")]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL")]
    public void RefusesToStartGivenAnUnsupportedProtocol(string key)
    {
        var app = new JwtApiFactory();
        app.Settings["Telemetry:Otlp:Endpoint"] = "http://otel-collector:4318";
        app.Settings[key] = "http/json";

        StartupFailure.Of(app).Should().Contain("Telemetry:Otlp:Protocol (or OTEL_EXPORTER_OTLP_PROTOCOL) must be 'grpc' or 'http/protobuf'");
    }

    [Fact]
    public async Task IgnoresTheProtocolWhileNothingIsExported()
    {
        using var app = new JwtApiFactory();
        app.Settings["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/json";

        (await app.CreateClient().GetAsync("/health")).Should().HaveStatusCode(HttpStatusCode.OK);
        app.Services.GetService<MeterProvider>().Should().BeNull();
    }
}
