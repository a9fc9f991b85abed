using System.Net;
using System.Text.Json;
using JwtApi.Hosting;
using JwtApi.Tests.Support;
using Microsoft.AspNetCore.Mvc.Testing;

namespace JwtApi.Tests.Hosting;

/// <summary>
/// Hosting:PublicOrigin: the discovery document is never built from an attacker's Host header where a shared cache
/// could keep it, and AllowedHosts follows the public origin.
/// </summary>
public sealed class PublicOriginTests : IDisposable
{
    private const string Origin = "https://auth.example.com";

    private readonly List<JwtApiFactory> _factories = [];

    public void Dispose() => _factories.ForEach(factory => factory.Dispose());

    private JwtApiFactory Factory(string environment, params (string Key, string? Value)[] settings)
    {
        var factory = new JwtApiFactory { Environment = environment };
        _factories.Add(factory);
        factory.Settings["Passwords:WorkFactor"] = environment == "Testing" ? "4" : "10";
        foreach (var (key, value) in settings)
        {
            factory.Settings[key] = value;
        }
        return factory;
    }

    private static Task<HttpResponseMessage> GetAsync(WebApplicationFactory<Program> factory, string host, string path) =>
        factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri($"http://{host}") }).GetAsync(path);

    [Theory]
    [InlineData(KeysEndpointsPath.Discovery)]
    [InlineData(KeysEndpointsPath.Metadata)]
    public async Task PublishesConfiguredOriginWithPublicCachingGivenHostEvilExample(string path)
    {
        // AllowedHosts listing evil.example too (an operator's list), so the request reaches discovery at all
        var factory = Factory("Production", ("Hosting:PublicOrigin", Origin), ("AllowedHosts", "auth.example.com;evil.example"));

        var response = await GetAsync(factory, "evil.example", path);

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        response.Headers.CacheControl!.Public.Should().BeTrue();
        response.Headers.CacheControl.MaxAge.Should().Be(TimeSpan.FromMinutes(5));
        var body = await response.Content.ReadAsStringAsync();
        body.Should().NotContain("evil.example");
        var discovery = JsonDocument.Parse(body).RootElement;
        discovery.GetProperty("jwks_uri").GetString().Should().Be(Origin + "/.well-known/jwks.json");
        discovery.GetProperty("token_endpoint").GetString().Should().StartWith(Origin + "/");
        discovery.GetProperty("revocation_endpoint").GetString().Should().Be(Origin + "/revoke");
        discovery.GetProperty("introspection_endpoint").GetString().Should().Be(Origin + "/introspect");
    }

    [Theory]
    [InlineData("Production", KeysEndpointsPath.Discovery)]
    [InlineData("Development", KeysEndpointsPath.Discovery)]
    [InlineData("Production", KeysEndpointsPath.Metadata)]
    public async Task PublishesRequestDerivedDocumentWithNoStoreGivenNoPublicOrigin(string environment, string path)
    {
        // the black-box checks start the service with the two keys alone: it must start, and answer any Host
        var factory = Factory(environment);

        var response = await GetAsync(factory, "evil.example", path);

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        response.Headers.CacheControl!.NoStore.Should().BeTrue();
        response.Headers.CacheControl.Public.Should().BeFalse();
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("jwks_uri").GetString()
            .Should().Be("http://evil.example/.well-known/jwks.json");
    }

    [Fact]
    public async Task Returns400ProblemGivenHostOtherThanThePublicOrigin()
    {
        var factory = Factory("Production", ("Hosting:PublicOrigin", Origin));

        (await GetAsync(factory, "auth.example.com", "/health/live")).Should().HaveStatusCode(HttpStatusCode.OK);
        foreach (var host in new[] { "evil.example", "127.0.0.1", "auth.example.com.evil.example" })
        {
            var response = await GetAsync(factory, host, KeysEndpointsPath.Discovery);

            response.Should().HaveStatusCode(HttpStatusCode.BadRequest, host);
            response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
            (await response.Content.ReadAsStringAsync()).Should().NotContain("evil.example");
        }
    }

    [Fact]
    public async Task KeepsAllowedHostsGivenOneConfigured()
    {
        // a list configured on purpose (the public host and the load balancer's health-check host) wins
        var factory = Factory("Production", ("Hosting:PublicOrigin", Origin), ("AllowedHosts", "auth.example.com;10.0.0.7"));

        (await GetAsync(factory, "10.0.0.7", "/health/live")).Should().HaveStatusCode(HttpStatusCode.OK);
        (await GetAsync(factory, "auth.example.com", "/health/live")).Should().HaveStatusCode(HttpStatusCode.OK);
        (await GetAsync(factory, "evil.example", "/health/live")).Should().HaveStatusCode(HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("auth.example.com")]
    [InlineData("https://auth.example.com/auth")]
    [InlineData("https://auth.example.com?x=1")]
    [InlineData("https://auth.example.com#top")]
    [InlineData("https://user@auth.example.com")]
    [InlineData("ftp://auth.example.com")]
    public void StopsStartupGivenPublicOriginThatIsNotAnOrigin(string value)
    {
        StartupFailure.Of(Factory("Production", ("Hosting:PublicOrigin", value)))
            .Should().Contain($"Hosting:PublicOrigin is '{value}'").And.Contain("such as https://auth.example.com")
            .And.Contain("Hosting__PublicOrigin");
    }

    [Theory]
    [InlineData("https://auth.example.com", "auth.example.com")]
    [InlineData("https://auth.example.com:8443/", "auth.example.com:8443")]
    [InlineData(null, null)]
    [InlineData("", null)]
    public void ProbesWithThePublicHost(string? origin, string? host)
    {
        HealthProbe.HostHeader(origin).Should().Be(host);
    }
}

file static class KeysEndpointsPath
{
    public const string Discovery = JwtApi.Tokens.KeysEndpoints.DiscoveryPath;
    public const string Metadata = JwtApi.Tokens.KeysEndpoints.MetadataPath;
}
