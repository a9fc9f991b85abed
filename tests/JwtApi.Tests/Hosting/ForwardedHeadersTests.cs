using System.Net;
using JwtApi.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace JwtApi.Tests.Hosting;

/// <summary>
/// Behind nginx the client address (throttling, audit log) and the scheme come from X-Forwarded-For and
/// X-Forwarded-Proto, but only when the connection comes from a configured proxy: anyone else could pick
/// the address their failed logins are counted against.
/// </summary>
public sealed class ForwardedHeadersTests
{
    private static WebApplicationFactory<Program> Service(JwtApiFactory app) => app.WithWebHostBuilder(web =>
    {
        web.ConfigureLogging(logging => logging.AddFakeLogging());
        // the connection's peer address, as TestServer has none
        web.ConfigureTestServices(services => services.AddSingleton<IStartupFilter>(new ClientAddressFromHeader()));
    });

    private static async Task<string?> AuditedAddressAsync(WebApplicationFactory<Program> service, string peer, string forwardedFor)
    {
        var client = service.CreateClient();
        client.DefaultRequestHeaders.Add(ClientAddressFromHeader.Header, peer);
        client.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        (await client.LoginAsync("nobody", "some-password")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        return service.Services.GetFakeLogCollector().GetSnapshot().Last(r => r.Id.Name == "LoginFailed")
            .GetStructuredStateValue("ClientAddress");
    }

    [Theory]
    [InlineData("127.0.0.1", "203.0.113.50", "203.0.113.50")]                  // from the proxy: believed
    [InlineData("198.51.100.7", "203.0.113.50", "198.51.100.7")]               // from anyone else: ignored
    [InlineData("127.0.0.1", "6.6.6.6, 203.0.113.9", "203.0.113.9")]           // only the entry the proxy added
    public async Task BelievesForwardedForOnlyFromAKnownProxy(string peer, string forwardedFor, string audited)
    {
        using var app = new JwtApiFactory();
        app.Settings["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1";
        using var service = Service(app);

        (await AuditedAddressAsync(service, peer, forwardedFor)).Should().Be(audited);
    }

    [Fact]
    public async Task BelievesAProxyInAKnownNetwork()
    {
        using var app = new JwtApiFactory();
        app.Settings["ForwardedHeaders:KnownNetworks:0"] = "172.28.0.0/24";
        using var service = Service(app);

        (await AuditedAddressAsync(service, "172.28.0.9", "203.0.113.7")).Should().Be("203.0.113.7");
        (await AuditedAddressAsync(service, "172.28.1.9", "203.0.113.7")).Should().Be("172.28.1.9");
    }

    [Fact]
    public async Task IgnoresForwardedHeadersByDefault()
    {
        using var app = new JwtApiFactory();
        using var service = Service(app);

        // not even loopback is believed until a proxy is configured
        (await AuditedAddressAsync(service, "127.0.0.1", "203.0.113.50")).Should().Be("127.0.0.1");
    }

    [Fact]
    public async Task TakesTheSchemeFromTheProxySoProductionNeitherRedirectsNorDropsHsts()
    {
        using var app = new JwtApiFactory { Environment = "Production" };
        app.Settings["Passwords:WorkFactor"] = "10";
        app.Settings["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1";
        app.Settings["https_port"] = "443";
        using var service = Service(app);
        var client = service.CreateClient(new() { AllowAutoRedirect = false, BaseAddress = new Uri("http://api.example.com") });
        client.DefaultRequestHeaders.Add(ClientAddressFromHeader.Header, "127.0.0.1");

        var plain = await client.GetAsync("/health/live");
        client.DefaultRequestHeaders.Add("X-Forwarded-Proto", "https");
        var behindTls = await client.GetAsync("/health/live");

        plain.Should().HaveStatusCode(HttpStatusCode.TemporaryRedirect);
        behindTls.Should().HaveStatusCode(HttpStatusCode.OK);
        behindTls.Headers.GetValues("Strict-Transport-Security").Should().Equal("max-age=31536000; includeSubDomains");
    }

    [Theory]
    [InlineData("ForwardedHeaders:KnownProxies:0", "nginx", "ForwardedHeaders:KnownProxies has 'nginx'")]
    [InlineData("ForwardedHeaders:KnownNetworks:0", "172.28.0.0", "ForwardedHeaders:KnownNetworks has '172.28.0.0'")]
    public void StopsStartupGivenAProxyThatIsNotAnAddress(string key, string value, string message)
    {
        var app = new JwtApiFactory();
        app.Settings[key] = value;

        StartupFailure.Of(app).Should().Contain(message);
    }
}
