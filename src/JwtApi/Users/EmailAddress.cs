using System.Globalization;
using System.Text;

namespace JwtApi.Users;

/// <summary>
/// An email address as an account holds it: <see cref="Value"/> as typed (trimmed, Unicode NFC), where mail is sent,
/// and <see cref="Normalized"/> for lookups and uniqueness: lower case, the domain in its ASCII (punycode) form, so
/// "Alice@Example.COM" and "alice@example.com" are one address and a look-alike Unicode domain cannot pose as an
/// ASCII one. Deliberately plain (RFC 5321 sizes, one '@', no spaces, quotes, comments or control characters):
/// what a mail client lets a person type, not every form RFC 5322 allows.
/// </summary>
public sealed record EmailAddress(string Value, string Normalized)
{
    /// <summary>RFC 5321 §4.5.3.1: a path is at most 256 octets, so an address at most 254 characters.</summary>
    public const int MaxLength = 254;

    private const int MaxLocalPartLength = 64;

    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true };

    /// <summary>The address, or null with the reason it was refused (a message for a field error).</summary>
    public static EmailAddress? Parse(string? input, out string? error)
    {
        error = null;
        var value = input?.Trim();
        if (string.IsNullOrEmpty(value) || value.Length > MaxLength)
        {
            error = $"The email address must be 3-{MaxLength} characters.";
            return null;
        }
        if (!value.IsNormalized(NormalizationForm.FormC))
        {
            value = value.Normalize(NormalizationForm.FormC);
        }
        var at = value.IndexOf('@', StringComparison.Ordinal);
        if (at < 1 || at != value.LastIndexOf('@') || at == value.Length - 1 || at > MaxLocalPartLength ||
            value.Any(c => char.IsControl(c) || char.IsWhiteSpace(c) || c is '"' or '(' or ')' or ',' or ':' or ';' or '<' or '>' or '[' or ']' or '\\'))
        {
            error = "This is not an email address of the form name@example.com.";
            return null;
        }
        var local = value[..at];
        string domain;
        try
        {
            domain = Idn.GetAscii(value[(at + 1)..]).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            error = "The domain of this email address is not a valid domain name.";
            return null;
        }
        if (!domain.Contains('.', StringComparison.Ordinal) || local.StartsWith('.') || local.EndsWith('.') ||
            local.Contains("..", StringComparison.Ordinal))
        {
            error = "This is not an email address of the form name@example.com.";
            return null;
        }
        var normalized = local.ToLowerInvariant() + "@" + domain;
        if (normalized.Length > MaxLength)
        {
            error = $"The email address must be 3-{MaxLength} characters.";
            return null;
        }
        return new EmailAddress(value, normalized);
    }

    /// <summary>The lookup form of <paramref name="input"/>, or null when it is no address an account can have.</summary>
    public static string? Normalize(string? input) => Parse(input, out _)?.Normalized;
}
