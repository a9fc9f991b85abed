using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using JwtApi.Tokens;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;

namespace JwtApi.Tests.Support;

public sealed record TestUser(Guid Id, string Username, string Password);

/// <summary>One entry of Jwt:SigningKeys as a test configures it.</summary>
public sealed record TestSigningKey(string Algorithm, bool Active = false, string? PemPath = null, string? Pem = null, string? Secret = null, string? KeyId = null);

/// <summary>A token response: both tokens and their lifetimes in seconds.</summary>
public sealed record TokenSet(string Access, string Refresh, int ExpiresIn, int RefreshExpiresIn)
{
    public static TokenSet From(JsonElement body) => new(
        body.GetProperty("access_token").GetString()!, body.GetProperty("refresh_token").GetString()!,
        body.GetProperty("expires_in").GetInt32(), body.GetProperty("refresh_token_expires_in").GetInt32());
}

/// <summary>
/// The real service over real HTTP plumbing, with its own database (a SQLite file, or a PostgreSQL database under
/// JWTAPI_TEST_POSTGRES: see <see cref="TestStorage"/>), a fast BCrypt work factor, test keys, and a fake clock
/// that starts at the real now (JwtBearer checks exp on the system clock).
/// </summary>
public class JwtApiFactory : WebApplicationFactory<Program>
{
    public const string AdminUsername = "root";
    public const string AdminPassword = "root-test-password";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    private TestUser? _admin;
    private int _userCount;

    private readonly TestStorage? _storage;
    private readonly Lazy<TestStorage> _ownStorage = new(() => new TestStorage());

    /// <summary>
    /// The data folder and database: fresh ones (gone on dispose) unless a test shares one between instances, for
    /// a restart or two instances on one database.
    /// </summary>
    public TestStorage Storage
    {
        get => _storage ?? _ownStorage.Value;
        init => _storage = value;
    }

    public string DataPath => Storage.DataPath;

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    /// <summary>Settings on top of the test defaults; a null value removes a default.</summary>
    public Dictionary<string, string?> Settings { get; } = [];

    public virtual string Algorithm => SigningAlgorithms.HS256;

    /// <summary>Replaces the single test key with a key set (Jwt:SigningKeys).</summary>
    public void UseSigningKeys(params TestSigningKey[] keys)
    {
        Settings["Jwt:SigningKey"] = null;
        for (var i = 0; i < keys.Length; i++)
        {
            var prefix = $"Jwt:SigningKeys:{i}:";
            Settings[prefix + "Algorithm"] = keys[i].Algorithm;
            Settings[prefix + "Active"] = keys[i].Active ? "true" : "false";
            Settings[prefix + "PemPath"] = keys[i].PemPath;
            Settings[prefix + "Pem"] = keys[i].Pem;
            Settings[prefix + "Secret"] = keys[i].Secret;
            Settings[prefix + "KeyId"] = keys[i].KeyId;
        }
    }

    public string Environment { get; init; } = "Testing";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(Environment);
        var settings = new Dictionary<string, string?>(Storage.Settings())
        {
            ["Jwt:Algorithm"] = Algorithm,
            ["Jwt:SigningKey"] = Algorithm == SigningAlgorithms.HS256 ? TestKeys.HmacBase64 : null,
            ["Jwt:PrivateKeyPath"] = Algorithm switch
            {
                SigningAlgorithms.RS256 => TestKeys.RsaPemPath,
                SigningAlgorithms.ES256 => TestKeys.EcPemPath,
                _ => null,
            },
            ["Jwt:RefreshSigningKey"] = TestKeys.RefreshHmacBase64,
            ["Passwords:WorkFactor"] = "4",
            ["Seed:AdminUsername"] = AdminUsername,
            ["Seed:AdminPassword"] = AdminPassword,
            // tests log in far more often than people; RateLimitTests set real limits
            ["RateLimits:PerAddress:PermitLimit"] = "1000000",
            ["RateLimits:PerUsernameAndAddress:PermitLimit"] = "1000000",
            ["RateLimits:PerUsername:PermitLimit"] = "1000000",
        };
        foreach (var (key, value) in Settings)
        {
            settings[key] = value;
        }
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value ?? "");
        }
        builder.ConfigureServices(services => services.Replace(ServiceDescriptor.Singleton<TimeProvider>(Time)));
    }

    /// <summary>The origin of the mail links <see cref="UseMail"/> configures: the test client's own, which AllowedHosts lets in.</summary>
    public const string MailLinkOrigin = "http://localhost";

    /// <summary>The sender <see cref="UseMail"/> configures.</summary>
    public const string MailFrom = "JwtApi Tests <no-reply@jwtapi.test>";

    /// <summary>
    /// Mail on, sent to <paramref name="smtp"/> (plain text; logging in when it has a username), from
    /// <see cref="MailFrom"/>, with absolute links on <see cref="MailLinkOrigin"/>
    /// (<c>http://localhost/demo/#reset-password?token=...</c>). Call before the service starts.
    /// </summary>
    public void UseMail(SmtpTestServer smtp)
    {
        Settings["Mail:Enabled"] = "true";
        Settings["Mail:From"] = MailFrom;
        Settings["Mail:Smtp:Host"] = SmtpTestServer.Host;
        Settings["Mail:Smtp:Port"] = smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Settings["Mail:Smtp:Security"] = "None";
        Settings["Mail:Smtp:Username"] = smtp.Username;
        Settings["Mail:Smtp:Password"] = smtp.Password;
        Settings["Mail:Links:ResetUrl"] = MailLinkOrigin + "/demo/#reset-password?token={token}";
        Settings["Mail:Links:VerifyUrl"] = MailLinkOrigin + "/demo/#verify-email?token={token}";
    }

    public JwtOptions JwtOptions => Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<JwtOptions>>().Value;

    public async Task<TestUser> AdminAsync()
    {
        if (_admin is null)
        {
            using var client = CreateClient();
            var login = await (await client.LoginAsync(AdminUsername, AdminPassword)).EnsureSuccessStatusCode()
                .Content.ReadFromJsonAsync<JsonElement>(Json);
            // the subject of whatever token the login gave (with Auth:RequireMfaFor, one that can only enrol)
            var subject = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(login.GetProperty("access_token").GetString()).Subject;
            _admin = new TestUser(Guid.Parse(subject), AdminUsername, AdminPassword);
        }
        return _admin;
    }

    /// <summary>An access token of the seeded admin that the admin API accepts.</summary>
    protected virtual async Task<string> AdminTokenAsync() => await LoginAsync(await AdminAsync());

    /// <summary>A new user with a unique name, made through the admin API.</summary>
    public async Task<TestUser> CreateUserAsync(params string[] roles)
    {
        var username = $"user{Interlocked.Increment(ref _userCount)}-{Guid.NewGuid().ToString("N")[..6]}";
        var password = $"pw-{Guid.NewGuid():N}";
        using var admin = ClientWithToken(await AdminTokenAsync());
        var response = await admin.PostAsJsonAsync("/users",
            new { username, password, roles = roles.Length == 0 ? ["user"] : roles }, Json);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Json);
        return new TestUser(Guid.Parse(body.GetProperty("id").GetString()!), username, password);
    }

    /// <summary>
    /// A new user made through anonymous <c>POST /register</c>: for tests that move the fake clock, where an
    /// admin's freshly issued token would not be valid yet on the system clock.
    /// </summary>
    public async Task<TestUser> RegisterUserAsync()
    {
        var username = $"reg{Interlocked.Increment(ref _userCount)}-{Guid.NewGuid().ToString("N")[..6]}";
        var password = $"pw-{Guid.NewGuid():N}";
        using var client = CreateClient();
        var response = await client.PostAsJsonAsync("/register", new { username, password }, Json);
        response.EnsureSuccessStatusCode();
        return new TestUser((await response.JsonAsync()).GetProperty("id").GetGuid(), username, password);
    }

    /// <summary>The whole token response of a real login.</summary>
    public async Task<TokenSet> LoginPairAsync(TestUser user)
    {
        using var client = CreateClient();
        var response = await client.LoginAsync(user.Username, user.Password);
        response.EnsureSuccessStatusCode();
        return TokenSet.From(await response.JsonAsync());
    }

    public async Task<HttpResponseMessage> RefreshAsync(string refreshToken)
    {
        using var client = CreateClient();
        return await client.PostAsJsonAsync("/refresh", new { refresh_token = refreshToken });
    }

    /// <summary>A client carrying a token obtained through the real <c>POST /login</c>.</summary>
    public async Task<HttpClient> ClientForAsync(TestUser user) =>
        ClientWithToken(await LoginAsync(user));

    public async Task<string> LoginAsync(TestUser user)
    {
        using var client = CreateClient();
        var response = await client.LoginAsync(user.Username, user.Password);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Json);
        return body.GetProperty("access_token").GetString()!;
    }

    public HttpClient ClientWithToken(string token)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>
    /// This service on real Kestrel at a loopback port (a free one unless given), for what TestServer does not do
    /// (body limits, real sockets, a browser); <paramref name="configure"/> changes this instance only.
    /// </summary>
    public WebApplicationFactory<Program> StartOnKestrel(int port = 0, Action<IWebHostBuilder>? configure = null)
    {
        var server = WithWebHostBuilder(web =>
        {
            web.UseSetting("urls", $"http://127.0.0.1:{port}");
            configure?.Invoke(web);
        });
        server.UseKestrel();
        server.StartServer();
        return server;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && _ownStorage.IsValueCreated)
        {
            _ownStorage.Value.Dispose();
        }
    }
}

public sealed class Rs256JwtApiFactory : JwtApiFactory
{
    public override string Algorithm => SigningAlgorithms.RS256;
}

public sealed class Es256JwtApiFactory : JwtApiFactory
{
    public override string Algorithm => SigningAlgorithms.ES256;
}

public static class HttpClientExtensions
{
    public static Task<HttpResponseMessage> LoginAsync(this HttpClient client, string username, string password) =>
        client.PostAsJsonAsync("/login", new { username, password });

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<JsonElement>(JwtApiFactory.Json);
}
