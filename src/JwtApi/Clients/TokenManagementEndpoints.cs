using System.Text.Json.Serialization;
using JwtApi.Auth;
using JwtApi.Hosting;
using JwtApi.Storage;
using JwtApi.Tokens;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Clients;

/// <summary>The form <c>POST /revoke</c> and <c>POST /introspect</c> take, as application/x-www-form-urlencoded.</summary>
/// <param name="Token">The access token or refresh token.</param>
/// <param name="TokenTypeHint">'access_token' or 'refresh_token': which kind to try first; the other is tried as well.</param>
/// <param name="ClientId">client_secret_post: the registered client's id.</param>
/// <param name="ClientSecret">client_secret_post: its secret. Or send both as 'Authorization: Basic', never both ways.</param>
public sealed record TokenManagementRequest(string Token, string? TokenTypeHint, string? ClientId, string? ClientSecret);

/// <summary>An RFC 7662 introspection answer: <c>active</c> alone when the token is not active.</summary>
/// <param name="Active">Whether the token is one JwtApi issued and would accept now (signature, lifetime, revocation).</param>
/// <param name="Sub">The user id, or the client id for a client's token.</param>
/// <param name="ClientId">A client's token: the client it was issued to.</param>
/// <param name="Username">A user's token: the username (the name claim).</param>
/// <param name="Scope">A client's token: its scopes, space-separated.</param>
/// <param name="Aud">The audience: a string, or an array when there are several.</param>
/// <param name="Iss">The issuer.</param>
/// <param name="Exp">Expiry, Unix seconds.</param>
/// <param name="Iat">Issued at, Unix seconds.</param>
/// <param name="Nbf">Not before, Unix seconds.</param>
/// <param name="Jti">The token's id.</param>
/// <param name="TokenType">"Bearer".</param>
public sealed record IntrospectionResponse(
    bool Active,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Sub = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ClientId = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Username = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Scope = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] object? Aud = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Iss = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Exp = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Iat = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Nbf = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Jti = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TokenType = null)
{
    public static readonly IntrospectionResponse Inactive = new(false);
}

/// <summary>
/// Token revocation (RFC 7009) and introspection (RFC 7662) for registered clients and for whoever holds a token,
/// form-encoded with RFC 6749's errors, as at <c>/token</c>. Client authentication is
/// <see cref="ClientAuthentication"/>'s; what makes an access token active is the bearer path's own
/// (<see cref="AccessTokenValidation"/>, <see cref="RevocationList"/>), judged in memory.
/// </summary>
public static class TokenManagementEndpoints
{
    public const string RevocationPath = "/revoke";
    public const string IntrospectionPath = "/introspect";
    public const string AccessTokenHint = "access_token";
    public const string RefreshTokenHint = "refresh_token";

    public static IEndpointRouteBuilder MapTokenManagement(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("").WithTags("Clients").AllowAnonymous().WithMetadata(AuthEndpoints.MaxBody)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        // Anyone holding a token may revoke it, so the per-address limit of the credential endpoints applies.
        // Introspection does not take it: a resource server may ask on every request it serves, and only an
        // authenticated client gets an answer (a wrong secret is throttled by ClientAuthentication).
        Form(group.MapPost(RevocationPath, Revoke)).WithName(nameof(Revoke)).RequireRateLimiting(RateLimits.PerAddressPolicy)
            .WithSummary("OAuth 2.0 token revocation (RFC 7009): token (access or refresh) and token_type_hint, form-encoded; 200 whatever the token was.")
            .Produces(StatusCodes.Status200OK);
        Form(group.MapPost(IntrospectionPath, Introspect)).WithName(nameof(Introspect))
            .WithSummary("OAuth 2.0 token introspection (RFC 7662), for registered clients allowed 'introspection': is this access token active, and its claims.")
            .Produces<IntrospectionResponse>()
            .Produces<OAuthError>(StatusCodes.Status403Forbidden);
        return app;
    }

    // documented, not enforced by routing: a JSON body gets RFC 6749's invalid_request, not a bare 415
    private static RouteHandlerBuilder Form(RouteHandlerBuilder endpoint) => endpoint
        .WithMetadata(new FormBody(typeof(TokenManagementRequest)))
        .WithOAuthFormLimits()
        .Produces<OAuthError>(StatusCodes.Status400BadRequest)
        .Produces<OAuthError>(StatusCodes.Status401Unauthorized);

    /// <remarks>
    /// RFC 7009 §2.2: 200 for a token that is unknown, malformed, expired or already revoked; a client learns
    /// nothing about a token by revoking it. A registered client revokes only its own tokens (§2.1); any other
    /// token it sends is answered alike and left alone. A caller without credentials proves its right by holding
    /// the token: whoever can use a token may as well end it.
    /// </remarks>
    static async Task<Results<Ok, JsonHttpResult<OAuthError>, ProblemHttpResult>> Revoke(
        HttpRequest request, ClientAuthentication clients, AppDb db, TokenRevoker revoker, RefreshTokens refreshTokens,
        IOptions<JwtOptions> options, SigningKeys keys, RevocationList revocations, CancellationToken ct)
    {
        TokenResponses.NoStore(request.HttpContext.Response);
        var (form, invalid) = await OAuthForm.ReadAsync(request, ct);
        if (form is null)
        {
            return invalid!;
        }
        var caller = await clients.AuthenticateAsync(request, form, ct);
        if (caller.RetryAfter is { } wait)
        {
            return RateLimits.TooManyRequests(request.HttpContext.Response, wait);
        }
        if (ClientRefusal(caller, request.HttpContext.Response) is { } refused)
        {
            return refused;
        }
        if (form.Parameter("token") is not { } token)
        {
            return OAuthForm.InvalidRequest("token is required: the access token or refresh token to revoke.");
        }
        var client = caller.Client;
        foreach (var kind in KindsToTry(form.Parameter("token_type_hint")))
        {
            if (kind == AccessTokenHint && await ActiveAccessTokenAsync(token, options.Value, keys, revocations) is { } access)
            {
                // the revocation row's key holds 64 characters; ours are 22, a longer jti was never issued here
                if ((client is null || ClientIdOf(access) == client.Id) && access.Id.Length <= 64)
                {
                    revoker.AccessToken(access.Id, DateTimeOffset.FromUnixTimeSeconds(access.GetPayloadValue<long>(JwtRegisteredClaimNames.Exp)));
                }
                break;
            }
            if (kind == RefreshTokenHint && await refreshTokens.ReadAsync(token, allowExpired: true) is { } refresh)
            {
                // refresh tokens are users' only: a registered client never holds one of its own
                if (client is null && !await revoker.IsFamilyRevokedAsync(refresh.FamilyId, ct))
                {
                    revoker.Family(refresh.FamilyId, refresh.AuthTime);
                }
                break;
            }
        }
        // No account write: the caller has no account to re-read, and a revocation only ever takes rights away.
        await db.SaveChangesAsync(ct);
        revoker.Committed();
        return TypedResults.Ok();
    }

    /// <remarks>
    /// Answers from what the bearer path checks, in memory: the same validation parameters, the same refusals and
    /// the same revocation list, so a token is active here exactly when <c>/me</c> would take it (whatever its
    /// audience). Only the client's authentication reads the database.
    /// </remarks>
    static async Task<Results<Ok<IntrospectionResponse>, JsonHttpResult<OAuthError>, ProblemHttpResult>> Introspect(
        HttpRequest request, ClientAuthentication clients, AuditLog audit, IOptions<JwtOptions> options, SigningKeys keys,
        RevocationList revocations, CancellationToken ct)
    {
        // RFC 7662 §4: the answer describes a live token; no cache may keep it.
        TokenResponses.NoStore(request.HttpContext.Response);
        var (form, invalid) = await OAuthForm.ReadAsync(request, ct);
        if (form is null)
        {
            return invalid!;
        }
        var caller = await clients.AuthenticateAsync(request, form, ct);
        if (caller.RetryAfter is { } wait)
        {
            return RateLimits.TooManyRequests(request.HttpContext.Response, wait);
        }
        if (ClientRefusal(caller, request.HttpContext.Response) is { } refused)
        {
            return refused;
        }
        if (caller.Client is not { } client)
        {
            // RFC 7662 §2.1: introspection requires authorization; an anonymous oracle of token validity is an
            // attacker's tool (it tells which stolen tokens still work)
            return OAuthForm.InvalidClient(request.HttpContext.Response, "Introspection is for registered clients: authenticate with client_secret_basic or client_secret_post.");
        }
        if (!client.GrantTypes.Contains(Client.Grants.Introspection))
        {
            return OAuthForm.Error("unauthorized_client", "This client is not allowed to introspect tokens (grant type 'introspection').",
                StatusCodes.Status403Forbidden);
        }
        if (form.Parameter("token") is not { } token)
        {
            return OAuthForm.InvalidRequest("token is required: the access token to introspect.");
        }
        // The hint changes nothing: only access tokens are ever active here. A refresh or device token is meant
        // for JwtApi alone, never for a resource server, so it answers active: false like any other non-access token.
        var access = await ActiveAccessTokenAsync(token, options.Value, keys, revocations);
        audit.Introspected(client.Id, access is not null);
        return TypedResults.Ok(access is null ? IntrospectionResponse.Inactive : Describe(access));
    }

    private static IntrospectionResponse Describe(JsonWebToken token)
    {
        var audiences = token.Audiences.ToList();
        string? Claim(string name) => token.TryGetPayloadValue<string>(name, out var value) ? value : null;
        long? Time(string name) => token.TryGetPayloadValue<long>(name, out var value) ? value : null;
        var clientId = Claim(JwtClaimTypes.ClientId);
        return new IntrospectionResponse(
            Active: true,
            Sub: token.Subject,
            ClientId: clientId,
            // a user's token names the user; a client's has no name (RFC 9068 for clients)
            Username: clientId is null ? Claim(JwtClaimTypes.Name) : null,
            Scope: Claim(JwtClaimTypes.Scope),
            Aud: audiences.Count == 1 ? audiences[0] : audiences,
            Iss: token.Issuer,
            Exp: Time(JwtRegisteredClaimNames.Exp),
            Iat: Time(JwtRegisteredClaimNames.Iat),
            Nbf: Time(JwtRegisteredClaimNames.Nbf),
            Jti: token.Id,
            TokenType: "Bearer");
    }

    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false, MaximumTokenSizeInBytes = BearerEvents.MaxTokenLength };

    /// <summary>
    /// The access token when JwtApi issued it and would accept it now: the bearer path's checks in its order
    /// (size, canonical signature, <see cref="AccessTokenValidation.Parameters"/>, <see cref="AccessTokenValidation.Refusal"/>,
    /// the revocation list), for any audience. Null for anything else.
    /// </summary>
    internal static async Task<JsonWebToken?> ActiveAccessTokenAsync(string token, JwtOptions options, SigningKeys keys, RevocationList revocations)
    {
        if (token.Length > BearerEvents.MaxTokenLength || AccessTokenValidation.HasNonCanonicalSignature(token))
        {
            return null;
        }
        // Not through the ValidatedTokenCache: it holds tokens valid for JwtBearer's parameters, which a client's
        // token (another audience) is not; one validated here must never become a hit at /me.
        var result = await Handler.ValidateTokenAsync(token, AnyIssuedAudience(AccessTokenValidation.Parameters(options, keys)));
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            return null;
        }
        // the clock IdentityModel judged nbf and exp on, as in BearerEvents
        return AccessTokenValidation.Refusal(jwt, TimeProvider.System.GetUtcNow(), options.ClockSkew, options.AccessTokenLifetime) is null &&
               !revocations.IsRevoked(jwt)
            ? jwt
            : null;
    }

    /// <summary>
    /// The bearer parameters with the audience widened: JwtApi's own tokens are for Jwt:Audience, a client's for
    /// one of its audiences (RFC 9068: the API it calls, never JwtApi). Both are ours, and the issuer, the pinned
    /// keys and algorithms and typ at+jwt still prove it; the audience says only whom the token is for, which is
    /// what introspection reports rather than checks. An aud is still required: every token we issue has one.
    /// </summary>
    private static TokenValidationParameters AnyIssuedAudience(TokenValidationParameters parameters)
    {
        var widened = parameters.Clone();
        widened.AudienceValidator = (audiences, _, _) => audiences.Any(a => !string.IsNullOrEmpty(a));
        return widened;
    }

    /// <summary>The access token kinds to try: the hint first, then the other (RFC 7009 §2.1: a hint is only a hint).</summary>
    private static string[] KindsToTry(string? hint) =>
        hint == RefreshTokenHint ? [RefreshTokenHint, AccessTokenHint] : [AccessTokenHint, RefreshTokenHint];

    private static string? ClientIdOf(JsonWebToken token) =>
        token.TryGetPayloadValue<string>(JwtClaimTypes.ClientId, out var clientId) ? clientId : null;

    /// <summary>Why presented credentials are refused (400 or 401; a wait is answered before), or null when they passed or none came.</summary>
    private static JsonHttpResult<OAuthError>? ClientRefusal(ClientAuthResult caller, HttpResponse response) => caller switch
    {
        { TwoMethods: true } => OAuthForm.InvalidRequest("Authenticate the client one way: 'Authorization: Basic' or client_id and client_secret in the form, not both (RFC 6749 §2.3)."),
        { Presented: true, Client: null } => OAuthForm.InvalidClient(response, "Client authentication failed: unknown client, wrong secret or disabled client."),
        _ => null,
    };
}
