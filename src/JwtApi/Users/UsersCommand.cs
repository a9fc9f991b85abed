using System.Data.Common;
using JwtApi.Auth;
using JwtApi.Hosting;
using JwtApi.Storage;
using JwtApi.Tokens;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace JwtApi.Users;

/// <summary>
/// <c>dotnet JwtApi.dll users list|create|reset-password|enable|disable|mfa-reset</c>: the operator's commands on the
/// accounts, against the database the service is configured with (the same appsettings files and environment
/// variables), whether or not the service runs. Each change is the admin API's (<see cref="AccountChanges"/>): the
/// same rules, the same account-write turn, revocations in the database, from where every running instance learns
/// them. Results go to stdout; the audit records and any refusal to stderr. Exit codes: <see cref="Done"/>,
/// <see cref="Refused"/>, <see cref="UsageError"/>.
/// </summary>
public static class UsersCommand
{
    /// <summary>Done (also when the account already was as asked).</summary>
    public const int Done = 0;

    /// <summary>Refused or failed: an unknown user, a taken name, the password policy, the last admin, the database. One line on stderr.</summary>
    public const int Refused = 1;

    /// <summary>Not a command: the usage on stderr.</summary>
    public const int UsageError = 2;

    private static readonly (string Verb, string Synopsis, string Description)[] Commands =
    [
        ("list", "users list [--json]",
            "Every user: id, username, roles, disabled, two-factor sign-in (mfa), created.\n--json: one JSON array, with the API's names."),
        ("create", "users create NAME [--role ROLE]...",
            "A new user with the roles given (--role repeats; default: user).\nPassword: the first line of stdin when it is redirected; else a generated one, printed once."),
        ("reset-password", "users reset-password NAME",
            "A new password (from stdin or generated, as for create); every login of the user ends."),
        ("enable", "users enable NAME", "Lets a disabled user log in again; every login of theirs ends."),
        ("disable", "users disable NAME",
            "The user can no longer log in, and every login of theirs ends. Never the last enabled admin."),
        ("mfa-reset", "users mfa-reset NAME",
            "Turns the user's two-factor sign-in off (authenticator and recovery codes deleted); every login of theirs ends."),
    ];

    private const string ExitCodes = "Exit codes: 0 done, 1 refused or failed (the reason on stderr), 2 usage.";

    public static bool Matches(string[] args) => args is ["users", ..];

    /// <summary>Runs <paramref name="args"/> (starting with <c>users</c>) and answers the exit code.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="input">Where a password is read from (its first line), when <paramref name="inputRedirected"/>.</param>
    /// <param name="inputRedirected">False on a terminal: a password is generated instead.</param>
    /// <param name="output">Results: the table, the JSON, what was done, a generated password.</param>
    /// <param name="error">Usage, refusals and the audit records.</param>
    public static async Task<int> RunAsync(string[] args, TextReader input, bool inputRedirected, TextWriter output, TextWriter error)
    {
        if (Parse(args, out var problem) is not { } invocation)
        {
            if (problem is not null)
            {
                error.WriteLine(problem);
            }
            error.Write(UsageOf(args));
            return UsageError;
        }
        var ct = CancellationToken.None;
        try
        {
            await using var host = BuildHost(invocation.Verb);
            await host.Services.GetRequiredService<StorageInitializer>().ReadyAsync(ct);
            await using var scope = host.Services.CreateAsyncScope();
            var accounts = ActivatorUtilities.CreateInstance<OperatorCommands>(scope.ServiceProvider, output);
            var refusal = invocation.Verb switch
            {
                "list" => await accounts.ListAsync(invocation.Json, ct),
                "create" => await accounts.CreateAsync(invocation.Name!, invocation.Roles, Password(input, inputRedirected), ct),
                "reset-password" => await accounts.ResetPasswordAsync(invocation.Name!, Password(input, inputRedirected), ct),
                "enable" => await accounts.SetDisabledAsync(invocation.Name!, disabled: false, ct),
                "disable" => await accounts.SetDisabledAsync(invocation.Name!, disabled: true, ct),
                _ => await accounts.ResetSecondFactorAsync(invocation.Name!, ct),
            };
            if (refusal is null)
            {
                return Done;
            }
            error.WriteLine($"users {invocation.Verb}: {refusal}");
            return Refused;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // one line an operator can act on, never a stack trace: the database is down, or a setting is wrong
            error.WriteLine($"users {invocation.Verb}: {Reason(e)}");
            return Refused;
        }
    }

    /// <summary>The password given on stdin (its first line), or null for one to be generated.</summary>
    private static Func<string?> Password(TextReader input, bool redirected) => () => redirected ? input.ReadLine() : null;

    private static string Reason(Exception e)
    {
        static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
        var inner = e.GetBaseException();
        var message = inner == e || inner.Message == e.Message ? OneLine(e.Message) : $"{OneLine(e.Message)} ({OneLine(inner.Message)})";
        return e switch
        {
            OptionsValidationException invalid => "a setting is wrong: " + string.Join(" ", invalid.Failures.Select(OneLine)),
            DbException or DbUpdateException or TimeoutException or IOException or UnauthorizedAccessException =>
                "the database could not be used: " + message,
            _ => message,
        };
    }

    /// <summary>
    /// The service's configuration (WebApplication's sources: appsettings.json, appsettings.{Environment}.json,
    /// environment variables, ASPNETCORE_ENVIRONMENT) and the registrations the operations need, nothing started: no
    /// server, no hosted service, no signing key. JwtApi's own records (the audit, a bootstrap admin created) go to
    /// stderr, one line each; nothing else is logged.
    /// </summary>
    private static WebApplication BuildHost(string verb)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [] });
        // not every service the features register is used here, nor resolvable without the rest (SignIn's tokens)
        builder.Host.UseDefaultServiceProvider(options => options.ValidateOnBuild = false);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(options =>
        {
            options.SingleLine = true;
            options.UseUtcTimestamp = true;
            options.TimestampFormat = "yyyy-MM-ddTHH:mm:ssZ ";
        });
        builder.Services.Configure<ConsoleLoggerOptions>(options => options.LogToStandardErrorThreshold = LogLevel.Trace);
        // stdout carries results only, stderr the audit: no EF Core chatter, no logged exception with its stack
        builder.Services.PostConfigure<LoggerFilterOptions>(options =>
        {
            options.Rules.Clear();
            options.MinLevel = LogLevel.None;
            options.Rules.Add(new LoggerFilterRule(null, "JwtApi", LogLevel.Information, null));   // the audit, the bootstrap admin
        });
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(new AuditOrigin("cli", "local", $"users {verb}"));
        builder.Services.AddSingleton<Telemetry>();
        builder.AddHosting();       // Hosting/HostingSetup.cs: the API's JSON names, the audit log
        builder.AddDatabase();      // Storage/StorageSetup.cs: the configured database, migrated; no key ring
        builder.AddRevocations();   // Tokens/TokensSetup.cs: what ends logins, no key
        builder.AddAuth();          // Auth/AuthSetup.cs: hashing, the password policy, the bootstrap admin
        builder.AddUsers();         // Users/UsersSetup.cs: AccountChanges
        return builder.Build();
    }

    private sealed record Invocation(string Verb, string? Name, IReadOnlyList<string> Roles, bool Json);

    /// <summary>The command, or null with what is wrong with it (null too when help was asked for).</summary>
    private static Invocation? Parse(string[] args, out string? problem)
    {
        problem = null;
        if (args is not ["users", var verb, .. var rest] || Commands.All(c => c.Verb != verb))
        {
            problem = args is ["users"] or ["users", "--help" or "-h" or "help"] ? null : $"users: no command '{AuditLog.Printable(args[1])}'";
            return null;
        }
        string? name = null;
        var roles = new List<string>();
        var json = false;
        var options = true;
        for (var i = 0; i < rest.Length; i++)
        {
            var arg = rest[i];
            if (options && arg is "--help" or "-h")
            {
                return null;
            }
            if (options && arg == "--")
            {
                options = false;
            }
            else if (options && arg == "--json" && verb == "list")
            {
                json = true;
            }
            else if (options && arg == "--role" && verb == "create" && i + 1 < rest.Length)
            {
                roles.Add(rest[++i]);
            }
            else if (options && arg.StartsWith("--role=", StringComparison.Ordinal) && verb == "create")
            {
                roles.Add(arg["--role=".Length..]);
            }
            else if ((!options || !arg.StartsWith('-')) && name is null && verb != "list")
            {
                name = arg;
            }
            else
            {
                problem = $"users {verb}: unexpected '{AuditLog.Printable(arg)}'";
                return null;
            }
        }
        if (verb != "list" && name is null)
        {
            problem = $"users {verb}: NAME is missing";
            return null;
        }
        return new Invocation(verb, name, roles.Count > 0 ? roles : [Roles.User], json);
    }

    /// <summary>The usage of the command named in <paramref name="args"/>, or of them all.</summary>
    internal static string UsageOf(string[] args)
    {
        var command = Commands.FirstOrDefault(c => args.Length > 1 && c.Verb == args[1]);
        return command.Verb is null
            ? "usage: dotnet JwtApi.dll " + string.Join("\n       dotnet JwtApi.dll ", Commands.Select(c => c.Synopsis)) +
              "\n\nNAME is a username. The database is the service's (its settings and environment variables).\n" +
              "'users COMMAND --help' tells more.\n" + ExitCodes + "\n"
            : $"usage: dotnet JwtApi.dll {command.Synopsis}\n\n{command.Description}\n{ExitCodes}\n";
    }
}
