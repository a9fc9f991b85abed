using System.Net;
using System.Net.Sockets;
using JwtApi.Hosting;
using JwtApi.Tests.Support;
using Microsoft.AspNetCore.Mvc.Testing;

namespace JwtApi.Tests.Hosting;

/// <summary><c>dotnet JwtApi.dll health</c>, the container's HEALTHCHECK, against a real Kestrel on loopback.</summary>
public sealed class HealthProbeTests : IDisposable
{
    private readonly JwtApiFactory _app = new();
    private readonly WebApplicationFactory<Program> _server;

    public HealthProbeTests()
    {
        _server = _app.StartOnKestrel();
    }

    public void Dispose()
    {
        _server.Dispose();
        _app.Dispose();
    }

    private static async Task<(int Code, string Output, string Error)> ProbeAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await HealthProbe.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Exits0GivenAHealthyInstance()
    {
        var url = new Uri(_server.CreateClient().BaseAddress!, "/health/ready");

        var (code, output, _) = await ProbeAsync("health", url.ToString());

        code.Should().Be(0);
        output.Should().Be($"{url}: 200{Environment.NewLine}");
    }

    [Fact]
    public async Task Exits1GivenAnAnswerOtherThan200()
    {
        var url = new Uri(_server.CreateClient().BaseAddress!, "/no-such-route");

        (await ProbeAsync("health", url.ToString())).Code.Should().Be(1);
    }

    [Fact]
    public async Task Exits1GivenNoOneListening()
    {
        // a port that was free a moment ago: connection refused
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var (code, _, error) = await ProbeAsync("health", $"http://127.0.0.1:{port}/health/ready");

        code.Should().Be(1);
        error.Should().StartWith($"http://127.0.0.1:{port}/health/ready: no answer");
    }

    [Theory]
    [InlineData("health", "not a url")]
    [InlineData("health", "ftp://127.0.0.1/health")]
    [InlineData("health", "http://127.0.0.1:8080/health", "extra")]
    public async Task Exits2WithUsageGivenBadArguments(params string[] args)
    {
        var (code, _, error) = await ProbeAsync(args);

        code.Should().Be(2);
        error.Should().StartWith("usage: health");
    }

    [Theory]
    [InlineData(null, "http://127.0.0.1:8080/health/ready")]
    [InlineData("8080", "http://127.0.0.1:8080/health/ready")]
    [InlineData("5000;5001", "http://127.0.0.1:5000/health/ready")]
    public void ProbesTheFirstHttpPortByDefault(string? httpPorts, string url)
    {
        HealthProbe.DefaultUrl(httpPorts).Should().Be(new Uri(url));
    }
}
