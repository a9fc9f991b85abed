using JwtApi.Auth;
using JwtApi.Hosting;
using JwtApi.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace JwtApi.Users;

/// <summary>The outcome of creating a user: the user, field errors, or (both null) a taken name or address.</summary>
public readonly record struct CreateUserResult(User? User, Dictionary<string, string[]>? Errors, bool EmailTaken = false)
{
    /// <summary>The one answer both creation endpoints give: 201 with Location, 400 with field errors, or 409.</summary>
    public Results<Created<UserResponse>, ValidationProblem, ProblemHttpResult> ToHttpResult() => this switch
    {
        { Errors: { } errors } => TypedResults.ValidationProblem(errors),
        { User: { } user } => TypedResults.Created($"/users/{user.Id}", UserResponse.From(user)),
        { EmailTaken: true } => Recovery.RecoveryProblems.EmailTaken(),
        _ => Problems.UsernameTaken(),
    };
}

/// <summary>
/// Account creation, shared by self-registration and the admin API so both apply the same rules. In two steps,
/// so that an admin's write can check its caller after the slow part (the BCrypt hash) and before the insert.
/// </summary>
public sealed class UserAccounts(AppDb db, PasswordHasher hasher, PasswordPolicy policy, TimeProvider time)
{
    /// <summary>
    /// A new user, not yet added: the password policy, a name (and address) not taken yet, the password hashed. An
    /// address is unverified: <see cref="Verification"/> is the mail to send once the user is added.
    /// </summary>
    public async Task<CreateUserResult> PrepareAsync(
        string username, string password, IEnumerable<string> roles, EmailAddress? email, CancellationToken ct)
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
        if (email is not null && await db.Users.AnyAsync(u => u.NormalizedEmail == email.Normalized, ct))
        {
            return new(null, null, EmailTaken: true);
        }
        var now = time.GetUtcNow();
        var user = new User
        {
            Username = username,
            NormalizedUsername = normalized,
            PasswordHash = await hasher.HashAsync(password, ct),
            Roles = Roles.Canonical(roles),
            CreatedAt = now,
            UpdatedAt = now,
        };
        user.SetEmail(email, now);
        return new(user, null);
    }

    /// <summary>The verification mail of a new user's address, if the user gave one.</summary>
    public static Mail.MailJob? Verification(User user) =>
        user.NormalizedEmail is { } address ? Recovery.RecoveryMails.Verification(user.Id, address) : null;

    /// <summary>
    /// The address given at creation as a field error, when it is malformed or the service sends no mail
    /// (Mail:Enabled off: an address nobody can verify would only sit there).
    /// </summary>
    public static EmailAddress? ParseEmail(string? input, bool mailEnabled, out Dictionary<string, string[]>? errors)
    {
        errors = null;
        if (string.IsNullOrEmpty(input))
        {
            return null;
        }
        if (!mailEnabled)
        {
            errors = new() { ["email"] = ["This service sends no mail (Mail:Enabled is false), so accounts have no email address."] };
            return null;
        }
        var email = EmailAddress.Parse(input, out var error);
        if (email is null)
        {
            errors = new() { ["email"] = [error!] };
        }
        return email;
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
            // Two requests raced for the same name or address: the unique index let one win. (The id is a fresh
            // Guid v7.) Which one: the name is answered first, as PrepareAsync does.
            db.ChangeTracker.Clear();
            var nameTaken = await db.Users.AnyAsync(u => u.NormalizedUsername == user.NormalizedUsername, ct);
            return new(null, null, EmailTaken: !nameTaken);
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
