using Microsoft.Extensions.Options;

namespace JwtApi.Auth;

/// <summary>
/// What a new password must satisfy, after NIST SP 800-63B: a length range and nothing about character
/// classes. Passwords over BCrypt's 72-byte input are refused, not truncated or pre-hashed (OWASP advises
/// against pre-hashing for BCrypt): 72 ASCII characters, fewer where letters take several UTF-8 bytes.
/// </summary>
public sealed class PasswordPolicy(IOptions<PasswordOptions> options)
{
    public const int MaxLength = 128;

    /// <summary>The problems with <paramref name="password"/>, empty when it is acceptable.</summary>
    public IReadOnlyList<string> Check(string? password)
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
        return problems;
    }
}
