using System.ComponentModel.DataAnnotations;
using JwtApi.Clients;
using JwtApi.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace JwtApi.Auth;

/// <summary>The form <c>POST /token</c> takes (RFC 6749 §4.3.2, §4.4.2 and §6), as application/x-www-form-urlencoded.</summary>
/// <param name="GrantType">'password', 'refresh_token' or 'client_credentials'.</param>
/// <param name="Username">grant_type=password: the username.</param>
/// <param name="Password">grant_type=password: the password.</param>
/// <param name="RefreshToken">grant_type=refresh_token: a refresh token from an earlier response.</param>
/// <param name="DeviceToken">grant_type=password: the device_token of an earlier response on this device (exempts it from the username-wide guessing limit).</param>
/// <param name="Scope">grant_type=client_credentials: the scopes wanted, space-separated, among the client's (none: all of them). Leave empty for a user's token: roles decide what it allows.</param>
/// <param name="Resource">grant_type=client_credentials (RFC 8707): the API the token is for, one of the client's audiences (none: its first).</param>
/// <param name="Audience">grant_type=client_credentials: the same as resource, under the name some client libraries use.</param>
/// <param name="ClientId">grant_type=client_credentials with client_secret_post: the client's id. Ignored for a user's grant.</param>
/// <param name="ClientSecret">grant_type=client_credentials with client_secret_post: the client's secret (or use HTTP Basic, client_secret_basic; not both). Ignored for a user's grant.</param>
public sealed record TokenRequest(
    [property: Required] string GrantType, string? Username, string? Password, string? RefreshToken, string? DeviceToken, string? Scope,
    string? Resource, string? Audience, string? ClientId, string? ClientSecret);

/// <summary>An OAuth 2.0 error response (RFC 6749 §5.2).</summary>
/// <param name="Error">invalid_request, invalid_grant, unsupported_grant_type or invalid_scope.</param>
/// <param name="ErrorDescription">What went wrong, for the developer of the client.</param>
public sealed record OAuthError(string Error, string ErrorDescription);

/// <summary>
/// The OAuth 2.0 token endpoint, for the tools that speak it (Swagger UI's Authorize dialog, Postman, OAuth
/// client libraries): the same sign-in as <c>/login</c> and <c>/refresh</c>, in RFC 6749's form encoding and
/// error format.
/// </summary>
public static class TokenEndpoint
{
    public const string Path = "/token";
    public const string PasswordGrant = "password";
    public const string RefreshTokenGrant = "refresh_token";
    public static readonly IReadOnlyList<string> GrantTypes = [PasswordGrant, RefreshTokenGrant, ClientCredentialsGrant.GrantType];

    public static RouteHandlerBuilder MapTokenEndpoint(this IEndpointRouteBuilder app) =>
        app.MapPost(Path, Token).WithName(nameof(Token))
            .WithSummary("OAuth 2.0 token endpoint (RFC 6749): grant_type=password, refresh_token or client_credentials, form-encoded.")
            // documented, not enforced by routing: a JSON body gets RFC 6749's invalid_request, not a bare 415
            .WithMetadata(new FormBody(typeof(TokenRequest)))
            .Produces<TokenResponse>()
            .Produces<ClientTokenResponse>()
            .Produces<OAuthError>(StatusCodes.Status400BadRequest)
            .Produces<OAuthError>(StatusCodes.Status401Unauthorized)
            .WithOAuthFormLimits();

    static async Task<Results<Ok<TokenResponse>, Ok<ClientTokenResponse>, JsonHttpResult<OAuthError>, ProblemHttpResult>> Token(
        HttpRequest request, SignIn signIn, ClientCredentialsGrant clients, CancellationToken ct)
    {
        // RFC 6749 §5.1 for the tokens; the errors are not worth caching either.
        TokenResponses.NoStore(request.HttpContext.Response);
        var (form, invalid) = await OAuthForm.ReadAsync(request, ct);
        if (form is null)
        {
            return invalid!;
        }
        string? Parameter(string name) => form.Parameter(name);

        var grant = Parameter("grant_type");
        if (grant is PasswordGrant or RefreshTokenGrant && Parameter("scope") is not null)
        {
            return Error("invalid_scope", "A user's token has no scopes: leave scope empty. What it allows is decided by the roles it carries.");
        }
        switch (grant)
        {
            case null:
                return InvalidRequest("grant_type is required: 'password', 'refresh_token' or 'client_credentials'.");

            case ClientCredentialsGrant.GrantType:
                var outcome = await clients.IssueAsync(request, form, ct);
                if (outcome.RetryAfter is { } clientWait)
                {
                    return RateLimits.TooManyRequests(request.HttpContext.Response, clientWait);
                }
                return outcome switch
                {
                    { Token: { } clientToken } => TypedResults.Ok(clientToken),
                    { Status: StatusCodes.Status401Unauthorized } => OAuthForm.InvalidClient(request.HttpContext.Response, outcome.Error!.ErrorDescription),
                    _ => OAuthForm.Error(outcome.Error!.Error, outcome.Error.ErrorDescription, outcome.Status),
                };

            case PasswordGrant:
                if (Parameter("username") is not { } username || Parameter("password") is not { } password)
                {
                    return InvalidRequest("grant_type=password needs username and password.");
                }
                var login = await signIn.WithPasswordAsync(username, password, Parameter("device_token"), ct);
                if (login.RetryAfter is { } wait)
                {
                    return RateLimits.TooManyRequests(request.HttpContext.Response, wait);
                }
                return login.Tokens is { } pair
                    ? TypedResults.Ok(TokenResponse.From(pair, device: login.DeviceToken))
                    : Error("invalid_grant", "The username or password is incorrect.");

            case RefreshTokenGrant:
                if (Parameter("refresh_token") is not { } refreshToken)
                {
                    return InvalidRequest("grant_type=refresh_token needs refresh_token.");
                }
                return await signIn.WithRefreshTokenAsync(refreshToken, ct) is { } refreshed
                    ? TypedResults.Ok(TokenResponse.From(refreshed))
                    : Error("invalid_grant", "The refresh token is invalid, expired or revoked. Log in again.");

            default:
                return Error("unsupported_grant_type", "This server supports grant_type 'password', 'refresh_token' and 'client_credentials'.");
        }
    }

    private static JsonHttpResult<OAuthError> InvalidRequest(string description) => OAuthForm.InvalidRequest(description);

    private static JsonHttpResult<OAuthError> Error(string error, string description) => OAuthForm.Error(error, description);
}
