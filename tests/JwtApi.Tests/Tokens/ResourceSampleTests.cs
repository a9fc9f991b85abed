extern alias ResourceSample;

using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using JwtApi.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using SampleMarker = ResourceSample::JwtApi.ResourceSample.SampleMarker;

namespace JwtApi.Tests.Tokens;

/// <summary>
/// JwtApi and src/JwtApi.ResourceSample, each on a real loopback port. The sample knows only JwtApi's metadata
/// URL and audience; it fetches the discovery document and the key set over HTTP with stock JwtBearer.
/// </summary>
public sealed class ResourceSampleTests : IDisposable
{
    private readonly int _port = FreePort();
    private readonly TestStorage _storage = new();
    private readonly List<IDisposable> _running = [];

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>JwtApi on the fixed port with the given key set (the same database across restarts).</summary>
    private JwtApiFactory StartJwtApi(params TestSigningKey[] keys)
    {
        var app = new JwtApiFactory { Storage = _storage };
        app.UseSigningKeys(keys);
        app.UseKestrel(_port);
        app.StartServer();
        _running.Add(app);
        return app;
    }

    private HttpClient StartSample()
    {
        var sample = new WebApplicationFactory<SampleMarker>().WithWebHostBuilder(host =>
        {
            host.UseEnvironment("Testing");
            host.UseSetting("JwtApi:MetadataAddress", $"http://127.0.0.1:{_port}/.well-known/openid-configuration");
            host.UseSetting("JwtApi:Audience", "jwtapi");
            host.UseSetting("JwtApi:ServiceAudience", "resource-sample");
            host.UseSetting("JwtApi:RequireHttpsMetadata", "false");
        });
        sample.UseKestrel(0);
        sample.StartServer();
        _running.Add(sample);
        return sample.CreateClient();
    }

    private static async Task<HttpStatusCode> CallAsync(HttpClient sample, string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return (await sample.SendAsync(request)).StatusCode;
    }

    public void Dispose()
    {
        foreach (var running in Enumerable.Reverse(_running))
        {
            running.Dispose();
        }
        _storage.Dispose();
    }

    [Fact]
    public async Task AcceptsJwtApiTokensAndRefusesForgeriesUsingThePublishedKeysAlone()
    {
        var jwtApi = StartJwtApi(new TestSigningKey("RS256", Active: true, PemPath: TestKeys.RsaPemPath));
        var sample = StartSample();
        var admin = await jwtApi.LoginAsync(await jwtApi.AdminAsync());
        var user = await jwtApi.LoginAsync(await jwtApi.CreateUserAsync());
        var minter = new TokenMinter(jwtApi.JwtOptions, "RS256");
        var tampered = admin.Split('.') is var parts
            ? $"{parts[0]}.{TokenMinter.B64(System.Text.Json.JsonSerializer.Serialize(minter.Payload("admin")))}.{parts[2]}"
            : "";

        (await CallAsync(sample, "/reports", admin)).Should().Be(HttpStatusCode.OK);
        (await CallAsync(sample, "/whoami", user)).Should().Be(HttpStatusCode.OK);
        (await CallAsync(sample, "/reports", user)).Should().Be(HttpStatusCode.Forbidden);
        (await CallAsync(sample, "/reports", minter.Mint(credentials: minter.ForeignCredentials, roles: "admin"))).Should().Be(HttpStatusCode.Unauthorized);
        (await CallAsync(sample, "/reports", tampered)).Should().Be(HttpStatusCode.Unauthorized);
        (await CallAsync(sample, "/reports", minter.Mint(d => d.Audience = "another-api", roles: "admin"))).Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task AcceptsTokensOfANewKeyAfterRotationWithoutRestartingTheSample()
    {
        var before = StartJwtApi(new TestSigningKey("RS256", Active: true, PemPath: TestKeys.RsaPemPath));
        var sample = StartSample();
        var oldToken = await before.LoginAsync(await before.AdminAsync());
        (await CallAsync(sample, "/reports", oldToken)).Should().Be(HttpStatusCode.OK);

        // rotation: the new EC key becomes active, the old RSA key stays to validate what it signed
        before.Dispose();
        var after = StartJwtApi(new("ES256", Active: true, PemPath: TestKeys.EcPemPath), new("RS256", PemPath: TestKeys.RsaPemPath));
        var newToken = await after.LoginAsync(await after.AdminAsync());
        new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(newToken).Kid.Should().Be(TestKeys.EcKeyId);

        // JwtBearer meets an unknown kid, refetches the key set in the background, and accepts the token once
        // it has: a bounded poll, since that refresh runs inside the sample
        var status = HttpStatusCode.Unauthorized;
        for (var attempt = 0; attempt < 50 && status != HttpStatusCode.OK; attempt++)
        {
            status = await CallAsync(sample, "/reports", newToken);
            if (status != HttpStatusCode.OK)
            {
                await Task.Delay(100);
            }
        }
        status.Should().Be(HttpStatusCode.OK);
        // no forced logout: the token signed before the rotation still works, here and at JwtApi
        (await CallAsync(sample, "/reports", oldToken)).Should().Be(HttpStatusCode.OK);
        (await after.ClientWithToken(oldToken).GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task AuthorizesAClientTokenByScopeAndAUserTokenByRole()
    {
        var jwtApi = StartJwtApi(new TestSigningKey("ES256", Active: true, PemPath: TestKeys.EcPemPath));
        var sample = StartSample();
        var admin = await jwtApi.LoginAsync(await jwtApi.AdminAsync());
        async Task<string> ClientTokenAsync(params string[] scopes)
        {
            var secret = JwtApi.Clients.ClientSecrets.Generate();
            var client = new JwtApi.Clients.Client
            {
                Name = "report feed", GrantTypes = [JwtApi.Clients.Client.Grants.ClientCredentials], Scopes = [.. scopes],
                Audiences = ["resource-sample"], SecretHash = JwtApi.Clients.ClientSecrets.Hash(secret),
            };
            using (var scope = jwtApi.Services.CreateScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<JwtApi.Storage.AppDb>();
                db.Clients.Add(client);
                await db.SaveChangesAsync();
            }
            var response = await jwtApi.CreateClient().PostAsync("/token", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials", ["client_id"] = client.Id, ["client_secret"] = secret,
            }));
            return (await response.JsonAsync()).GetProperty("access_token").GetString()!;
        }
        var reader = await ClientTokenAsync("reports:read");
        var writerOnly = await ClientTokenAsync("reports:write");

        (await CallAsync(sample, "/reports/feed", reader)).Should().Be(HttpStatusCode.OK);
        (await CallAsync(sample, "/reports/feed", writerOnly)).Should().Be(HttpStatusCode.Forbidden, "the scope is missing");
        (await CallAsync(sample, "/reports", reader)).Should().Be(HttpStatusCode.Forbidden, "a client token carries no role");
        (await CallAsync(sample, "/reports", admin)).Should().Be(HttpStatusCode.OK);
        (await CallAsync(sample, "/reports/feed", admin)).Should().Be(HttpStatusCode.Forbidden, "a user token carries no scope");
    }
}
