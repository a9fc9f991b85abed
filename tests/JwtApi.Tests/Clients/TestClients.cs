using System.Net.Http.Headers;
using JwtApi.Clients;
using JwtApi.Storage;
using JwtApi.Tests.Support;
using JwtApi.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Tests.Clients;

/// <summary>A registered client as a test holds it: its row and the secret shown once.</summary>
public sealed record TestClient(Client Client, string Secret)
{
    public string Id => Client.Id;
}

/// <summary>
/// Registered clients straight in the database (the admin endpoints live elsewhere), and their access tokens minted
/// as the <c>client_credentials</c> grant issues them: RFC 9068 for a client, signed with the service's active key.
/// </summary>
public static class TestClients
{
    public const string Audience = "https://orders.example";

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    public static async Task<TestClient> CreateClientAsync(this JwtApiFactory app, params string[] grants)
    {
        var secret = ClientSecrets.Generate();
        var now = app.Time.GetUtcNow();
        var client = new Client
        {
            Name = "test client",
            GrantTypes = grants.Length == 0 ? [Client.Grants.ClientCredentials] : [.. grants],
            Scopes = ["orders.read", "orders.write"],
            Audiences = [Audience],
            SecretHash = ClientSecrets.Hash(secret),
            CreatedAt = now,
            UpdatedAt = now,
        };
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDb>();
        db.Clients.Add(client);
        await db.SaveChangesAsync();
        return new TestClient(client, secret);
    }

    /// <summary>
    /// A client's access token: typ at+jwt, kid, the active key; iss, aud (one of the client's, never Jwt:Audience),
    /// sub = client_id, scope, jti, iat, nbf, exp, ver; no name, role or sid. Times on the system clock, which
    /// JwtBearer judges exp on.
    /// </summary>
    public static string MintClientToken(this JwtApiFactory app, TestClient client)
    {
        var keys = app.Services.GetRequiredService<SigningKeys>();
        var now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = app.JwtOptions.Issuer,
            Audience = client.Client.Audiences[0],
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + app.JwtOptions.AccessTokenLifetime).UtcDateTime,
            TokenType = TokenIssuer.AccessTokenType,
            Claims = new Dictionary<string, object>
            {
                ["sub"] = client.Id,
                ["client_id"] = client.Id,
                ["scope"] = string.Join(' ', client.Client.Scopes),
                ["jti"] = TokenIssuer.NewTokenId(),
                ["ver"] = client.Client.TokenVersion,
            },
            SigningCredentials = keys.Active.Credentials,
        });
    }

    /// <summary>Disables the client as the admin endpoint will: every token it holds ends (TokenRevoker.EndAllTokensOf).</summary>
    public static async Task DisableClientAsync(this JwtApiFactory app, TestClient client)
    {
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDb>();
        var revoker = scope.ServiceProvider.GetRequiredService<TokenRevoker>();
        var row = await db.Clients.FindAsync(client.Id);
        row!.Disabled = true;
        revoker.EndAllTokensOf(row);
        await db.SaveChangesAsync();
        revoker.Committed();
    }

    /// <summary>A form POST, with the client's credentials as client_secret_basic when <paramref name="basic"/> is given.</summary>
    public static async Task<HttpResponseMessage> PostFormAsync(
        this JwtApiFactory app, string path, IEnumerable<KeyValuePair<string, string>> form, TestClient? basic = null)
    {
        using var http = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        if (basic is not null)
        {
            request.Headers.Authorization = BasicHeader(basic.Id, basic.Secret);
        }
        return await http.SendAsync(request);
    }

    /// <summary>RFC 6749 §2.3.1: id and secret each form-encoded, joined by ':', then base64.</summary>
    public static AuthenticationHeaderValue BasicHeader(string id, string secret) =>
        new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(id)}:{Uri.EscapeDataString(secret)}")));

    public static KeyValuePair<string, string> Field(string name, string value) => new(name, value);
}
