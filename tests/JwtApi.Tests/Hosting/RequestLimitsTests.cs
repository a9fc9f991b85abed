using System.Net;
using System.Text;
using JwtApi.Tests.Support;
using Microsoft.AspNetCore.Mvc.Testing;

namespace JwtApi.Tests.Hosting;

/// <summary>
/// Body limits of the endpoints that take credentials, through real Kestrel on a loopback port (TestServer does
/// not enforce request body limits).
/// </summary>
public sealed class RequestLimitsTests : IDisposable
{
    private readonly JwtApiFactory _app = new();
    private readonly WebApplicationFactory<Program> _server;

    public RequestLimitsTests()
    {
        _server = _app.StartOnKestrel();
    }

    public void Dispose()
    {
        _server.Dispose();
        _app.Dispose();
    }

    private static string JsonTextOfSize(int bytes) => $"{{\"username\":\"{new string('a', bytes - 30)}\",\"password\":\"x\"}}";

    private static StringContent JsonOfSize(int bytes) => new(JsonTextOfSize(bytes), Encoding.UTF8, "application/json");

    [Theory]
    [InlineData("/login")]
    [InlineData("/register")]
    [InlineData("/refresh")]
    public async Task Answers413GivenBodyOver16KB(string path)
    {
        var response = await _server.CreateClient().PostAsync(path, JsonOfSize(17 * 1024));

        response.Should().HaveStatusCode(HttpStatusCode.RequestEntityTooLarge);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
    }

    [Theory]
    [InlineData("POST", "/users")]
    [InlineData("PUT", "/users/{id}/roles")]
    [InlineData("PUT", "/me/password")]
    [InlineData("POST", "/clients")]
    [InlineData("PUT", "/clients/jc_AAAAAAAAAAAAAAAAAAAAAA")]
    public async Task Answers413GivenBodyOver16KBToAnAuthenticatedWrite(string method, string path)
    {
        var admin = await _app.AdminAsync();
        using var client = _server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", await _app.LoginAsync(admin));
        var request = new HttpRequestMessage(new HttpMethod(method), path.Replace("{id}", admin.Id.ToString()))
        {
            Content = JsonOfSize(100 * 1024),
        };

        var response = await client.SendAsync(request);

        response.Should().HaveStatusCode(HttpStatusCode.RequestEntityTooLarge);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
    }

    [Fact]
    public async Task Answers413GivenChunkedBodyOver16KB()
    {
        // no Content-Length: Kestrel counts while the JSON is read
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(JsonTextOfSize(17 * 1024))));
        content.Headers.ContentType = new("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "/login") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        var response = await _server.CreateClient().SendAsync(request);

        response.Should().HaveStatusCode(HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task ReadsBodiesUnder16KB()
    {
        // the field limits answer first: a clear 400 naming the field
        var response = await _server.CreateClient().PostAsync("/login", JsonOfSize(15 * 1024));

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await response.JsonAsync()).GetProperty("errors").TryGetProperty("username", out _).Should().BeTrue();
    }

    [Fact]
    public async Task AnswersInvalidRequestGivenTokenFormOver16KB()
    {
        var form = new StringContent("grant_type=password&username=" + new string('a', 17 * 1024), Encoding.ASCII, "application/x-www-form-urlencoded");

        var response = await _server.CreateClient().PostAsync("/token", form);

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await response.JsonAsync()).GetProperty("error").GetString().Should().Be("invalid_request");
    }
}
