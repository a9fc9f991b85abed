using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using JwtApi.Auth;
using JwtApi.Hosting;
using JwtApi.Mfa;
using JwtApi.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace JwtApi.Users;

/// <summary>
/// What <see cref="UsersCommand"/> does, one method a command: each answers null when done (its result written to
/// the output) or the one line saying why not. The changes themselves are <see cref="AccountChanges"/>', in the
/// operator's account write; only the username lookup and the wording live here.
/// </summary>
internal sealed class OperatorCommands(
    AppDb db, AccountChanges changes, UserAccounts accounts, PasswordPolicy policy, PasswordHasher hasher,
    IOptions<HttpJsonOptions> json, TextWriter output)
{
    public async Task<string?> ListAsync(bool asJson, CancellationToken ct)
    {
        var users = await db.Users.AsNoTracking().OrderBy(u => u.NormalizedUsername).ToListAsync(ct);
        var mfa = (await SecondFactor.UsersWithItOn(db).ToListAsync(ct)).ToHashSet();
        if (asJson)
        {
            // the API's UserResponse in the API's names (snake_case), and whether the second factor is on
            var options = json.Value.SerializerOptions;
            var mfaName = options.PropertyNamingPolicy?.ConvertName("MfaEnabled") ?? "MfaEnabled";
            var rows = users.Select(user =>
            {
                var row = JsonSerializer.SerializeToNode(UserResponse.From(user), options)!.AsObject();
                row[mfaName] = mfa.Contains(user.Id);
                return (JsonNode)row;
            });
            output.WriteLine(new JsonArray([.. rows]).ToJsonString(options));
            return null;
        }
        string[] header = ["ID", "USERNAME", "ROLES", "DISABLED", "MFA", "CREATED"];
        var table = users.Select(u => new[]
        {
            u.Id.ToString(), u.Username, string.Join(',', u.Roles), u.Disabled ? "yes" : "no", mfa.Contains(u.Id) ? "on" : "off",
            u.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        }).Prepend(header).ToList();
        var widths = header.Select((_, column) => table.Max(row => row[column].Length)).ToList();
        foreach (var row in table)
        {
            output.WriteLine(string.Join("  ", row.Select((cell, column) => cell.PadRight(widths[column]))).TrimEnd());
        }
        return null;
    }

    public async Task<string?> CreateAsync(string name, IReadOnlyList<string> roles, Func<string?> password, CancellationToken ct)
    {
        if (!User.IsValidUsername(name))
        {
            return $"'{AuditLog.Printable(name)}' is not a username: {User.UsernameMinLength}-{User.UsernameMaxLength} letters, digits, '.', '_' or '-'.";
        }
        if (UserAccounts.CheckRoles(roles) is { } roleErrors)
        {
            return string.Join(" ", roleErrors.Values.SelectMany(e => e));
        }
        var (given, generated) = PasswordOrGenerated(password);
        var prepared = await accounts.PrepareAsync(name, given, roles, email: null, ct);
        if (prepared.Errors is { } errors)
        {
            return "password refused: " + string.Join(" ", errors.Values.SelectMany(e => e));
        }
        var created = prepared.User is { } user
            ? await WriteAsync(write => changes.CreateAsync(write, user, ct), ct)
            : prepared;
        if (created.User is null)
        {
            return $"the username '{AuditLog.Printable(name)}' is taken (usernames are unique regardless of case).";
        }
        output.WriteLine($"Created {created.User.Username} ({created.User.Id}), roles: {string.Join(',', created.User.Roles)}.");
        PrintGenerated(generated);
        return null;
    }

    public async Task<string?> ResetPasswordAsync(string name, Func<string?> password, CancellationToken ct)
    {
        if (await FindAsync(name, ct) is not { } target)
        {
            return NoSuchUser(name);
        }
        var (given, generated) = PasswordOrGenerated(password);
        if (policy.Check(given, target.Username) is { Count: > 0 } problems)
        {
            return "password refused: " + string.Join(" ", problems);
        }
        // hashed before the write: the account-write turn is held until the commit
        var hash = await hasher.HashAsync(given, ct);
        var change = await WriteAsync(write => changes.SetPasswordAsync(write, target.Id, hash, ct), ct);
        if (change.User is null)
        {
            return NoSuchUser(name);
        }
        output.WriteLine($"Set a new password for {target.Username}; every login of theirs ended.");
        PrintGenerated(generated);
        return null;
    }

    public Task<string?> SetDisabledAsync(string name, bool disabled, CancellationToken ct) =>
        ChangeAsync(name, (write, id) => changes.SetDisabledAsync(write, id, disabled, ct),
            disabled ? "Disabled {0}; every login of theirs ended." : "Enabled {0}; every login of theirs ended.",
            disabled ? "{0} was already disabled." : "{0} was already enabled.", ct);

    public Task<string?> ResetSecondFactorAsync(string name, CancellationToken ct) =>
        ChangeAsync(name, (write, id) => changes.ResetSecondFactorAsync(write, id, ct),
            "Two-factor sign-in of {0} is off (authenticator and recovery codes deleted); every login of theirs ended.", null, ct);

    private async Task<string?> ChangeAsync(
        string name, Func<AccountWrite, Guid, Task<AccountChange>> change, string done, string? unchanged, CancellationToken ct)
    {
        if (await FindAsync(name, ct) is not { } target)
        {
            return NoSuchUser(name);
        }
        var result = await WriteAsync(write => change(write, target.Id), ct);
        switch (result.Refusal)
        {
            case AccountRefusal.NotFound:
                return NoSuchUser(name);
            case AccountRefusal.LastAdmin:
                // the API's wording, and the way out from here
                return $"{target.Username}: {Problems.LastAdmin().ProblemDetails.Detail} (users create NAME --role admin)";
        }
        output.WriteLine(string.Format(CultureInfo.InvariantCulture, result.Changed || unchanged is null ? done : unchanged, target.Username));
        return null;
    }

    /// <summary>One change in the operator's account write (the write re-reads the row by id: a name is looked up before).</summary>
    private async Task<T> WriteAsync<T>(Func<AccountWrite, Task<T>> change, CancellationToken ct)
    {
        await using var write = await changes.BeginOperatorWriteAsync(ct);
        return await change(write);
    }

    private async Task<(Guid Id, string Username)?> FindAsync(string name, CancellationToken ct)
    {
        var normalized = User.Normalize(name);
        var user = await db.Users.AsNoTracking().Where(u => u.NormalizedUsername == normalized)
            .Select(u => new { u.Id, u.Username }).FirstOrDefaultAsync(ct);
        return user is null ? null : (user.Id, user.Username);
    }

    private static string NoSuchUser(string name) => $"no user is named '{AuditLog.Printable(name)}'.";

    /// <summary>The password given, or a generated one (shown once, after the change, by <see cref="PrintGenerated"/>).</summary>
    private (string Password, string? Generated) PasswordOrGenerated(Func<string?> given)
    {
        if (given() is { } password)
        {
            return (password, null);
        }
        var generated = policy.Generate();
        return (generated, generated);
    }

    private void PrintGenerated(string? generated)
    {
        if (generated is not null)
        {
            output.WriteLine($"Generated password (shown this once, stored only as a hash): {generated}");
        }
    }
}
