using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using JwtApi.Auth;
using JwtApi.Hosting;
using JwtApi.Storage;
using JwtApi.Tokens;
using JwtApi.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Net.Http.Headers;

namespace JwtApi.Tests.Auth;

/// <summary>
/// Password guessing is limited per username and client address, per username, and per device, in the database
/// (shared by every instance), without locking out an owner who presents a device token. On the fake clock.
/// </summary>
public sealed class LoginThrottleTests : IDisposable
{
    private const int PerUsernameAndAddress = 5;
    private const int PerUsername = 20;
    private const string DeviceCookieName = "__Secure-jwtapi-device";

    private readonly TestStorage _storage = new();
    private readonly List<IDisposable> _instances = [];

    public LoginThrottleTests()
    {
        (App, Server) = Instance();
    }

    private JwtApiFactory App { get; }

    private WebApplicationFactory<Program> Server { get; }

    public void Dispose()
    {
        foreach (var instance in Enumerable.Reverse(_instances))
        {
            instance.Dispose();
        }
        _storage.Dispose();
    }

    /// <summary>One service instance on the shared database, with real guessing limits and client addresses from a header.</summary>
    private (JwtApiFactory App, WebApplicationFactory<Program> Server) Instance()
    {
        var app = new JwtApiFactory { Storage = _storage };
        app.Settings["RateLimits:PerUsernameAndAddress:PermitLimit"] = PerUsernameAndAddress.ToString();
        app.Settings["RateLimits:PerUsernameAndAddress:Window"] = "00:05:00";
        app.Settings["RateLimits:PerUsername:PermitLimit"] = PerUsername.ToString();
        app.Settings["RateLimits:PerUsername:Window"] = "00:05:00";
        var server = app.WithWebHostBuilder(web =>
        {
            web.ConfigureLogging(logging => logging.AddFakeLogging());
            web.ConfigureTestServices(services => services.AddSingleton<IStartupFilter>(new ClientAddressFromHeader()));
        });
        _instances.Add(app);
        _instances.Add(server);
        return (app, server);
    }

    private static HttpClient Client(WebApplicationFactory<Program> server, string address, string? bearer = null)
    {
        var client = server.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });
        client.DefaultRequestHeaders.Add(ClientAddressFromHeader.Header, address);
        if (bearer is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }
        return client;
    }

    private Task<HttpResponseMessage> LoginAsync(string address, string username, string password, string? deviceToken = null) =>
        LoginAsync(Server, address, username, password, deviceToken);

    private static async Task<HttpResponseMessage> LoginAsync(
        WebApplicationFactory<Program> server, string address, string username, string password, string? deviceToken = null)
    {
        using var client = Client(server, address);
        return await client.PostAsJsonAsync("/login", new { username, password, device_token = deviceToken });
    }

    private async Task<HttpResponseMessage> TokenAsync(string address, string username, string password, string? deviceToken = null)
    {
        using var client = Client(Server, address);
        var form = new Dictionary<string, string> { ["grant_type"] = "password", ["username"] = username, ["password"] = password };
        if (deviceToken is not null)
        {
            form["device_token"] = deviceToken;
        }
        return await client.PostAsync("/token", new FormUrlEncodedContent(form));
    }

    private async Task<HttpResponseMessage> LoginWithDeviceCookieAsync(string address, string username, string password, string deviceToken)
    {
        using var client = Client(Server, address);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/login") { Content = JsonContent.Create(new { username, password }) };
        request.Headers.Add("Cookie", $"{DeviceCookieName}={deviceToken}");
        return await client.SendAsync(request);
    }

    private static async Task<string> DeviceTokenOf(HttpResponseMessage response)
    {
        response.Should().HaveStatusCode(HttpStatusCode.OK);
        return (await response.JsonAsync()).GetProperty("device_token").GetString()!;
    }

    /// <summary>Spends the username-wide limit with wrong passwords, one address each (no per-address limit is reached).</summary>
    private async Task FloodAsync(string username, string network = "192.0.2")
    {
        for (var i = 0; i < PerUsername; i++)
        {
            (await LoginAsync($"{network}.{i + 1}", username, $"guess-{i}-password")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        }
        (await LoginAsync($"{network}.200", username, "guess-last-password")).Should().HaveStatusCode(HttpStatusCode.TooManyRequests);
    }

    /// <summary>A new user whose window from <paramref name="address"/> is full: every wrong guess it allows, then a 429 for the right password.</summary>
    private async Task<TestUser> FillNameAndAddressWindowAsync(string address)
    {
        var owner = await App.RegisterUserAsync();
        for (var i = 0; i < PerUsernameAndAddress; i++)
        {
            (await LoginAsync(address, owner.Username, "wrong-password")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        }
        ShouldBeThrottled(await LoginAsync(address, owner.Username, owner.Password), 300);
        return owner;
    }

    private static void ShouldBeThrottled(HttpResponseMessage response, int retryAfterSeconds)
    {
        response.Should().HaveStatusCode(HttpStatusCode.TooManyRequests);
        response.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(retryAfterSeconds));
    }

    private async Task<int> ThrottleRowsAsync()
    {
        await using var scope = Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AppDb>().LoginThrottle.CountAsync();
    }

    private IReadOnlyList<FakeLogRecord> LoginFailures() =>
        Server.Services.GetFakeLogCollector().GetSnapshot()
            .Where(r => r.Category == AuditLog.Category && r.Id.Name == "LoginFailed").ToList();

    [Fact]
    public async Task ChecksAtMostPermitLimitGivenFiftyConcurrentGuessesAcrossTwoInstances()
    {
        var (_, second) = Instance();
        var owner = await App.RegisterUserAsync();
        // both started before the flood: fifty requests blocking on a lazy start would starve the thread pool
        Server.CreateClient().Dispose();
        second.CreateClient().Dispose();

        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(async () =>
        {
            using var response = await LoginAsync(i % 2 == 0 ? Server : second, "203.0.113.9", owner.Username, $"guess-{i}-password");
            return response.StatusCode;
        })));

        answers.Count(a => a == HttpStatusCode.Unauthorized).Should().Be(PerUsernameAndAddress);
        answers.Count(a => a == HttpStatusCode.TooManyRequests).Should().Be(50 - PerUsernameAndAddress);
        // that address and name only: the owner elsewhere is not held back
        (await LoginAsync(second, "203.0.113.10", owner.Username, owner.Password)).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task RefusesOwnerWithoutDeviceTokenButAdmitsTheirDeviceGivenFloodFromManyAddresses()
    {
        var owner = await App.RegisterUserAsync();
        var fromLogin = await DeviceTokenOf(await LoginAsync("198.51.100.1", owner.Username, owner.Password));
        var fromToken = await DeviceTokenOf(await TokenAsync("198.51.100.1", owner.Username, owner.Password));
        HttpResponseMessage cookieLogin;
        using (var browser = Client(Server, "198.51.100.2"))
        {
            cookieLogin = await browser.PostAsJsonAsync("/login", new { owner.Username, owner.Password, refresh_cookie = true });
        }
        var cookie = SetCookieHeaderValue.ParseList([.. cookieLogin.Headers.GetValues("Set-Cookie")]).Single(c => c.Name == DeviceCookieName);
        (cookie.HttpOnly, cookie.Secure, cookie.SameSite, cookie.Path.ToString()).Should().Be((true, true, SameSiteMode.Strict, "/login"));
        cookie.MaxAge.Should().Be(TimeSpan.FromDays(90));

        await FloodAsync(owner.Username);

        // a client without a device token waits, right password or not, and learns nothing
        ShouldBeThrottled(await LoginAsync("198.51.100.3", owner.Username, owner.Password), 300);
        ShouldBeThrottled(await TokenAsync("198.51.100.3", owner.Username, owner.Password), 300);
        // the owner's devices still get in: JSON body, /token form, cookie
        var renewed = await DeviceTokenOf(await LoginAsync("198.51.100.3", owner.Username.ToUpperInvariant(), owner.Password, fromLogin));
        (await TokenAsync("198.51.100.4", owner.Username, owner.Password, fromToken)).Should().HaveStatusCode(HttpStatusCode.OK);
        (await LoginWithDeviceCookieAsync("198.51.100.5", owner.Username, owner.Password, cookie.Value.ToString()))
            .Should().HaveStatusCode(HttpStatusCode.OK);
        // a renewal keeps the device
        JwtParts.Of(renewed).Payload["did"]!.GetValue<string>().Should().Be(JwtParts.Of(fromLogin).Payload["did"]!.GetValue<string>());
        JwtParts.Of(renewed).Header["typ"]!.GetValue<string>().Should().Be("dt+jwt");
    }

    [Fact]
    public async Task CountsWrongPasswordsWithDeviceTokenAgainstThatDevice()
    {
        var owner = await App.RegisterUserAsync();
        var device = await DeviceTokenOf(await LoginAsync("198.51.100.1", owner.Username, owner.Password));
        await FloodAsync(owner.Username);

        for (var i = 0; i < PerUsernameAndAddress; i++)
        {
            // never a wrong password made right, from any address
            (await LoginAsync($"198.51.100.{10 + i}", owner.Username, "wrong-password", device)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        }

        ShouldBeThrottled(await LoginAsync("198.51.100.30", owner.Username, owner.Password, device), 300);
        // another device of the owner has its own count
        (await LoginAsync("198.51.100.31", owner.Username, owner.Password, await DeviceTokenAsync(owner))).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    /// <summary>A device token for a new device of <paramref name="owner"/>, issued at <paramref name="at"/> (the fake now by default).</summary>
    private async Task<string> DeviceTokenAsync(TestUser owner, DateTimeOffset? at = null)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var user = await services.GetRequiredService<AppDb>().Users.SingleAsync(u => u.Id == owner.Id);
        var issuer = new DeviceTokens(services.GetRequiredService<RefreshKey>(), services.GetRequiredService<IOptions<JwtOptions>>(),
            services.GetRequiredService<IOptions<RateLimitOptions>>(), new FakeTimeProvider(at ?? App.Time.GetUtcNow()));
        return issuer.Issue(user).Token;
    }

    [Fact]
    public async Task AdmitsTheDeviceThatChangedThePasswordWithTheDeviceTokenOfItsAnswer()
    {
        var owner = await App.RegisterUserAsync();
        var newPassword = "a-new-passphrase-for-the-owner";
        var access = (await (await LoginAsync("198.51.100.1", owner.Username, owner.Password)).JsonAsync()).GetProperty("access_token").GetString();
        string device;
        using (var client = Client(Server, "198.51.100.1", access))
        {
            device = await DeviceTokenOf(await client.PutAsJsonAsync("/me/password", new { current_password = owner.Password, new_password = newPassword }));
        }
        await FloodAsync(owner.Username);

        ShouldBeThrottled(await LoginAsync("198.51.100.50", owner.Username, newPassword), 300);
        (await LoginAsync("198.51.100.50", owner.Username, newPassword, device)).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task GivesNoExemptionGivenDeviceTokenOfAnotherUserExpiredForgedOrFromBeforeAPasswordChangeOrLogoutAll()
    {
        var owner = await App.RegisterUserAsync();
        var other = await App.RegisterUserAsync();
        var othersToken = await DeviceTokenOf(await LoginAsync("198.51.100.1", other.Username, other.Password));

        // a password change, then a log-out everywhere, each end the device tokens issued before it
        var beforeChange = await DeviceTokenOf(await LoginAsync("198.51.100.1", owner.Username, owner.Password));
        var newPassword = "a-new-passphrase-for-the-owner";
        using (var client = Client(Server, "198.51.100.1", (await (await LoginAsync("198.51.100.1", owner.Username, owner.Password)).JsonAsync()).GetProperty("access_token").GetString()))
        {
            (await client.PutAsJsonAsync("/me/password", new { current_password = owner.Password, new_password = newPassword })).Should().HaveStatusCode(HttpStatusCode.OK);
        }
        owner = owner with { Password = newPassword };
        var login = await (await LoginAsync("198.51.100.1", owner.Username, owner.Password)).JsonAsync();
        var beforeLogoutAll = login.GetProperty("device_token").GetString()!;
        using (var client = Client(Server, "198.51.100.1", login.GetProperty("access_token").GetString()))
        {
            (await client.PostAsync("/logout/all", null)).Should().HaveStatusCode(HttpStatusCode.NoContent);
        }
        var valid = await DeviceTokenOf(await LoginAsync("198.51.100.1", owner.Username, owner.Password));
        // for the current token version, but issued 90 days ago: expired just now
        var expired = await DeviceTokenAsync(owner, App.Time.GetUtcNow() - TimeSpan.FromDays(90));
        var forged = JwtParts.Of(valid).SignedWithHmac(RandomNumberGenerator.GetBytes(32));
        var othersAsOwners = JwtParts.Of(othersToken);
        othersAsOwners.Payload["sub"] = owner.Id.ToString();
        var retargeted = othersAsOwners.WithSignature(JwtParts.Of(othersToken).Signature);
        await FloodAsync(owner.Username);

        foreach (var token in new[] { othersToken, expired, forged, retargeted, beforeChange, beforeLogoutAll, login.GetProperty("access_token").GetString()! })
        {
            ShouldBeThrottled(await LoginAsync("198.51.100.50", owner.Username, owner.Password, token), 300);
        }
        (await LoginAsync("198.51.100.50", owner.Username, owner.Password, valid)).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task RefusesDeviceTokenAsBearerOrRefreshToken()
    {
        var owner = await App.RegisterUserAsync();
        var device = await DeviceTokenOf(await LoginAsync("198.51.100.1", owner.Username, owner.Password));

        using var client = Client(Server, "198.51.100.1", device);
        (await client.GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await App.RefreshAsync(device)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task ReopensTheWindowAtItsEnd()
    {
        var owner = await FillNameAndAddressWindowAsync("203.0.113.1");

        App.Time.Advance(TimeSpan.FromSeconds(299));
        ShouldBeThrottled(await LoginAsync("203.0.113.1", owner.Username, owner.Password), 1);

        App.Time.Advance(TimeSpan.FromSeconds(1));
        (await LoginAsync("203.0.113.1", owner.Username, owner.Password)).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task RefusesAgainWithoutAskingTheDatabaseOnceItSawTheWindowFullUntilItEnds()
    {
        var owner = await FillNameAndAddressWindowAsync("203.0.113.3");

        // The rows deleted behind the instance's back: asked, the database would let the next attempt in. This
        // instance saw the window full, so it refuses without asking, with the same end (a flood of refused
        // guesses costs no statement), and the refusal is audited as every throttled attempt is.
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<AppDb>().LoginThrottle.ExecuteDeleteAsync();
        }
        var audited = LoginFailures().Count;
        App.Time.Advance(TimeSpan.FromSeconds(100));
        ShouldBeThrottled(await LoginAsync("203.0.113.3", owner.Username, owner.Password), 200);
        (await ThrottleRowsAsync()).Should().Be(0, "the refusal wrote nothing");
        LoginFailures().Should().HaveCount(audited + 1);

        // another address is another window (and the name-wide one has room): checked as before
        (await LoginAsync("203.0.113.4", owner.Username, owner.Password)).Should().HaveStatusCode(HttpStatusCode.OK);

        // at its end the window is the database's again
        App.Time.Advance(TimeSpan.FromSeconds(200));
        (await LoginAsync("203.0.113.3", owner.Username, owner.Password)).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task GivesItsPermitBackGivenSuccessfulLogin()
    {
        var owner = await App.RegisterUserAsync();
        for (var i = 0; i < PerUsernameAndAddress - 1; i++)
        {
            (await LoginAsync("203.0.113.2", owner.Username, "wrong-password")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        }
        (await LoginAsync("203.0.113.2", owner.Username, owner.Password)).Should().HaveStatusCode(HttpStatusCode.OK);

        // the success took the last permit and gave it back: one more guess is checked, then none
        (await LoginAsync("203.0.113.2", owner.Username, "wrong-password")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        ShouldBeThrottled(await LoginAsync("203.0.113.2", owner.Username, owner.Password), 300);
    }

    [Fact]
    public async Task CountsUnknownValidUsernamesLikeKnownOnes()
    {
        var known = await App.RegisterUserAsync();
        foreach (var username in new[] { known.Username, "nobody-by-this-name" })
        {
            var answers = new List<HttpStatusCode>();
            for (var i = 0; i <= PerUsernameAndAddress; i++)
            {
                answers.Add((await LoginAsync("203.0.113.3", username, "wrong-password")).StatusCode);
            }
            answers.Should().Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, PerUsernameAndAddress), HttpStatusCode.TooManyRequests]);
        }
    }

    [Fact]
    public async Task KeepsNoRowGivenInvalidUsername()
    {
        foreach (var username in new[] { "x", "has space", "ünïcode", new string('a', 200), "nul\0name" })
        {
            for (var i = 0; i <= PerUsernameAndAddress; i++)
            {
                (await LoginAsync("203.0.113.4", username, "wrong-password")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
            }
        }

        (await ThrottleRowsAsync()).Should().Be(0);
    }

    [Fact]
    public async Task PrunesEndedWindows()
    {
        (await LoginAsync("203.0.113.5", "nobody-one", "wrong-password")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await LoginAsync("203.0.113.5", "nobody-two", "wrong-password")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await ThrottleRowsAsync()).Should().Be(4);   // per name and address, per name

        App.Time.Advance(ThrottlePruner.Interval);   // the windows (5 minutes) have ended; the pruner's timer fires

        for (var waited = 0; await ThrottleRowsAsync() > 0 && waited < 100; waited++)
        {
            await Task.Delay(50);
        }
        (await ThrottleRowsAsync()).Should().Be(0);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ChangePasswordAnswersAlikeForRightAndWrongCurrentPasswordGivenRefusedNewPassword(bool rightCurrent)
    {
        var owner = await App.RegisterUserAsync();
        var access = (await (await LoginAsync("203.0.113.6", owner.Username, owner.Password)).JsonAsync()).GetProperty("access_token").GetString();
        using var client = Client(Server, "203.0.113.6", access);

        var response = await client.PutAsJsonAsync("/me/password",
            new { current_password = rightCurrent ? owner.Password : "not-the-password", new_password = "short" });

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        var errors = (await response.JsonAsync()).GetProperty("errors");
        errors.EnumerateObject().Select(p => p.Name).Should().Equal("new_password");
        LoginFailures().Should().BeEmpty();   // nothing was checked, so nothing was counted
    }

    [Fact]
    public async Task ThrottlesAndAuditsWrongCurrentPasswordsAtChangePasswordAsLoginFailures()
    {
        var owner = await App.RegisterUserAsync();
        var access = (await (await LoginAsync("203.0.113.7", owner.Username, owner.Password)).JsonAsync()).GetProperty("access_token").GetString();
        using var client = Client(Server, "203.0.113.7", access);

        for (var i = 0; i < PerUsernameAndAddress; i++)
        {
            var wrong = await client.PutAsJsonAsync("/me/password", new { current_password = $"guess-{i}-password", new_password = "a-new-long-passphrase" });
            wrong.Should().HaveStatusCode(HttpStatusCode.BadRequest);
            (await wrong.JsonAsync()).GetProperty("errors").TryGetProperty("current_password", out _).Should().BeTrue();
        }

        ShouldBeThrottled(await client.PutAsJsonAsync("/me/password", new { current_password = owner.Password, new_password = "a-new-long-passphrase" }), 300);
        // one count with /login: the same name from the same address
        ShouldBeThrottled(await LoginAsync("203.0.113.7", owner.Username, owner.Password), 300);
        LoginFailures().Select(r => (r.GetStructuredStateValue("Username"), r.GetStructuredStateValue("Endpoint"), r.GetStructuredStateValue("Reason")))
            .Should().Equal([
                .. Enumerable.Repeat((owner.Username, "/me/password", "wrong_password"), PerUsernameAndAddress),
                (owner.Username, "/me/password", "throttled"), (owner.Username, "/login", "throttled")]);
    }
}
