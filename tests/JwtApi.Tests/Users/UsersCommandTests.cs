using System.Text.Json;
using JwtApi.Tests.Support;
using JwtApi.Users;

namespace JwtApi.Tests.Users;

/// <summary>
/// The operator CLI as a real process on a database of its own (SQLite, or PostgreSQL under JWTAPI_TEST_POSTGRES),
/// no service running: each command, its output and its exit code. With a running service: UsersCommandServiceTests.
/// </summary>
public sealed class UsersCommandTests : IDisposable
{
    private readonly TestStorage _storage = new();

    public void Dispose() => _storage.Dispose();

    private Task<CliRun> Users(string? stdin, params string[] args) => UsersCli.RunAsync(_storage, stdin, args);

    [Fact]
    public async Task PrintsTheUsageOnStderrWithExitCode2GivenHelp()
    {
        var help = await Users(null, "--help");

        help.ExitCode.Should().Be(2);
        help.Stdout.Should().BeEmpty();
        help.Stderr.Should().StartWith("usage: dotnet JwtApi.dll users list [--json]")
            .And.Contain("users create NAME [--role ROLE]...").And.Contain("users reset-password NAME")
            .And.Contain("users enable NAME").And.Contain("users disable NAME").And.Contain("users mfa-reset NAME")
            .And.Contain("Exit codes: 0 done, 1 refused or failed (the reason on stderr), 2 usage.");
    }

    [Theory]
    [InlineData("", "users", "usage: dotnet JwtApi.dll users list [--json]\n       dotnet JwtApi.dll users create")]
    [InlineData("", "users help", "usage: dotnet JwtApi.dll users list [--json]\n")]
    [InlineData("users: no command 'remove'", "users remove alice", "usage: dotnet JwtApi.dll users list")]
    [InlineData("", "users disable --help", "usage: dotnet JwtApi.dll users disable NAME\n\nThe user can no longer log in")]
    [InlineData("", "users create alice -h", "usage: dotnet JwtApi.dll users create NAME [--role ROLE]...\n")]
    [InlineData("users disable: NAME is missing", "users disable", "usage: dotnet JwtApi.dll users disable NAME\n")]
    [InlineData("users enable: unexpected 'bob'", "users enable alice bob", "usage: dotnet JwtApi.dll users enable NAME\n")]
    [InlineData("users list: unexpected '--all'", "users list --all", "usage: dotnet JwtApi.dll users list [--json]\n\n")]
    [InlineData("users create: unexpected '--role'", "users create alice --role", "usage: dotnet JwtApi.dll users create")]
    [InlineData("users disable: unexpected '--role'", "users disable alice --role admin", "usage: dotnet JwtApi.dll users disable")]
    [InlineData("users reset-password: unexpected '--json'", "users reset-password alice --json", "usage: dotnet JwtApi.dll users reset-password")]
    public async Task AnswersTheUsageWithExitCode2GivenBadArguments(string problem, string commandLine, string usage)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        // in-process: the arguments are refused before anything is configured or opened
        var exit = await UsersCommand.RunAsync(commandLine.Split(' '), TextReader.Null, inputRedirected: false, output, error);

        exit.Should().Be(UsersCommand.UsageError);
        output.ToString().Should().BeEmpty();
        error.ToString().Should().StartWith(problem.Length == 0 ? usage : $"{problem}\n{usage}");
    }

    [Fact]
    public async Task CreatesAndListsUsersRefusingAWeakPasswordAndATakenName()
    {
        const string alicePassword = "alice-operator-passphrase";
        var alice = await Users(alicePassword, "create", "alice");
        var weak = await Users("password", "create", "carol");
        var bob = await Users(null, "create", "bob", "--role", "admin", "--role=user");
        var taken = await Users("another-long-passphrase", "create", "ALICE");
        var table = await Users(null, "list");
        var json = await Users(null, "list", "--json");

        alice.ShouldSucceed().Stdout.Should().MatchRegex(@"^Created alice \([0-9a-f-]{36}\), roles: user\.\n$");
        alice.Stderr.Should().Contain("JwtApi.Audit[2012] Account ").And.Contain(" created by cli from local at users create");
        weak.ShouldBeRefused("users create: password refused: This password is one of the 10,000 most common passwords");
        bob.ShouldSucceed().Stdout.Should().StartWith("Created bob (").And.Contain("roles: admin,user.");
        bob.GeneratedPassword.Should().MatchRegex("^[A-Za-z0-9_-]{24}$");
        taken.ShouldBeRefused("users create: the username 'ALICE' is taken");

        table.ShouldSucceed();
        var lines = table.Stdout.TrimEnd().Split('\n');
        lines.Should().HaveCount(3);
        lines[0].Should().MatchRegex(@"^ID +USERNAME +ROLES +DISABLED +MFA +CREATED$");
        lines[1].Should().MatchRegex(@"^[0-9a-f-]{36}  alice +user +no +off +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$");
        lines[2].Should().MatchRegex(@"^[0-9a-f-]{36}  bob +admin,user +no +off +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$");

        var users = JsonDocument.Parse(json.ShouldSucceed().Stdout).RootElement.EnumerateArray().ToList();
        users.Select(u => u.GetProperty("username").GetString()).Should().Equal("alice", "bob");
        users[1].GetProperty("roles").EnumerateArray().Select(r => r.GetString()).Should().Equal("admin", "user");
        users[1].GetProperty("disabled").GetBoolean().Should().BeFalse();
        users[1].GetProperty("mfa_enabled").GetBoolean().Should().BeFalse();
        users[1].GetProperty("id").GetGuid().Should().NotBeEmpty();
        users[1].GetProperty("created_at").GetDateTimeOffset().Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5));
        users[1].TryGetProperty("updated_at", out _).Should().BeTrue();

        // no password reaches a stream but the generated one, once, on stdout
        string[] streams = [.. new[] { alice, weak, bob, taken, table, json }.SelectMany(r => new[] { r.Stdout, r.Stderr })];
        streams.Should().NotContain(s => s.Contains(alicePassword) || s.Contains("password\n"));
        streams.Count(s => s.Contains(bob.GeneratedPassword!)).Should().Be(1);
    }

    [Theory]
    [InlineData("disable")]
    [InlineData("enable")]
    [InlineData("reset-password")]
    [InlineData("mfa-reset")]
    public async Task AnswersExitCode1GivenAnUnknownUser(string command)
    {
        var run = await Users("a-long-enough-passphrase", command, "nobody");

        run.ShouldBeRefused($"users {command}: no user is named 'nobody'.");
    }

    [Fact]
    public async Task RefusesToDisableTheLastEnabledAdmin()
    {
        (await Users("the-only-admin-passphrase", "create", "boss", "--role", "admin")).ShouldSucceed();

        var disable = await Users(null, "disable", "boss");
        var list = await Users(null, "list", "--json");

        disable.ShouldBeRefused("users disable: boss: This is the last enabled admin: make another user admin first.");
        JsonDocument.Parse(list.Stdout).RootElement[0].GetProperty("disabled").GetBoolean().Should().BeFalse();
    }

    [Theory]
    [InlineData("Postgres", "Host=127.0.0.1;Port=1;Database=jwtapi;Username=jwtapi;Password=not-shown-anywhere",
        "users list: the database could not be used: Failed to connect to 127.0.0.1:1")]
    [InlineData("Oracle", null, "users list: a setting is wrong: Database:Provider is 'Oracle': use Sqlite")]
    public async Task AnswersExitCode1WithOneLineGivenAnUnusableDatabase(string provider, string? connectionString, string because)
    {
        var run = await UsersCli.RunAsync(_storage, null, new Dictionary<string, string?>
        {
            ["Database:Provider"] = provider,
            ["ConnectionStrings:Users"] = connectionString,
        }, "list");

        run.ShouldBeRefused(because);
        run.Stderr.Should().NotContain("not-shown-anywhere").And.NotContain("   at ");
    }
}
