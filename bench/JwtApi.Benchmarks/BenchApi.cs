using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace JwtApi.Benchmarks;

/// <summary>
/// The real service in memory (the whole middleware pipeline, a SQLite file, real BCrypt) with random keys,
/// a BCrypt work factor of production strength, and the rate limits out of the way.
/// </summary>
public sealed class BenchApi(int workFactor) : WebApplicationFactory<Program>
{
    public const string AdminUsername = "bench-admin";
    public const string AdminPassword = "bench-admin-passphrase";

    private readonly string _data = Directory.CreateTempSubdirectory("jwtapi-bench-").FullName;

    static BenchApi()
    {
        // WebApplicationFactory looks for the web project beside the solution by assembly name; it lives in src/
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "src", "JwtApi", "JwtApi.csproj")))
        {
            dir = dir.Parent;
        }
        if (dir is not null)
        {
            Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_JWTAPI", Path.Combine(dir.FullName, "src", "JwtApi"));
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["ConnectionStrings:Users"] = $"Data Source={Path.Combine(_data, "users.db")}",
            ["Storage:DataDirectory"] = _data,
            ["Jwt:Algorithm"] = "HS256",
            ["Jwt:SigningKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Jwt:RefreshSigningKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Passwords:WorkFactor"] = workFactor.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Seed:AdminUsername"] = AdminUsername,
            ["Seed:AdminPassword"] = AdminPassword,
            ["RateLimits:PerAddress:PermitLimit"] = "1000000000",
            ["RateLimits:PerUsernameAndAddress:PermitLimit"] = "1000000000",
            ["RateLimits:PerUsername:PermitLimit"] = "1000000000",
            ["Logging:LogLevel:Default"] = "Warning",
        })
        {
            builder.UseSetting(key, value);
        }
    }

    /// <summary>Creates a user through the admin API and returns its id.</summary>
    public async Task<string> CreateUserAsync(string username, string password)
    {
        using var admin = await AdminClientAsync();
        var response = await admin.PostAsJsonAsync("/users", new { username, password, roles = new[] { "user" } });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    public async Task<HttpClient> AdminClientAsync()
    {
        var client = CreateClient();
        var login = await client.PostAsJsonAsync("/login", new { username = AdminUsername, password = AdminPassword });
        var token = (await login.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString();
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        return client;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
    }
}
