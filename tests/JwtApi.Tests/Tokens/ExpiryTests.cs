using System.Net;
using JwtApi.Tests.Support;

namespace JwtApi.Tests.Tokens;

/// <summary>
/// Expiry through the real login: the fake clock issues the token in the past, and JwtBearer judges it on the
/// system clock, so no test waits.
/// </summary>
public sealed class ExpiryTests(JwtApiFactory app) : IClassFixture<JwtApiFactory>
{
    [Fact]
    public async Task Returns401TokenExpiredGivenTokenIssuedPastItsLifetimeAndSkew()
    {
        var alice = await app.CreateUserAsync();
        app.Time.AdjustTime(DateTimeOffset.UtcNow - TimeSpan.FromMinutes(15) - TimeSpan.FromSeconds(31));
        var token = await app.LoginAsync(alice);
        app.Time.AdjustTime(DateTimeOffset.UtcNow);

        var response = await app.ClientWithToken(token).GetAsync("/me");

        response.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().Should().Be("Bearer error=\"invalid_token\", error_description=\"The token has expired.\"");
    }

    [Fact]
    public async Task Returns200GivenTokenExpiredWithinClockSkew()
    {
        var alice = await app.CreateUserAsync();
        // expired 20 s ago: inside the 30 s allowance for clocks that disagree
        app.Time.AdjustTime(DateTimeOffset.UtcNow - TimeSpan.FromMinutes(15) - TimeSpan.FromSeconds(20));
        var token = await app.LoginAsync(alice);
        app.Time.AdjustTime(DateTimeOffset.UtcNow);

        var response = await app.ClientWithToken(token).GetAsync("/me");

        response.Should().HaveStatusCode(HttpStatusCode.OK);
    }
}
