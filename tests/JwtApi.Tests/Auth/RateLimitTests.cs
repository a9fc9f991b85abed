using System.Net;
using System.Net.Http.Json;
using JwtApi.Auth;
using JwtApi.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace JwtApi.Tests.Auth;

/// <summary>
/// Throttling of the credential endpoints, per client address and per username, on the fake clock. The per-username
/// limits, device tokens and /me/password are in <see cref="LoginThrottleTests"/>.
/// </summary>
public sealed class RateLimitTests : IDisposable
{
    private const string ClientHeader = ClientAddressFromHeader.Header;
    private readonly JwtApiFactory _app = new();
    private readonly WebApplicationFactory<Program> _server;

    public RateLimitTests()
    {
        _app.Settings["RateLimits:PerAddress:PermitLimit"] = "4";
        _app.Settings["RateLimits:PerAddress:Window"] = "00:01:00";
        _app.Settings["RateLimits:PerUsername:PermitLimit"] = "3";
        _app.Settings["RateLimits:PerUsername:Window"] = "00:05:00";
        // TestServer has no client address: take it from a header, as a proxy's forwarded address would be
        _server = _app.WithWebHostBuilder(web => web.ConfigureTestServices(services =>
            services.AddSingleton<IStartupFilter>(new ClientAddressFromHeader())));
    }

    public void Dispose()
    {
        _server.Dispose();
        _app.Dispose();
    }

    private async Task<HttpResponseMessage> LoginAsync(string address, string username, string password)
    {
        using var client = _server.CreateClient();
        client.DefaultRequestHeaders.Add(ClientHeader, address);
        return await client.PostAsJsonAsync("/login", new { username, password });
    }

    private async Task<HttpResponseMessage> TokenAsync(string address, string username, string password)
    {
        using var client = _server.CreateClient();
        client.DefaultRequestHeaders.Add(ClientHeader, address);
        return await client.PostAsync("/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "password", ["username"] = username, ["password"] = password,
        }));
    }

    private static async Task ShouldBeTooManyRequestsAsync(HttpResponseMessage response, int retryAfterSeconds)
    {
        response.Should().HaveStatusCode(HttpStatusCode.TooManyRequests);
        response.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(retryAfterSeconds));
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var body = await response.JsonAsync();
        body.GetProperty("status").GetInt32().Should().Be(429);
        body.GetProperty("detail").GetString().Should().Contain($"{retryAfterSeconds} seconds");
    }

    [Fact]
    public async Task Answers429WithRetryAfterOncePerAddressLimitIsSpent()
    {
        for (var i = 0; i < 4; i++)
        {
            (await LoginAsync("10.0.0.1", $"nobody{i}", "wrong-password")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        }

        await ShouldBeTooManyRequestsAsync(await LoginAsync("10.0.0.1", "nobody9", "wrong-password"), 60);
        (await LoginAsync("10.0.0.2", "nobody9", "wrong-password")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task CountsDownRetryAfterAndOpensAgainAfterTheWindow()
    {
        for (var i = 0; i < 4; i++)
        {
            await LoginAsync("10.0.0.3", $"nobody{i}", "wrong-password");
        }
        _app.Time.Advance(TimeSpan.FromSeconds(45));

        await ShouldBeTooManyRequestsAsync(await LoginAsync("10.0.0.3", "nobody", "wrong-password"), 15);

        _app.Time.Advance(TimeSpan.FromSeconds(15));
        (await LoginAsync("10.0.0.3", "nobody", "wrong-password")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task SharesThePerAddressBudgetAcrossCredentialEndpoints()
    {
        using var client = _server.CreateClient();
        client.DefaultRequestHeaders.Add(ClientHeader, "10.0.0.4");

        (await client.PostAsJsonAsync("/register", new { username = "x", password = "short" })).Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await client.PostAsJsonAsync("/refresh", new { refresh_token = "not-a-token" })).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await client.PostAsync("/token", new FormUrlEncodedContent([KeyValuePair.Create("grant_type", "magic")]))).Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await client.PostAsJsonAsync("/login", new { username = "nobody", password = "wrong-password" })).Should().HaveStatusCode(HttpStatusCode.Unauthorized);

        await ShouldBeTooManyRequestsAsync(await client.PostAsJsonAsync("/register", new { username = "someone", password = "a-long-password" }), 60);
        // endpoints that take no credentials are not throttled
        (await client.GetAsync("/health")).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ThrottlesAUsernameFromEveryAddressButNeverBeyondTheWindow()
    {
        var owner = await _app.RegisterUserAsync();
        for (var i = 0; i < 3; i++)
        {
            // a distributed guesser: a new address each time
            (await LoginAsync($"192.0.2.{i}", owner.Username, $"guess-{i}-password")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        }

        // the owner, with the right password, waits out the same window (and the guesser learns nothing)
        await ShouldBeTooManyRequestsAsync(await LoginAsync("198.51.100.7", owner.Username.ToUpperInvariant(), owner.Password), 300);
        await ShouldBeTooManyRequestsAsync(await TokenAsync("198.51.100.8", owner.Username, owner.Password), 300);
        (await LoginAsync("198.51.100.9", "someone-else", "wrong-password")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);

        _app.Time.Advance(TimeSpan.FromMinutes(5));
        (await LoginAsync("198.51.100.7", owner.Username, owner.Password)).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task CountsOnlyFailedAttemptsPerUsername()
    {
        var owner = await _app.RegisterUserAsync();

        for (var i = 0; i < 5; i++)
        {
            (await LoginAsync($"198.18.0.{i}", owner.Username, owner.Password)).Should().HaveStatusCode(HttpStatusCode.OK);
        }
        (await LoginAsync("198.18.1.1", owner.Username, "wrong-password")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await LoginAsync("198.18.1.2", owner.Username, owner.Password)).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task SharesThePerUsernameBudgetBetweenLoginAndToken()
    {
        var owner = await _app.RegisterUserAsync();
        await LoginAsync("203.0.113.1", owner.Username, "wrong-password-1");
        await TokenAsync("203.0.113.2", owner.Username, "wrong-password-2");
        await LoginAsync("203.0.113.3", owner.Username, "wrong-password-3");

        await ShouldBeTooManyRequestsAsync(await TokenAsync("203.0.113.4", owner.Username, owner.Password), 300);
    }

    [Theory]
    [InlineData("10.1.2.3", "10.1.2.3")]
    [InlineData("::ffff:10.1.2.3", "10.1.2.3")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:3::1", "2001:db8:1:3::/64")]
    [InlineData(null, "unknown")]
    public void PartitionsIpv6ClientsByTheirSlash64(string? address, string partition)
    {
        RateLimits.ClientPartition(address is null ? null : IPAddress.Parse(address)).Should().Be(partition);
    }

    [Theory]
    [InlineData("RateLimits:PerAddress:PermitLimit", "0")]
    [InlineData("RateLimits:PerUsername:Window", "00:00:00")]
    [InlineData("RateLimits:PerUsername:Window", "2.00:00:00")]
    [InlineData("RateLimits:PerUsernameAndAddress:PermitLimit", "0")]
    [InlineData("RateLimits:PerUsernameAndAddress:Window", "00:00:00")]
    [InlineData("RateLimits:DeviceTokenLifetime", "01:00:00")]
    public void RefusesToStartGivenOutOfBoundsLimit(string key, string value)
    {
        var factory = new JwtApiFactory();
        factory.Settings[key] = value;

        StartupFailure.Of(factory).Should().Contain(key.Split(':')[^1]);
    }
}
