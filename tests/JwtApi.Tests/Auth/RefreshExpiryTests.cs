using System.Net;
using JwtApi.Tests.Support;

namespace JwtApi.Tests.Auth;

/// <summary>
/// Idle and absolute timeouts, judged on the injected clock: works one second before the limit, fails at it.
/// Only /register, /login and /refresh are called, which never consult the system clock. The clock jumps
/// with AdjustTime: Advance would fire the revocation sync timer once per interval of the days skipped.
/// </summary>
public sealed class RefreshExpiryTests(JwtApiFactory app) : IClassFixture<JwtApiFactory>
{
    private static readonly TimeSpan Idle = TimeSpan.FromDays(14);
    private static readonly TimeSpan Absolute = TimeSpan.FromDays(30);
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    /// <summary>Logs in at a whole second, so the token's exp is exactly login + lifetime.</summary>
    private async Task<TokenSet> LoginAtWholeSecondAsync()
    {
        var user = await app.RegisterUserAsync();
        var now = app.Time.GetUtcNow();
        Skip(TimeSpan.FromTicks(TimeSpan.TicksPerSecond - now.Ticks % TimeSpan.TicksPerSecond));
        return await app.LoginPairAsync(user);
    }

    private void Skip(TimeSpan span) => app.Time.AdjustTime(app.Time.GetUtcNow() + span);

    [Fact]
    public async Task Returns200OneSecondBeforeIdleExpiryAnd401AtIt()
    {
        var early = await LoginAtWholeSecondAsync();
        var late = await app.LoginPairAsync(await app.RegisterUserAsync());   // same second as early

        Skip(Idle - Second);
        (await app.RefreshAsync(early.Refresh)).Should().HaveStatusCode(HttpStatusCode.OK);

        Skip(Second);
        (await app.RefreshAsync(late.Refresh)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task EndsTheLoginAtItsAbsoluteLifetimeHoweverOftenItRefreshes()
    {
        var pair = await LoginAtWholeSecondAsync();

        // refreshing every 13 days keeps the idle timeout from ever firing
        Skip(TimeSpan.FromDays(13));
        pair = TokenSet.From(await (await app.RefreshAsync(pair.Refresh)).EnsureSuccessStatusCode().JsonAsync());
        Skip(TimeSpan.FromDays(13));
        var response = await app.RefreshAsync(pair.Refresh);
        response.Should().HaveStatusCode(HttpStatusCode.OK);
        pair = TokenSet.From(await response.JsonAsync());
        // 26 days in: the new token may live 4 more days, not 14
        pair.RefreshExpiresIn.Should().Be((int)(Absolute - TimeSpan.FromDays(26)).TotalSeconds);

        Skip(TimeSpan.FromDays(4) - Second);
        var lastSecond = await app.RefreshAsync(pair.Refresh);
        lastSecond.Should().HaveStatusCode(HttpStatusCode.OK);
        var last = TokenSet.From(await lastSecond.JsonAsync());
        last.RefreshExpiresIn.Should().Be(1);

        Skip(Second);
        (await app.RefreshAsync(last.Refresh)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
    }
}
