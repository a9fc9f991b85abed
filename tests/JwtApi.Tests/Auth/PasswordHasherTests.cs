using System.Net;
using JwtApi.Auth;
using JwtApi.Tests.Support;
using Microsoft.Extensions.Options;

namespace JwtApi.Tests.Auth;

/// <summary>BCrypt runs a bounded number at a time; a full queue is refused at once instead of waiting.</summary>
public sealed class PasswordHasherTests
{
    // made once at cost 12 (about 250 ms to verify), so a verification is still running when the next one comes
    internal static readonly Lazy<string> SlowHash = new(() => BCrypt.Net.BCrypt.HashPassword("slow-password", 12));

    internal static void WaitUntil(Func<bool> condition) =>
        SpinWait.SpinUntil(condition, TimeSpan.FromSeconds(10)).Should().BeTrue("the hasher should reach that state");

    [Fact]
    public async Task QueuesBeyondTheConcurrencyLimitAndRefusesBeyondTheQueue()
    {
        using var hasher = new PasswordHasher(Options.Create(new PasswordOptions { WorkFactor = 4, MaxConcurrentHashes = 1, MaxQueuedHashes = 1 }), TestTelemetry.Create());
        var hash = SlowHash.Value;

        var running = Task.Run(() => hasher.VerifyAsync("slow-password", hash, CancellationToken.None));
        WaitUntil(() => hasher.FreeTurns == 0);
        var queued = Task.Run(() => hasher.VerifyAsync("slow-password", hash, CancellationToken.None));
        WaitUntil(() => hasher.QueueLength == 1);

        var refused = () => hasher.VerifyAsync("slow-password", hash, CancellationToken.None);

        await refused.Should().ThrowAsync<PasswordHashingBusyException>();
        (await running).Should().BeTrue();
        (await queued).Should().BeTrue();
        hasher.FreeTurns.Should().Be(1);
        hasher.QueueLength.Should().Be(0);
    }

    [Fact]
    public void AllowsOneTurnPerCoreByDefault()
    {
        using var hasher = new PasswordHasher(Options.Create(new PasswordOptions()), TestTelemetry.Create());

        hasher.FreeTurns.Should().Be(Environment.ProcessorCount);
    }

    [Fact]
    public async Task Answers503WithRetryAfterGivenLoginFloodBeyondTheQueue()
    {
        using var app = LoginFlood.Service();
        var user = await app.RegisterUserAsync();

        var answers = await LoginFlood.SendAsync(app, user);

        answers.Should().Contain(r => r.StatusCode == HttpStatusCode.OK);
        var busy = answers.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        busy.Should().NotBeEmpty();
        busy.Should().OnlyContain(r => r.Headers.RetryAfter!.Delta == TimeSpan.FromSeconds(1) &&
                                       r.Content.Headers.ContentType!.MediaType == "application/problem+json");
        answers.Should().OnlyContain(r => r.StatusCode == HttpStatusCode.OK || r.StatusCode == HttpStatusCode.ServiceUnavailable);
    }

    [Theory]
    [InlineData(10, 11, new[] { 10 })]
    [InlineData(4, 12, new[] { 4, 5, 6, 7, 8, 9, 10, 11 })]
    [InlineData(11, 11, new int[0])]
    [InlineData(12, 11, new int[0])]
    public void PadsAnOldWorkFactorToTheCostOfTheCurrentOne(int stored, int configured, int[] padding)
    {
        var hash = $"$2a${stored:D2}$" + new string('a', 53);

        var pads = PasswordHasher.PaddingWorkFactors(hash, configured);

        pads.Should().Equal(padding);
        // 2^w + 2^w + ... + 2^(W-1) = 2^W: the stored hash's verify and the pads cost one verify at the current factor
        (Math.Pow(2, stored) + pads.Sum(w => Math.Pow(2, w))).Should().Be(Math.Pow(2, Math.Max(stored, configured)));
    }

    [Theory]
    [InlineData(null, new int[0])]             // no user: the dummy hash already costs the full work factor
    [InlineData("not-a-bcrypt-hash", new[] { 11 })]   // refused at once: one full dummy verify instead
    [InlineData("$2a$99$aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", new[] { 11 })]
    public void PadsNoHashOrAnUnreadableOneAsAnUnknownUser(string? hash, int[] padding)
    {
        PasswordHasher.PaddingWorkFactors(hash, 11).Should().Equal(padding);
    }

    [Fact]
    public async Task VerifiesAnOldWorkFactorHashAfterPadding()
    {
        using var hasher = new PasswordHasher(Options.Create(new PasswordOptions { WorkFactor = 6 }), TestTelemetry.Create());
        var old = BCrypt.Net.BCrypt.HashPassword("old-password", 4);

        (await hasher.VerifyAsync("old-password", old, CancellationToken.None)).Should().BeTrue();
        (await hasher.VerifyAsync("wrong-password", old, CancellationToken.None)).Should().BeFalse();
    }
}

public sealed class HashingThreadsTests
{
    [Fact]
    public async Task RunsWorkOnThreadsOfTheLowestPriorityAndLowersNoPoolThread()
    {
        using var threads = new HashingThreads(2);

        var (name, nice) = await threads.RunAsync(() => (Thread.CurrentThread.Name, HashingThreads.CurrentThreadNice()));
        // enough work, awaited concurrently, to make the thread pool grow while results come back
        await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(() => threads.RunAsync(() => Thread.CurrentThread.Name))));

        name.Should().StartWith("bcrypt-");
        if (OperatingSystem.IsLinux())
        {
            nice.Should().Be(HashingThreads.LowestPriorityNice);
            // The thread pool's threads, which serve the requests, and the results relay keep their priority. (The
            // runtime's own occasional threads, such as the tiered-JIT worker, may be started from a hashing thread
            // and inherit its priority until they exit: docs/PERFORMANCE.md.)
            foreach (var task in Directory.GetDirectories("/proc/self/task"))
            {
                string comm, stat;
                try
                {
                    comm = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                    stat = File.ReadAllText(Path.Combine(task, "stat"));
                }
                catch (IOException)
                {
                    continue;   // the thread ended between the listing and the reading
                }
                var niceValue = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16], System.Globalization.CultureInfo.InvariantCulture);
                if (comm.StartsWith(".NET TP", StringComparison.Ordinal) || comm == "bcrypt-results")
                {
                    niceValue.Should().Be(0, $"thread {comm} must keep its priority");
                }
            }
        }
    }

    [Fact]
    public async Task PassesExceptionsBackToTheCaller()
    {
        using var threads = new HashingThreads(1);

        var failing = () => threads.RunAsync<int>(() => throw new InvalidOperationException("boom"));

        await failing.Should().ThrowAsync<InvalidOperationException>().WithMessage("boom");
        (await threads.RunAsync(() => 42)).Should().Be(42);
    }
}
