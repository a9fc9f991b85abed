using System.Net;
using System.Net.Http.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace JwtApi.Benchmarks;

/// <summary>
/// A failed login must cost the same whether the user is unknown, the password wrong or the account disabled,
/// so a stopwatch cannot tell an attacker which accounts exist. Each benchmark is one real POST /login through
/// the whole pipeline at BCrypt work factor 10; the ratio to the wrong-password case should be 1.00 within the
/// error, and the allocations equal.
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class LoginTimingBenchmarks
{
    private sealed class Config : ManualConfig
    {
        public Config()
        {
            // in process: the service runs inside the benchmark, as in the tests
            AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance)
                .WithStrategy(RunStrategy.Monitoring).WithWarmupCount(5).WithIterationCount(60).WithLaunchCount(1));
            AddColumn(StatisticColumn.Median, StatisticColumn.P95);
            WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared));
        }
    }

    private const string DisabledPassword = "disabled-user-passphrase";
    private BenchApi _api = null!;
    private HttpClient _client = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _api = new BenchApi(workFactor: 10);
        _client = _api.CreateClient();
        await _api.CreateUserAsync("alice", "alice-real-passphrase");
        var dan = await _api.CreateUserAsync("dan", DisabledPassword);
        using var admin = await _api.AdminClientAsync();
        (await admin.PostAsync($"/users/{dan}/disable", null)).EnsureSuccessStatusCode();
        // olga's hash was made when the work factor was 8: checking it alone would cost a quarter of a current one
        var olga = Guid.Parse(await _api.CreateUserAsync("olga", "olga-real-passphrase"));
        using (var scope = _api.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<JwtApi.Storage.AppDb>();
            var user = await db.Users.SingleAsync(u => u.Id == olga);
            user.PasswordHash = BCrypt.Net.BCrypt.HashPassword("olga-real-passphrase", 8);
            await db.SaveChangesAsync();
        }
        // Every path warm (JIT tiers, EF query caches, the connection pool) before the first measurement, so the
        // benchmark measured first does not pay for it.
        for (var i = 0; i < 30; i++)
        {
            await WrongPassword();
            await UnknownUser();
            await DisabledUser();
            await OldWorkFactorUser();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _api.Dispose();
    }

    private async Task<HttpStatusCode> LoginAsync(string username, string password)
    {
        using var response = await _client.PostAsJsonAsync("/login", new { username, password });
        return response.StatusCode == HttpStatusCode.Unauthorized
            ? response.StatusCode
            : throw new InvalidOperationException($"Expected 401, got {(int)response.StatusCode}");
    }

    [Benchmark(Baseline = true, Description = "wrong password")]
    public Task<HttpStatusCode> WrongPassword() => LoginAsync("alice", "not-alices-passphrase");

    [Benchmark(Description = "unknown user")]
    public Task<HttpStatusCode> UnknownUser() => LoginAsync("nobody-by-this-name", "not-alices-passphrase");

    [Benchmark(Description = "disabled user, right password")]
    public Task<HttpStatusCode> DisabledUser() => LoginAsync("dan", DisabledPassword);

    [Benchmark(Description = "wrong password, hash of work factor 8")]
    public Task<HttpStatusCode> OldWorkFactorUser() => LoginAsync("olga", "not-olgas-passphrase");
}
