using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using JwtApi.Auth;
using JwtApi.Hosting;
using JwtApi.Tests.Auth;
using JwtApi.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using static JwtApi.Hosting.Telemetry;

namespace JwtApi.Tests.Hosting;

/// <summary>
/// Each instrument moves with the right tag for the right event, through the real HTTP pipeline; the activities
/// cover the auth work and carry no credential. Collectors are bound to this host's meter factory, so tests of
/// other classes running at the same time never show up here.
/// </summary>
public sealed class TelemetryTests(JwtApiFactory app) : IClassFixture<JwtApiFactory>
{
    private MetricCollector<T> Collect<T>(string instrument) where T : struct => Collect<T>(app, instrument);

    private static MetricCollector<T> Collect<T>(JwtApiFactory host, string instrument) where T : struct =>
        new(host.Services.GetRequiredService<IMeterFactory>(), Telemetry.Name, instrument);

    private static List<string?> Tagged<T>(MetricCollector<T> collector, string tag) where T : struct =>
        collector.GetMeasurementSnapshot().Select(m => m.Tags[tag]?.ToString()).ToList();

    private static FormUrlEncodedContent Form(params (string Key, string Value)[] fields) =>
        new(fields.Select(f => KeyValuePair.Create(f.Key, f.Value)));

    [Fact]
    public async Task CountsLoginsByOutcomeWithOneOutcomeForEveryWrongCredential()
    {
        var alice = await app.CreateUserAsync();
        var disabled = await app.CreateUserAsync();
        using (var admin = await app.ClientForAsync(await app.AdminAsync()))
        {
            (await admin.PostAsync($"/users/{disabled.Id}/disable", null)).Should().HaveStatusCode(HttpStatusCode.OK);
        }
        using var logins = Collect<long>(Instruments.Logins);
        using var client = app.CreateClient();

        (await client.LoginAsync(alice.Username, alice.Password)).Should().HaveStatusCode(HttpStatusCode.OK);
        (await client.LoginAsync(alice.Username, "wrong-password")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await client.LoginAsync("nobody-" + Guid.NewGuid().ToString("N")[..8], "some-password")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await client.LoginAsync(disabled.Username, disabled.Password)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await client.PostAsync("/token", Form(("grant_type", "password"), ("username", alice.Username), ("password", alice.Password))))
            .Should().HaveStatusCode(HttpStatusCode.OK);

        Tagged(logins, Tags.LoginOutcome).Should().Equal(
            LoginOutcome.Success, LoginOutcome.InvalidCredentials, LoginOutcome.InvalidCredentials, LoginOutcome.InvalidCredentials, LoginOutcome.Success);
        logins.GetMeasurementSnapshot().Should().OnlyContain(m => m.Value == 1 && m.Tags.Count == 1);
    }

    [Fact]
    public async Task CountsThrottledLogins()
    {
        using var throttled = new JwtApiFactory();
        throttled.Settings["RateLimits:PerUsername:PermitLimit"] = "1";
        var bob = await throttled.RegisterUserAsync();
        using var logins = Collect<long>(throttled, Instruments.Logins);
        using var client = throttled.CreateClient();

        (await client.LoginAsync(bob.Username, "wrong-password")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await client.LoginAsync(bob.Username, bob.Password)).Should().HaveStatusCode(HttpStatusCode.TooManyRequests);

        Tagged(logins, Tags.LoginOutcome).Should().Equal(LoginOutcome.InvalidCredentials, LoginOutcome.Throttled);
    }

    [Fact]
    public async Task CountsOneBusyLoginForEvery503()
    {
        using var busy = LoginFlood.Service();
        var user = await busy.RegisterUserAsync();
        using var logins = Collect<long>(busy, Instruments.Logins);

        var answers = (await LoginFlood.SendAsync(busy, user)).Select(r => r.StatusCode).ToList();

        var outcomes = Tagged(logins, Tags.LoginOutcome);
        answers.Should().Contain(HttpStatusCode.ServiceUnavailable);
        outcomes.Count(o => o == LoginOutcome.Busy).Should().Be(answers.Count(a => a == HttpStatusCode.ServiceUnavailable));
        outcomes.Count(o => o == LoginOutcome.Success).Should().Be(answers.Count(a => a == HttpStatusCode.OK));
    }

    [Fact]
    public async Task CountsAnAccessAndARefreshTokenForEveryLoginAndRefresh()
    {
        var carol = await app.CreateUserAsync();
        using var issued = Collect<long>(Instruments.TokensIssued);

        var pair = await app.LoginPairAsync(carol);
        (await app.RefreshAsync(pair.Refresh)).Should().HaveStatusCode(HttpStatusCode.OK);
        (await app.RefreshAsync("not-a-refresh-token")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);

        Tagged(issued, Tags.TokenKind).Should().Equal(TokenKind.Access, TokenKind.Refresh, TokenKind.Access, TokenKind.Refresh);
    }

    [Fact]
    public async Task CountsRejectedTokensByTheReasonThe401Gives()
    {
        var dave = await app.CreateUserAsync();
        var revoked = await app.LoginAsync(dave);
        using (var client = app.ClientWithToken(revoked))
        {
            (await client.PostAsync("/logout", null)).Should().HaveStatusCode(HttpStatusCode.NoContent);
        }
        var minter = new TokenMinter(app.JwtOptions, app.Algorithm);
        var past = DateTime.UtcNow.AddHours(-2);
        var tokens = new[]
        {
            minter.Mint(credentials: minter.ForeignCredentials),
            minter.Mint(d => { d.IssuedAt = past; d.NotBefore = past; d.Expires = past.AddMinutes(15); }),
            "not-a-jwt",
            revoked,
        };
        using var rejected = Collect<long>(Instruments.TokensRejected);

        var reasons = new List<string>();
        foreach (var token in tokens)
        {
            using var client = app.ClientWithToken(token);
            var response = await client.GetAsync("/me");
            response.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
            reasons.Add((await response.JsonAsync()).GetProperty("reason").GetString()!);
        }
        // no token at all is a challenge, not a rejection
        (await app.CreateClient().GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);

        reasons.Should().Equal("bad_signature", "token_expired", "malformed", "token_revoked");
        Tagged(rejected, Tags.RejectionReason).Should().Equal(reasons);
    }

    [Fact]
    public async Task CountsRefreshesByOutcome()
    {
        var erin = await app.CreateUserAsync();
        var first = await app.LoginPairAsync(erin);
        using var refreshes = Collect<long>(Instruments.Refreshes);

        var second = TokenSet.From(await (await app.RefreshAsync(first.Refresh)).EnsureSuccessStatusCode().JsonAsync());
        // no reuse detection (docs/reference.md, "Revocation"): an older token of a live login still refreshes
        (await app.RefreshAsync(first.Refresh)).Should().HaveStatusCode(HttpStatusCode.OK);
        (await app.RefreshAsync("not-a-refresh-token")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        using (var client = app.ClientWithToken(second.Access))
        {
            (await client.PostAsync("/logout", null)).Should().HaveStatusCode(HttpStatusCode.NoContent);
        }
        (await app.RefreshAsync(second.Refresh)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);

        Tagged(refreshes, Tags.RefreshOutcome).Should().Equal(
            RefreshOutcome.Success, RefreshOutcome.Success, "invalid_refresh_token", "login_revoked");
    }

    [Fact]
    public async Task CountsRevocationsByKind()
    {
        var frank = await app.CreateUserAsync();
        var thisDevice = await app.LoginAsync(frank);
        var otherDevice = await app.LoginAsync(frank);
        using var revocations = Collect<long>(Instruments.Revocations);

        using (var client = app.ClientWithToken(thisDevice))
        {
            (await client.PostAsync("/logout", null)).Should().HaveStatusCode(HttpStatusCode.NoContent);
        }
        var afterLogout = Tagged(revocations, Tags.RevocationKind);
        using (var client = app.ClientWithToken(otherDevice))
        {
            (await client.PostAsync("/logout/all", null)).Should().HaveStatusCode(HttpStatusCode.NoContent);
        }

        afterLogout.Should().Equal("access_token", "login");
        Tagged(revocations, Tags.RevocationKind).Should().Equal("access_token", "login", "user_tokens", "access_token");
    }

    [Fact]
    public async Task TimesEachPasswordHashAndCheck()
    {
        using var hashing = Collect<double>(Instruments.PasswordHashingDuration);

        var grace = await app.RegisterUserAsync();
        await app.LoginAsync(grace);

        hashing.GetMeasurementSnapshot().Select(m => (m.Tags[Tags.HashingOperation], m.Value > 0))
            .Should().Equal((HashingOperation.Hash, true), (HashingOperation.Verify, true));
    }

    [Fact]
    public async Task ReportsHowManyPasswordChecksWaitForATurn()
    {
        using var host = new JwtApiFactory();
        host.Settings["Passwords:MaxConcurrentHashes"] = "1";
        var hasher = host.Services.GetRequiredService<PasswordHasher>();
        using var queue = Collect<long>(host, Instruments.PasswordHashingQueueLength);
        var hash = PasswordHasherTests.SlowHash.Value;

        var running = Task.Run(() => hasher.VerifyAsync("slow-password", hash, CancellationToken.None));
        PasswordHasherTests.WaitUntil(() => hasher.FreeTurns == 0);
        var queued = new[]
        {
            Task.Run(() => hasher.VerifyAsync("slow-password", hash, CancellationToken.None)),
            Task.Run(() => hasher.VerifyAsync("slow-password", hash, CancellationToken.None)),
        };
        PasswordHasherTests.WaitUntil(() => hasher.QueueLength == 2);
        queue.RecordObservableInstruments();
        var whileQueued = queue.LastMeasurement!.Value;
        await Task.WhenAll([running, .. queued]);
        queue.RecordObservableInstruments();

        whileQueued.Should().Be(2);
        queue.LastMeasurement!.Value.Should().Be(0);
    }

    [Fact]
    public async Task TracesTheAuthWorkWithoutAnyCredentialInATag()
    {
        var henry = await app.CreateUserAsync();
        var source = app.Services.GetRequiredService<Telemetry>().Source;
        var recorded = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            // this host's source only: other test classes run at the same time
            ShouldListenTo = candidate => ReferenceEquals(candidate, source),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = recorded.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        using var client = app.CreateClient();
        (await client.LoginAsync(henry.Username, "wrong-password")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        var pair = await app.LoginPairAsync(henry);
        var viaForm = await client.PostAsync("/token", Form(("grant_type", "password"), ("username", henry.Username), ("password", henry.Password)));
        var formPair = TokenSet.From(await viaForm.EnsureSuccessStatusCode().JsonAsync());
        var refreshed = TokenSet.From(await (await app.RefreshAsync(pair.Refresh)).EnsureSuccessStatusCode().JsonAsync());
        using (var authed = app.ClientWithToken(refreshed.Access))
        {
            (await authed.PostAsJsonAsync("/logout", new { refresh_token = refreshed.Refresh })).Should().HaveStatusCode(HttpStatusCode.NoContent);
        }

        var activities = recorded.ToList();
        activities.Select(a => a.OperationName).Distinct().Should().BeEquivalentTo(
            Activities.SignIn, Activities.PasswordVerify, Activities.TokenIssue, Activities.Refresh, Activities.Revoke);
        activities.Where(a => a.OperationName == Activities.SignIn).Select(a => a.GetTagItem(Tags.LoginOutcome))
            .Should().Equal(LoginOutcome.InvalidCredentials, LoginOutcome.Success, LoginOutcome.Success);
        activities.Single(a => a.OperationName == Activities.Refresh).GetTagItem(Tags.RefreshOutcome).Should().Be(RefreshOutcome.Success);
        activities.Where(a => a.OperationName == Activities.TokenIssue).Should().HaveCount(3)
            .And.OnlyContain(a => (string?)a.GetTagItem(Tags.TokenAlgorithm) == app.Algorithm);
        // each password check is a child of its sign-in
        var signIns = activities.Where(a => a.OperationName == Activities.SignIn).Select(a => a.SpanId).ToList();
        activities.Where(a => a.OperationName == Activities.PasswordVerify).Select(a => a.ParentSpanId).Should().BeEquivalentTo(signIns);

        var secrets = new[] { henry.Username, henry.Password, henry.Id.ToString(), pair.Access, pair.Refresh, formPair.Access, formPair.Refresh, refreshed.Access, refreshed.Refresh }
            .Concat(new[] { pair.Access, refreshed.Access }.Select(t => t.Split('.')[2]));
        var written = activities.SelectMany(a => a.TagObjects.Select(t => $"{t.Key}={t.Value}")
            .Concat(a.Events.SelectMany(e => e.Tags.Select(t => $"{t.Key}={t.Value}").Append(e.Name)))
            .Append(a.DisplayName).Append(a.StatusDescription ?? "")).ToList();
        written.Should().NotBeEmpty();
        foreach (var secret in secrets)
        {
            written.Should().NotContain(w => w.Contains(secret, StringComparison.Ordinal));
        }
    }
}
