using System.Net;
using System.Net.Http.Json;
using JwtApi.Tests.Mfa;
using JwtApi.Tests.Support;
using JwtApi.Tokens;
using Microsoft.Extensions.DependencyInjection;

namespace JwtApi.Tests.Users;

/// <summary>
/// The operator CLI beside a running service on the same database: what the command changes, the service enforces
/// without a restart (the refresh path and every write re-read the row; the bearer check learns the revocations at
/// its next sync). On SQLite and on PostgreSQL alike.
/// </summary>
public sealed class UsersCommandServiceTests : IDisposable
{
    private readonly TestStorage _storage = new();
    private readonly JwtApiFactory _app;

    public UsersCommandServiceTests() => _app = new JwtApiFactory { Storage = _storage };

    public void Dispose()
    {
        _app.Dispose();
        _storage.Dispose();
    }

    private Task<CliRun> Users(string? stdin, params string[] args) => UsersCli.RunAsync(_storage, stdin, args);

    private async Task<HttpStatusCode> LoginAsync(string username, string password)
    {
        using var client = _app.CreateClient();
        return (await client.LoginAsync(username, password)).StatusCode;
    }

    [Fact]
    public async Task EndsEveryLoginOnTheRunningServiceGivenDisable()
    {
        var alice = await _app.CreateUserAsync();
        var pair = await _app.LoginPairAsync(alice);

        var disable = await Users(null, "disable", alice.Username);

        disable.ShouldSucceed().Stdout.Should().Be($"Disabled {alice.Username}; every login of theirs ended.\n");
        disable.Stderr.Should().Contain($"Account {alice.Id} disabled by cli from local at users disable")
            .And.Contain($"Revoked user_tokens {alice.Id} by cli from local at users disable");
        (await _app.RefreshAsync(pair.Refresh)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        using var old = _app.ClientWithToken(pair.Access);
        var write = await old.PutAsJsonAsync("/me/password", new { current_password = alice.Password, new_password = "a-new-long-passphrase" });
        write.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await write.JsonAsync()).GetProperty("reason").GetString().Should().Be("token_revoked");
        (await LoginAsync(alice.Username, alice.Password)).Should().Be(HttpStatusCode.Unauthorized);
        // reads answer from the token and the in-memory list, which learns the CLI's revocation at its next sync
        await _app.Services.GetRequiredService<RevocationSync>().SyncAsync(full: false, CancellationToken.None);
        (await old.GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);

        (await Users(null, "disable", alice.Username)).ShouldSucceed().Stdout.Should().Be($"{alice.Username} was already disabled.\n");
        (await Users(null, "enable", alice.Username)).ShouldSucceed().Stdout.Should().Be($"Enabled {alice.Username}; every login of theirs ended.\n");
        (await LoginAsync(alice.Username, alice.Password)).Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ReplacesThePasswordAndEndsEveryLoginGivenResetPassword()
    {
        var alice = await _app.CreateUserAsync();
        var pair = await _app.LoginPairAsync(alice);

        var reset = await Users(null, "reset-password", alice.Username);
        var weak = await Users(alice.Username, "reset-password", alice.Username);

        reset.ShouldSucceed().Stdout.Should().StartWith($"Set a new password for {alice.Username}; every login of theirs ended.\n");
        reset.Stderr.Should().Contain($"Account {alice.Id} password_reset by cli");
        var generated = reset.GeneratedPassword!;
        (await LoginAsync(alice.Username, alice.Password)).Should().Be(HttpStatusCode.Unauthorized);
        (await LoginAsync(alice.Username, generated)).Should().Be(HttpStatusCode.OK);
        (await _app.RefreshAsync(pair.Refresh)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        using var old = _app.ClientWithToken(pair.Access);
        (await old.PutAsJsonAsync("/me/password", new { current_password = generated, new_password = "a-new-long-passphrase" }))
            .Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        weak.ShouldBeRefused("users reset-password: password refused: The password must not be the username.");
        (await LoginAsync(alice.Username, generated)).Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task TurnsTwoFactorSignInOffGivenMfaReset()
    {
        var enrolled = await _app.EnrolledAsync();
        var alice = enrolled.User;
        (await LoginAsync(alice.Username, alice.Password)).Should().Be(HttpStatusCode.Unauthorized, "a code is asked for");

        var before = await Users(null, "list");
        var reset = await Users(null, "mfa-reset", alice.Username);
        var after = await Users(null, "list");

        before.ShouldSucceed().Stdout.Should().MatchRegex($@"\n[0-9a-f-]{{36}}  {alice.Username} +user +no +on ");
        reset.ShouldSucceed().Stdout.Should().Be(
            $"Two-factor sign-in of {alice.Username} is off (authenticator and recovery codes deleted); every login of theirs ended.\n");
        reset.Stderr.Should().Contain($"Second factor of user {alice.Id}: reset, by cli from local at users mfa-reset");
        after.ShouldSucceed().Stdout.Should().MatchRegex($@"\n[0-9a-f-]{{36}}  {alice.Username} +user +no +off ");
        (await LoginAsync(alice.Username, alice.Password)).Should().Be(HttpStatusCode.OK, "no code is asked for any more");
        (await _app.RefreshAsync(enrolled.Tokens.GetProperty("refresh_token").GetString()!)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task RecoversALockedOutAdmin()
    {
        var root = await _app.AdminAsync();

        // the only admin cannot be disabled, from here either
        (await Users(null, "disable", root.Username)).ShouldBeRefused("This is the last enabled admin");
        // a second admin, made from the command line, administers the service at once
        (await Users("rescue-admin-passphrase", "create", "rescue", "--role", "admin", "--role", "user")).ShouldSucceed();
        using (var rescue = await _app.ClientForAsync(new TestUser(Guid.Empty, "rescue", "rescue-admin-passphrase")))
        {
            (await rescue.GetAsync("/users")).Should().HaveStatusCode(HttpStatusCode.OK);
        }
        (await Users(null, "disable", root.Username)).ShouldSucceed();
        (await LoginAsync(root.Username, root.Password)).Should().Be(HttpStatusCode.Unauthorized);

        // then the first comes back, with a new password
        (await Users(null, "enable", root.Username)).ShouldSucceed();
        (await Users("root-recovered-passphrase", "reset-password", root.Username)).ShouldSucceed().GeneratedPassword.Should().BeNull();

        (await LoginAsync(root.Username, root.Password)).Should().Be(HttpStatusCode.Unauthorized);
        using var recovered = await _app.ClientForAsync(root with { Password = "root-recovered-passphrase" });
        (await recovered.GetAsync("/users")).Should().HaveStatusCode(HttpStatusCode.OK);
    }
}
