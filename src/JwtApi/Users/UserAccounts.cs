using JwtApi.Auth;
using JwtApi.Hosting;
using JwtApi.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace JwtApi.Users;

/// <summary>The outcome of creating a user: the user, field errors, or (both null) a taken name.</summary>
public readonly record struct CreateUserResult(User? User, Dictionary<string, string[]>? Errors)
{
    /// <summary>The one answer both creation endpoints give: 201 with Location, 400 with field errors, or 409.</summary>
    public Results<Created<UserResponse>, ValidationProblem, ProblemHttpResult> ToHttpResult() => this switch
    {
        { Errors: { } errors } => TypedResults.ValidationProblem(errors),
        { User: { } user } => TypedResults.Created($"/users/{user.Id}", UserResponse.From(user)),
        _ => Problems.UsernameTaken(),
    };
}

/// <summary>
/// Account creation, shared by self-registration and the admin API so both apply the same rules. In two steps,
/// so that an admin's write can check its caller after the slow part (the BCrypt hash) and before the insert.
/// </summary>
public sealed class UserAccounts(AppDb db, PasswordHasher hasher, PasswordPolicy policy, TimeProvider time)
{
    /// <summary>A new user, not yet added: the password policy, a name not taken yet, the password hashed.</summary>
    public async Task<CreateUserResult> PrepareAsync(string username, string password, IEnumerable<string> roles, CancellationToken ct)
    {
        var passwordProblems = policy.Check(password, username);
        if (passwordProblems.Count > 0)
        {
            return new(null, new() { ["password"] = [.. passwordProblems] });
        }
        var normalized = User.Normalize(username);
        if (await db.Users.AnyAsync(u => u.NormalizedUsername == normalized, ct))
        {
            return new(null, null);
        }
        var now = time.GetUtcNow();
        return new(new User
        {
            Username = username,
            NormalizedUsername = normalized,
            PasswordHash = await hasher.HashAsync(password, ct),
            Roles = Roles.Canonical(roles),
            CreatedAt = now,
            UpdatedAt = now,
        }, null);
    }

    /// <summary>Adds and saves a prepared user; a taken name when another request got there first.</summary>
    public async Task<CreateUserResult> AddAsync(User user, CancellationToken ct)
    {
        db.Users.Add(user);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (DatabaseErrors.IsUniqueViolation(e))
        {
            // Two requests raced for the same name: the unique index let one win. (The name is the only unique
            // column besides the id, a fresh Guid v7.)
            db.ChangeTracker.Clear();
            return new(null, null);
        }
        return new(user, null);
    }

    /// <summary>Field errors for a list of roles, or null when every name is acceptable.</summary>
    public static Dictionary<string, string[]>? CheckRoles(IReadOnlyCollection<string>? roles)
    {
        if (roles is null)
        {
            return new() { ["roles"] = ["The roles are required (an empty list is allowed)."] };
        }
        if (roles.Count > Roles.MaxRolesPerUser)
        {
            return new() { ["roles"] = [$"A user may have at most {Roles.MaxRolesPerUser} roles."] };
        }
        var bad = roles.Where(r => !Roles.IsValidName(r)).ToList();
        return bad.Count == 0
            ? null
            : new() { ["roles"] = [$"Role names are 1-32 characters: a lower-case letter, then letters, digits, '_', '.', ':' or '-'. Refused: {string.Join(", ", bad.Select(r => $"'{r}'"))}."] };
    }
}
