using System.Net;
using JwtApi.Storage;
using JwtApi.Tests.Support;
using JwtApi.Tokens;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace JwtApi.Tests.Tokens;

/// <summary>The revocation list across restarts and across instances sharing one database.</summary>
public sealed class RevocationTests : IDisposable
{
    private readonly TestStorage _storage = new();

    private JwtApiFactory Instance() => new() { Storage = _storage };

    public void Dispose() => _storage.Dispose();

    [Fact]
    public async Task KeepsRevocationGivenRestart()
    {
        string access;
        using (var first = Instance())
        {
            access = (await first.LoginPairAsync(await first.CreateUserAsync())).Access;
            (await first.ClientWithToken(access).PostAsync("/logout", null)).Should().HaveStatusCode(HttpStatusCode.NoContent);
        }

        using var restarted = Instance();

        (await restarted.ClientWithToken(access).GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task RefusesTokenRevokedOnAnotherInstanceWithinTheSyncInterval()
    {
        using var a = Instance();
        using var b = Instance();
        var pair = await a.LoginPairAsync(await a.CreateUserAsync());
        using var onB = b.ClientWithToken(pair.Access);
        (await onB.GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.OK);

        (await a.ClientWithToken(pair.Access).PostAsync("/logout", null)).Should().HaveStatusCode(HttpStatusCode.NoContent);
        // B's refresh path reads the database: the family is refused there at once
        (await b.RefreshAsync(pair.Refresh)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        // B's bearer check reads memory: it learns of the revocation at its next sync, one interval later
        var synced = b.Services.GetRequiredService<RevocationSync>().NextSyncAsync();
        b.Time.Advance(b.JwtOptions.RevocationSyncInterval);
        await synced.WaitAsync(TimeSpan.FromSeconds(30));

        var response = await onB.GetAsync("/me");

        response.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await response.JsonAsync()).GetProperty("reason").GetString().Should().Be("token_revoked");
    }

    [Fact]
    public async Task PrunesRevocationsOnceEveryTokenTheyCoverHasExpired()
    {
        using var app = Instance();
        var pair = await app.LoginPairAsync(await app.CreateUserAsync());
        var jti = new JsonWebToken(pair.Access).Id;
        (await app.ClientWithToken(pair.Access).PostAsync("/logout", null)).Should().HaveStatusCode(HttpStatusCode.NoContent);
        var sync = app.Services.GetRequiredService<RevocationSync>();

        // the access token's row: exp (15 min) + the skew on both sides (2 × 30 s): another instance accepts the
        // token until exp + skew on its clock, which may run a skew behind this one; one second short of that it stays
        app.Time.Advance(TimeSpan.FromMinutes(15) + TimeSpan.FromSeconds(59));
        await sync.SyncAsync(full: true, CancellationToken.None);
        (await RowsAsync(app, jti)).Should().Be(1);

        app.Time.Advance(TimeSpan.FromSeconds(2));
        await sync.SyncAsync(full: true, CancellationToken.None);
        (await RowsAsync(app, jti)).Should().Be(0);
    }

    private static async Task<int> RowsAsync(JwtApiFactory app, string key)
    {
        using var scope = app.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<AppDb>().Revocations.CountAsync(r => r.Key == key);
    }
}
