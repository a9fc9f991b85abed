using JwtApi.Auth;
using JwtApi.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace JwtApi.Users;

public sealed class SeedOptions
{
    public const string Section = "Seed";

    /// <summary>Created at start-up, with roles admin and user, when no user has this name.</summary>
    public string? AdminUsername { get; init; }

    /// <summary>Only used to create the admin; changing it later does not change an existing user's password.</summary>
    public string? AdminPassword { get; init; }
}

internal sealed class SeedOptionsValidator(PasswordPolicy policy) : IValidateOptions<SeedOptions>
{
    public ValidateOptionsResult Validate(string? name, SeedOptions options)
    {
        var hasName = !string.IsNullOrEmpty(options.AdminUsername);
        var hasPassword = !string.IsNullOrEmpty(options.AdminPassword);
        if (hasName != hasPassword)
        {
            return ValidateOptionsResult.Fail("Set both Seed:AdminUsername and Seed:AdminPassword, or neither.");
        }
        if (!hasName)
        {
            return ValidateOptionsResult.Success;
        }
        if (!User.IsValidUsername(options.AdminUsername))
        {
            return ValidateOptionsResult.Fail(
                $"Seed:AdminUsername must be {User.UsernameMinLength}-{User.UsernameMaxLength} letters, digits, '.', '_' or '-'.");
        }
        var problems = policy.Check(options.AdminPassword, options.AdminUsername);
        return problems.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(problems.Select(p => "Seed:AdminPassword: " + p));
    }
}

/// <summary>Creates the bootstrap admin so a fresh install can be administered at once.</summary>
public sealed class AdminSeeder(
    IOptions<SeedOptions> options, PasswordHasher hasher, TimeProvider time, ILogger<AdminSeeder> logger)
{
    public async Task SeedAsync(AppDb db, CancellationToken ct)
    {
        var seed = options.Value;
        if (string.IsNullOrEmpty(seed.AdminUsername) || string.IsNullOrEmpty(seed.AdminPassword))
        {
            return;
        }
        var normalized = User.Normalize(seed.AdminUsername);
        if (await db.Users.AnyAsync(u => u.NormalizedUsername == normalized, ct))
        {
            return;
        }
        var now = time.GetUtcNow();
        db.Users.Add(new User
        {
            Username = seed.AdminUsername,
            NormalizedUsername = normalized,
            PasswordHash = await hasher.HashAsync(seed.AdminPassword, ct),
            Roles = [Roles.Admin, Roles.User],
            CreatedAt = now,
            UpdatedAt = now,
        });
        try
        {
            await db.SaveChangesAsync(ct);
            logger.LogInformation("Created the bootstrap admin {Username}", seed.AdminUsername);
        }
        catch (DbUpdateException e) when (DatabaseErrors.IsUniqueViolation(e))
        {
            // another instance sharing the database created it first
        }
    }
}
