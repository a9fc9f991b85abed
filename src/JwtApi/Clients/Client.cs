using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Clients;

/// <summary>
/// A registered client: a service or job with an identity of its own (RFC 6749 §2), which gets access tokens
/// with the <c>client_credentials</c> grant by its id and secret, never a person's password. Its secret is kept
/// only as a hash (<see cref="ClientSecrets"/>).
/// </summary>
public sealed partial class Client
{
    public const int NameMaxLength = 100;
    public const int MaxScopes = 32;
    public const int MaxAudiences = 16;

    /// <summary>What a client may do at JwtApi.</summary>
    public static class Grants
    {
        /// <summary>RFC 6749 §4.4: an access token for the client itself.</summary>
        public const string ClientCredentials = "client_credentials";

        /// <summary>Not an OAuth grant: the permission to call <c>POST /introspect</c> (RFC 7662).</summary>
        public const string Introspection = "introspection";

        public static readonly IReadOnlyList<string> All = [ClientCredentials, Introspection];
    }

    /// <summary><c>jc_</c> and 128 random bits, URL-safe: the <c>client_id</c>, and the <c>sub</c> of its tokens.</summary>
    public string Id { get; init; } = NewId();

    public required string Name { get; set; }

    public List<string> GrantTypes { get; set; } = [];

    /// <summary>The scopes the client may ask for; its tokens carry a subset (all of them when none is asked).</summary>
    public List<string> Scopes { get; set; } = [];

    /// <summary>The APIs its tokens may be for (<c>aud</c>); the first is the default.</summary>
    public List<string> Audiences { get; set; } = [];

    /// <summary>The current secret's hash (<see cref="ClientSecrets.Hash"/>).</summary>
    public required string SecretHash { get; set; }

    /// <summary>The secret before the last rotation, still accepted until <see cref="PreviousSecretValidUntil"/>.</summary>
    public string? PreviousSecretHash { get; set; }

    /// <summary>Unix seconds.</summary>
    public long? PreviousSecretValidUntil { get; set; }

    /// <summary>Bumped when the client is disabled, deleted or its rights change: its older tokens are refused at once.</summary>
    public int TokenVersion { get; set; }

    public bool Disabled { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; set; }

    public static string NewId() => "jc_" + Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16));

    /// <summary>RFC 6749 §3.3: a scope token is printable ASCII without space, '"' or '\'.</summary>
    public static bool IsValidScope(string? scope) => scope is { Length: > 0 and <= 64 } && ScopeRegex().IsMatch(scope);

    /// <summary>An audience is a name or URL of an API: printable ASCII without spaces.</summary>
    public static bool IsValidAudience(string? audience) => audience is { Length: > 0 and <= 200 } && AudienceRegex().IsMatch(audience);

    [GeneratedRegex(@"^[\x21\x23-\x5B\x5D-\x7E]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex ScopeRegex();

    [GeneratedRegex(@"^[\x21-\x7E]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex AudienceRegex();
}
