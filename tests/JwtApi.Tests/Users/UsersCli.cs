using System.Text.RegularExpressions;
using JwtApi.Tests.Support;

namespace JwtApi.Tests.Users;

/// <summary>One run of the operator CLI: its exit code and what it wrote to each stream.</summary>
public sealed partial record CliRun(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>The password the run generated and printed, if it did.</summary>
    public string? GeneratedPassword => GeneratedLine().Match(Stdout) is { Success: true } m ? m.Groups["password"].Value : null;

    /// <summary>Refused as a script may rely on: exit code 1, nothing on stdout, one line on stderr (no stack trace) saying why.</summary>
    public void ShouldBeRefused(string because)
    {
        ExitCode.Should().Be(1, Stderr);
        Stdout.Should().BeEmpty();
        Stderr.TrimEnd().Split('\n').Should().ContainSingle().Which.Should().Contain(because);
    }

    /// <summary>Done: exit code 0, the audit records on stderr and nothing else there.</summary>
    public CliRun ShouldSucceed()
    {
        ExitCode.Should().Be(0, Stderr);
        Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(line => !line.Contains(" JwtApi.Audit[")).Should().BeEmpty(Stderr);
        return this;
    }

    [GeneratedRegex(@"^Generated password [^:]*: (?<password>\S+)$", RegexOptions.Multiline)]
    private static partial Regex GeneratedLine();
}

/// <summary>
/// <c>dotnet JwtApi.dll users …</c> as a real process (<see cref="ServiceProcess"/>) on the database of a
/// <see cref="TestStorage"/>, its settings passed as environment variables (<c>Section__Key</c>).
/// </summary>
public static class UsersCli
{
    /// <param name="storage">The database (SQLite file or PostgreSQL database) the command works on.</param>
    /// <param name="stdin">The one line written to stdin; null closes stdin at once (no password given: one is generated).</param>
    /// <param name="args">After <c>users</c>.</param>
    public static Task<CliRun> RunAsync(TestStorage storage, string? stdin, params string[] args) =>
        RunAsync(storage, stdin, new Dictionary<string, string?>(), args);

    /// <param name="storage">The database.</param>
    /// <param name="stdin">The line written to stdin, or null.</param>
    /// <param name="settings">Settings on top of the storage's, as configuration keys (<c>Database:Provider</c>).</param>
    /// <param name="args">After <c>users</c>.</param>
    public static async Task<CliRun> RunAsync(TestStorage storage, string? stdin, Dictionary<string, string?> settings, params string[] args)
    {
        var environment = new Dictionary<string, string?>(storage.Settings())
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Testing",
            ["Passwords:WorkFactor"] = "4",
        };
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }
        // the working folder is the content root: the service's appsettings.json is in the test output folder
        var run = await ServiceProcess.RunAsync(["users", .. args],
            environment.ToDictionary(e => e.Key.Replace(":", "__", StringComparison.Ordinal), e => e.Value),
            AppContext.BaseDirectory, stdin);
        return new CliRun(run.ExitCode, run.Stdout, run.Stderr);
    }
}
