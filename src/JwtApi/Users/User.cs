using System.Text.RegularExpressions;

namespace JwtApi.Users;

/// <summary>An account that can log in. The password is only ever stored as a BCrypt hash.</summary>
public sealed partial class User
{
    public const int UsernameMinLength = 3;
    public const int UsernameMaxLength = 64;
    public const string UsernamePattern = "^[A-Za-z0-9._-]{3,64}$";

    public Guid Id { get; init; } = Guid.CreateVersion7();

    /// <summary>As the user typed it at registration; shown back, never used for lookups.</summary>
    public required string Username { get; init; }

    /// <summary>Lookups and uniqueness go through this, so "Alice" and "alice" are one account.</summary>
    public required string NormalizedUsername { get; init; }

    public required string PasswordHash { get; set; }

    public List<string> Roles { get; set; } = [];

    /// <summary>
    /// Bumped whenever the user's rights or credentials change. Refresh tokens carry the version they were
    /// issued under, so a bump ends every one of them without a session store.
    /// </summary>
    public int TokenVersion { get; set; }

    public bool Disabled { get; set; }

    /// <summary>Optional; as the user typed it (trimmed), where mail goes. Shown back, never used for lookups.</summary>
    public string? Email { get; private set; }

    /// <summary>Lookups and uniqueness go through this (<see cref="EmailAddress.Normalize"/>).</summary>
    public string? NormalizedEmail { get; private set; }

    /// <summary>
    /// True once the user followed a verification mail sent to <see cref="Email"/>. Only a verified address
    /// receives a password reset: an unverified one may be a typo, someone else's mailbox.
    /// </summary>
    public bool EmailVerified { get; private set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>ASCII only: no look-alike letters from other scripts can pose as another user.</summary>
    public static bool IsValidUsername(string? username) =>
        username is not null && !username.EndsWith('\n') && UsernameRegex().IsMatch(username);  // '$' also matches before a final \n

    public static string Normalize(string username) => username.ToLowerInvariant();

    /// <summary>A new address (or none), unverified until a verification mail sent to it is followed.</summary>
    public void SetEmail(EmailAddress? email, DateTimeOffset now)
    {
        Email = email?.Value;
        NormalizedEmail = email?.Normalized;
        EmailVerified = false;
        UpdatedAt = now;
    }

    public void MarkEmailVerified(DateTimeOffset now)
    {
        EmailVerified = true;
        UpdatedAt = now;
    }

    public void BumpTokenVersion(DateTimeOffset now)
    {
        TokenVersion++;
        UpdatedAt = now;
    }

    [GeneratedRegex(UsernamePattern, RegexOptions.CultureInvariant)]
    private static partial Regex UsernameRegex();
}
