using JwtApi.Auth;
using JwtApi.Hosting;
using JwtApi.Tokens;

namespace JwtApi.Clients;

/// <summary>An access token for a registered client (RFC 6749 §4.4.3): no refresh token, the scopes granted.</summary>
/// <param name="AccessToken">The signed JWT to send as 'Authorization: Bearer &lt;token&gt;' to the API it is for.</param>
/// <param name="TokenType">Always "Bearer".</param>
/// <param name="ExpiresIn">Seconds until it expires; ask for a new one then (there is no refresh token).</param>
/// <param name="Scope">The scopes granted, space-separated.</param>
public sealed record ClientTokenResponse(string AccessToken, string TokenType, int ExpiresIn, string Scope);

/// <summary>What the client credentials grant decided: a token, or an RFC 6749 error with its status, or a wait.</summary>
public sealed record ClientGrantOutcome(ClientTokenResponse? Token, OAuthError? Error = null, int Status = 400, TimeSpan? RetryAfter = null);

/// <summary>
/// <c>grant_type=client_credentials</c> (RFC 6749 §4.4): a registered client authenticates with its secret and
/// gets an access token for itself, for one of its audiences (<c>resource</c>, RFC 8707, or <c>audience</c>),
/// with the scopes it asks for among its own (all of them when it asks for none). No refresh token: the client
/// asks again, with the secret it holds.
/// </summary>
public sealed class ClientCredentialsGrant(ClientAuthentication authentication, TokenIssuer tokens, AuditLog audit, Telemetry telemetry)
{
    public const string GrantType = Client.Grants.ClientCredentials;

    public async Task<ClientGrantOutcome> IssueAsync(HttpRequest request, IFormCollection form, CancellationToken ct)
    {
        var auth = await authentication.AuthenticateAsync(request, form, ct);
        if (auth.TwoMethods)
        {
            return Fail("invalid_request", "Authenticate the client one way: HTTP Basic (client_secret_basic) or client_id and client_secret in the form (client_secret_post), not both.");
        }
        if (auth.RetryAfter is { } wait)
        {
            telemetry.ClientTokenRequested(Reasons.Throttled);
            return new ClientGrantOutcome(null, RetryAfter: wait);
        }
        if (auth.Client is not { } client)
        {
            // RFC 6749 §5.2: 401 with a Basic challenge; one answer for an unknown, wrong or disabled client
            return Fail("invalid_client", auth.Presented
                ? "Client authentication failed."
                : "grant_type=client_credentials needs the client's id and secret (HTTP Basic, or client_id and client_secret).", 401);
        }
        if (!client.GrantTypes.Contains(GrantType))
        {
            return Fail("unauthorized_client", "This client may not use grant_type=client_credentials.");
        }

        var asked = form.Parameter("scope")?.Split(' ', StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToList();
        if (asked?.FirstOrDefault(s => !client.Scopes.Contains(s)) is { } unknown)
        {
            return Fail("invalid_scope", $"The scope '{(Client.IsValidScope(unknown) ? unknown : "…")}' is not one of this client's scopes.");
        }
        var scopes = asked is { Count: > 0 } ? asked : client.Scopes;

        var resource = form.Parameter("resource");
        var audienceParameter = form.Parameter("audience");
        if (resource is not null && audienceParameter is not null && resource != audienceParameter)
        {
            return Fail("invalid_target", "resource and audience name different APIs: ask for one.");
        }
        var target = resource ?? audienceParameter ?? client.Audiences.FirstOrDefault();
        if (target is null || !client.Audiences.Contains(target))
        {
            return Fail("invalid_target", "This client may not get tokens for that audience: ask for one of its audiences.");
        }

        var token = tokens.IssueClientToken(client, scopes, target);
        audit.ClientTokenIssued(client.Id, target);
        telemetry.ClientTokenRequested(Telemetry.ClientTokenOutcome.Success);
        return new ClientGrantOutcome(new ClientTokenResponse(token.Token, "Bearer", (int)token.Lifetime.TotalSeconds, string.Join(' ', scopes)));
    }

    private ClientGrantOutcome Fail(string error, string description, int status = 400)
    {
        telemetry.ClientTokenRequested(error);
        return new ClientGrantOutcome(null, new OAuthError(error, description), status);
    }
}
