using System.Text.RegularExpressions;

namespace JwtApi.Users;

/// <summary>
/// Role names. <see cref="Admin"/> and <see cref="User"/> are what JwtApi itself checks; admins may grant other
/// roles (for the services that trust JwtApi's tokens) as long as the names are well-formed.
/// </summary>
public static partial class Roles
{
    public const string Admin = "admin";
    public const string User = "user";

    public const int MaxRolesPerUser = 16;
    // \z, not $: in .NET, $ also matches before a final newline, which let "user\n" through as a role name.
    public const string NamePattern = @"^[a-z][a-z0-9_.:-]{0,31}\z";

    public static bool IsValidName(string? role) => role is not null && NameRegex().IsMatch(role);

    /// <summary>Sorted and without duplicates, so tokens and responses are stable.</summary>
    public static List<string> Canonical(IEnumerable<string> roles) =>
        roles.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    [GeneratedRegex(NamePattern, RegexOptions.CultureInvariant)]
    private static partial Regex NameRegex();
}
