using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace JwtApi.Auth;

/// <summary>
/// What a new password must satisfy, after NIST SP 800-63B §5.1.1.2: a length range, not one of the most
/// common passwords, not the username, and nothing about character classes. Passwords over BCrypt's 72-byte
/// input are refused, not truncated or pre-hashed (OWASP advises against pre-hashing for BCrypt): 72 ASCII
/// characters, fewer where letters take several UTF-8 bytes.
/// </summary>
public sealed class PasswordPolicy(IOptions<PasswordOptions> options)
{
    public const int MaxLength = 128;

    /// <summary>The 10,000 most common passwords (Auth/common-passwords.txt), lower case.</summary>
    public static readonly FrozenSet<string> CommonPasswords = LoadCommonPasswords();

    private static FrozenSet<string> LoadCommonPasswords()
    {
        using var stream = typeof(PasswordPolicy).Assembly.GetManifestResourceStream("JwtApi.common-passwords.txt")
            ?? throw new InvalidOperationException("The common-password list is missing from the assembly.");
        using var reader = new StreamReader(stream);
        var passwords = new HashSet<string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && !line.StartsWith('#'))
            {
                passwords.Add(line);
            }
        }
        return passwords.ToFrozenSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// A strong password for an account the operator creates or resets without giving one (Users/UsersCommand.cs):
    /// random base64url characters, 24 (144 bits) or the minimum length if longer, within BCrypt's 72 bytes.
    /// </summary>
    public string Generate() => RandomNumberGenerator.GetString(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        Math.Clamp(options.Value.MinimumLength, 24, PasswordHasher.MaxPasswordBytes));

    /// <summary>The problems with <paramref name="password"/> for the account <paramref name="username"/>, empty when it is acceptable.</summary>
    public IReadOnlyList<string> Check(string? password, string? username)
    {
        var min = options.Value.MinimumLength;
        if (string.IsNullOrEmpty(password))
        {
            return ["The password is required."];
        }
        var problems = new List<string>();
        if (password.Length < min || password.Length > MaxLength)
        {
            problems.Add($"The password must be {min} to {MaxLength} characters long.");
        }
        else if (!PasswordHasher.FitsBcrypt(password))
        {
            problems.Add($"The password must be at most {PasswordHasher.MaxPasswordBytes} bytes in UTF-8 " +
                         $"(BCrypt's limit): {PasswordHasher.MaxPasswordBytes} ASCII characters, fewer with accented letters or emoji.");
        }
        else if (CommonPasswords.Contains(password.ToLowerInvariant()))
        {
            problems.Add("This password is one of the 10,000 most common passwords: attackers try those first. Choose another; a few unrelated words make a strong one.");
        }
        else if (username is not null && string.Equals(password.Trim(), username.Trim(), StringComparison.OrdinalIgnoreCase))
        {
            problems.Add("The password must not be the username.");
        }
        return problems;
    }
}
