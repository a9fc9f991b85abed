namespace JwtApi.Clients;

/// <summary>A registered client as the API shows it: never its secret, nor the secret's hash.</summary>
/// <param name="ClientId">The client_id: 'jc_' and 22 base64url characters.</param>
/// <param name="Name">For people; not unique.</param>
/// <param name="GrantTypes">What it may do: 'client_credentials', 'introspection'.</param>
/// <param name="Scopes">The scopes its tokens may carry.</param>
/// <param name="Audiences">The APIs its tokens may be for; the first is the default.</param>
/// <param name="Disabled">A disabled client cannot authenticate.</param>
/// <param name="CreatedAt">When it was registered.</param>
/// <param name="UpdatedAt">When it last changed.</param>
public sealed record ClientResponse(
    string ClientId, string Name, IReadOnlyList<string> GrantTypes, IReadOnlyList<string> Scopes, IReadOnlyList<string> Audiences,
    bool Disabled, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static ClientResponse From(Client client) => new(
        client.Id, client.Name, client.GrantTypes, client.Scopes, client.Audiences, client.Disabled, client.CreatedAt, client.UpdatedAt);
}

/// <summary>
/// A client just registered, with its secret: the only answer besides a rotation's that holds it. JwtApi keeps a
/// hash alone, so a lost secret can only be replaced (<c>POST /clients/{id}/secret</c>).
/// </summary>
/// <param name="ClientId">The client_id: 'jc_' and 22 base64url characters.</param>
/// <param name="ClientSecret">256 random bits, base64url (43 characters). Shown once.</param>
/// <param name="Name">For people; not unique.</param>
/// <param name="GrantTypes">What it may do: 'client_credentials', 'introspection'.</param>
/// <param name="Scopes">The scopes its tokens may carry.</param>
/// <param name="Audiences">The APIs its tokens may be for; the first is the default.</param>
/// <param name="Disabled">A disabled client cannot authenticate.</param>
/// <param name="CreatedAt">When it was registered.</param>
/// <param name="UpdatedAt">When it last changed.</param>
public sealed record CreatedClientResponse(
    string ClientId, string ClientSecret, string Name, IReadOnlyList<string> GrantTypes, IReadOnlyList<string> Scopes,
    IReadOnlyList<string> Audiences, bool Disabled, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static CreatedClientResponse From(Client client, string secret) => new(
        client.Id, secret, client.Name, client.GrantTypes, client.Scopes, client.Audiences, client.Disabled, client.CreatedAt, client.UpdatedAt);
}

/// <summary>A new secret for a client. Shown once.</summary>
/// <param name="ClientId">The client's client_id.</param>
/// <param name="ClientSecret">256 random bits, base64url (43 characters).</param>
/// <param name="PreviousSecretValidUntil">Until when the secret it replaces is still accepted (Clients:SecretOverlap); null when it stopped at once.</param>
public sealed record ClientSecretResponse(string ClientId, string ClientSecret, DateTimeOffset? PreviousSecretValidUntil);

/// <summary>One page of registered clients, ordered by name.</summary>
public sealed record ClientPage(IReadOnlyList<ClientResponse> Items, int Page, int PageSize, int Total);

/// <summary>A client to register.</summary>
/// <param name="Name">1-100 printable characters, for people: not unique, not an identifier.</param>
/// <param name="GrantTypes">One or more of 'client_credentials' and 'introspection'.</param>
/// <param name="Scopes">At most 32 distinct scope tokens (RFC 6749 §3.3) its tokens may carry; an empty list is allowed.</param>
/// <param name="Audiences">At most 16 distinct APIs its tokens may be for, the first the default; at least one with 'client_credentials'. Never JwtApi's own Jwt:Audience.</param>
public sealed record CreateClientRequest(string? Name, List<string>? GrantTypes, List<string>? Scopes, List<string>? Audiences);

/// <summary>A client's rights, replaced as a whole; its name too when given. Changed rights end its tokens.</summary>
/// <param name="Name">Kept when absent.</param>
/// <param name="GrantTypes">One or more of 'client_credentials' and 'introspection'.</param>
/// <param name="Scopes">At most 32 distinct scope tokens; an empty list is allowed.</param>
/// <param name="Audiences">At most 16 distinct APIs, the first the default; at least one with 'client_credentials'. Never JwtApi's own Jwt:Audience.</param>
public sealed record UpdateClientRequest(string? Name, List<string>? GrantTypes, List<string>? Scopes, List<string>? Audiences);
