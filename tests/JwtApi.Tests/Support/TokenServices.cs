using System.Diagnostics.Metrics;
using JwtApi.Hosting;
using JwtApi.Storage;
using JwtApi.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Options;

namespace JwtApi.Tests.Support;

/// <summary>The token services as the app wires them, for unit tests that new them up without a host.</summary>
public sealed record TokenServices(SigningKeys Keys, RefreshKey RefreshKey, RefreshTokens Refresh, TokenIssuer Issuer)
{
    public static TokenServices Create(JwtOptions options, TimeProvider time)
    {
        var env = new HostingEnvironment { EnvironmentName = "Testing", ContentRootPath = Path.GetTempPath() };
        var data = new DataDirectory(Path.GetTempPath());
        var keys = SigningKeys.Create(options, env, data);
        var refreshKey = RefreshKey.Create(options, env, data);
        var refresh = new RefreshTokens(refreshKey, Options.Create(options), time);
        return new TokenServices(keys, refreshKey, refresh, new TokenIssuer(keys, refresh, Options.Create(options), time, TestTelemetry.Create()));
    }
}

/// <summary>Instruments of their own, for unit tests that new up a service without a host.</summary>
public static class TestTelemetry
{
    public static Telemetry Create() =>
        new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());
}
