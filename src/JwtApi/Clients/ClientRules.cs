using System.Buffers;
using System.Globalization;
using System.Text;
using JwtApi.Tokens;
using Microsoft.Extensions.Options;

namespace JwtApi.Clients;

/// <summary>What a client may be given, checked, in the order an admin reads it back.</summary>
public sealed record ClientRights(List<string> GrantTypes, List<string> Scopes, List<string> Audiences)
{
    /// <summary>True when <paramref name="client"/> holds other rights (order aside): its tokens must end.</summary>
    public bool DifferFrom(Client client) =>
        !GrantTypes.ToHashSet(StringComparer.Ordinal).SetEquals(client.GrantTypes) ||
        !Scopes.ToHashSet(StringComparer.Ordinal).SetEquals(client.Scopes) ||
        !Audiences.ToHashSet(StringComparer.Ordinal).SetEquals(client.Audiences);
}

/// <summary>
/// The rules of a client's name and rights, for registration and update alike. A client's token is for other
/// APIs only: JwtApi's own audience is refused, else a client could call JwtApi's endpoints with a token no
/// user stands behind (and no <c>CurrentUser</c> row to re-read).
/// </summary>
public sealed class ClientRules(IOptions<JwtOptions> jwt)
{
    /// <summary>The name, or the field errors; a null name is an error only when <paramref name="required"/>.</summary>
    public static string[]? CheckName(string? name, bool required) => name switch
    {
        null => required ? ["The name is required."] : null,
        { Length: 0 or > Client.NameMaxLength } => [$"The name must be 1 to {Client.NameMaxLength} characters."],
        _ when string.IsNullOrWhiteSpace(name) => ["The name must not be blank."],
        _ when !IsPrintable(name) => ["The name may hold only printable characters (no control, format or unassigned characters)."],
        _ => null,
    };

    /// <summary>Checks the rights as sent; the field errors, or the rights to store.</summary>
    public (Dictionary<string, string[]>? Errors, ClientRights? Rights) Check(
        string? name, bool nameRequired, List<string>? grantTypes, List<string>? scopes, List<string>? audiences)
    {
        var errors = new Dictionary<string, string[]>();
        if (CheckName(name, nameRequired) is { } nameErrors)
        {
            errors["name"] = nameErrors;
        }
        if (CheckGrantTypes(grantTypes) is { } grantErrors)
        {
            errors["grant_types"] = grantErrors;
        }
        if (CheckScopes(scopes) is { } scopeErrors)
        {
            errors["scopes"] = scopeErrors;
        }
        if (CheckAudiences(audiences, grantTypes) is { } audienceErrors)
        {
            errors["audiences"] = audienceErrors;
        }
        if (errors.Count > 0)
        {
            return (errors, null);
        }
        // grant types in one canonical order (they are a set); scopes and audiences as sent (the first audience is the default)
        var grants = Client.Grants.All.Where(g => grantTypes!.Contains(g, StringComparer.Ordinal)).ToList();
        return (null, new ClientRights(grants, [.. scopes!], [.. audiences!]));
    }

    private static string[]? CheckGrantTypes(List<string>? grantTypes)
    {
        if (grantTypes is null || grantTypes.Count == 0)
        {
            return [$"At least one grant type is required: {string.Join(", ", Client.Grants.All)}."];
        }
        // by index: a JSON null in the list is an element too
        if (grantTypes.FindIndex(g => !Client.Grants.All.Contains(g, StringComparer.Ordinal)) is var unknown and >= 0)
        {
            return [$"Unknown grant type '{Printable(grantTypes[unknown])}': the grant types are {string.Join(", ", Client.Grants.All)}."];
        }
        return null;
    }

    private static string[]? CheckScopes(List<string>? scopes)
    {
        if (scopes is null)
        {
            return ["The scopes are required (an empty list is allowed)."];
        }
        if (scopes.Count > Client.MaxScopes)
        {
            return [$"A client may have at most {Client.MaxScopes} scopes."];
        }
        if (scopes.FindIndex(s => !Client.IsValidScope(s)) is var invalid and >= 0)
        {
            return [$"'{Printable(scopes[invalid])}' is not a scope: 1 to 64 printable ASCII characters without space, '\"' or '\\'."];
        }
        if (scopes.Distinct(StringComparer.Ordinal).Count() != scopes.Count)
        {
            return ["The scopes must be distinct."];
        }
        return null;
    }

    private string[]? CheckAudiences(List<string>? audiences, List<string>? grantTypes)
    {
        if (audiences is null)
        {
            return ["The audiences are required (an empty list is allowed without client_credentials)."];
        }
        if (audiences.Count > Client.MaxAudiences)
        {
            return [$"A client may have at most {Client.MaxAudiences} audiences."];
        }
        if (audiences.FindIndex(a => !Client.IsValidAudience(a)) is var invalid and >= 0)
        {
            return [$"'{Printable(audiences[invalid])}' is not an audience: 1 to 200 printable ASCII characters without space."];
        }
        if (audiences.FirstOrDefault(IsOwnAudience) is { } own)
        {
            return [$"'{own}' is JwtApi's own audience (Jwt:Audience): a client's tokens are for other APIs, never for JwtApi's own endpoints."];
        }
        if (audiences.Distinct(StringComparer.Ordinal).Count() != audiences.Count)
        {
            return ["The audiences must be distinct."];
        }
        if (audiences.Count == 0 && grantTypes?.Contains(Client.Grants.ClientCredentials, StringComparer.Ordinal) == true)
        {
            return ["A client with the client_credentials grant needs at least one audience: the API its tokens are for."];
        }
        return null;
    }

    // JwtBearer (IdentityModel) compares audiences ordinally but ignores a trailing slash: 'jwtapi/' would pass as 'jwtapi'.
    // Both audiences JwtApi accepts are its own: its API's and its enrollment-only tokens'.
    private bool IsOwnAudience(string audience) =>
        new[] { jwt.Value.Audience, Tokens.TokenIssuer.EnrollmentAudience(jwt.Value) }
            .Any(own => string.Equals(audience.TrimEnd('/'), own.TrimEnd('/'), StringComparison.Ordinal));

    private static bool IsPrintable(string name)
    {
        var rest = name.AsSpan();
        while (!rest.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(rest, out var rune, out var used) != OperationStatus.Done)
            {
                return false;   // a lone surrogate
            }
            if (Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
                or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator
                or UnicodeCategory.ParagraphSeparator)
            {
                return false;
            }
            rest = rest[used..];
        }
        return true;
    }

    // an error message quotes what was sent: cut, and on one line
    private static string Printable(string? value) =>
        value is null ? "null" : string.Concat(value.Take(64).Select(c => char.IsControl(c) ? '?' : c));
}
