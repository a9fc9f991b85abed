using JwtApi.Auth;
using JwtApi.Clients;
using JwtApi.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace JwtApi.Tokens;

/// <summary>The RFC 8414 / OpenID Connect discovery fields a JWT validator reads.</summary>
public sealed record DiscoveryDocument(
    string Issuer,
    string JwksUri,
    string TokenEndpoint,
    string RevocationEndpoint,
    string IntrospectionEndpoint,
    IReadOnlyList<string> GrantTypesSupported,
    IReadOnlyList<string> TokenEndpointAuthMethodsSupported,
    IReadOnlyList<string> RevocationEndpointAuthMethodsSupported,
    IReadOnlyList<string> IntrospectionEndpointAuthMethodsSupported,
    IReadOnlyList<string> ResponseTypesSupported,
    IReadOnlyList<string> SubjectTypesSupported,
    IReadOnlyList<string> IdTokenSigningAlgValuesSupported,
    IReadOnlyList<string> ClaimsSupported);

/// <summary>
/// OAuth 2.0 authorization server metadata (RFC 8414). No <c>scopes_supported</c>: the scopes are those of the
/// registered clients, and listing them would tell anyone who asks what every client may do (and make the
/// document, which caches keep for minutes, change with every client registered).
/// </summary>
public sealed record AuthorizationServerMetadata(
    string Issuer,
    string JwksUri,
    string TokenEndpoint,
    string RevocationEndpoint,
    string IntrospectionEndpoint,
    IReadOnlyList<string> GrantTypesSupported,
    IReadOnlyList<string> TokenEndpointAuthMethodsSupported,
    IReadOnlyList<string> RevocationEndpointAuthMethodsSupported,
    IReadOnlyList<string> IntrospectionEndpointAuthMethodsSupported,
    IReadOnlyList<string> ResponseTypesSupported);

/// <summary>A JSON Web Key Set (RFC 7517 §5).</summary>
public sealed record JsonWebKeySet(IReadOnlyList<IReadOnlyDictionary<string, string>> Keys);

/// <summary>
/// Publishes what another service needs to validate JwtApi's tokens with nothing else: the public halves of
/// the asymmetric keys, and the discovery document that points at them.
/// </summary>
public static class KeysEndpoints
{
    public const string JwksPath = "/.well-known/jwks.json";
    public const string DiscoveryPath = "/.well-known/openid-configuration";
    public const string MetadataPath = "/.well-known/oauth-authorization-server";

    /// <summary>
    /// Consumers may cache the key set this long. Rotation adds a key (validating only) at least this long
    /// before it signs; JwtBearer also refetches at once when it meets an unknown kid.
    /// </summary>
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromMinutes(5);

    public static IEndpointRouteBuilder MapKeys(this IEndpointRouteBuilder app)
    {
        var keys = app.MapGroup("/.well-known").WithTags("Keys").AllowAnonymous();
        keys.MapGet("/jwks.json", Jwks).WithName(nameof(Jwks))
            .WithSummary("The public keys that validate access tokens (RS256, ES256); never an HMAC secret.");
        keys.MapGet("/openid-configuration", Discovery).WithName(nameof(Discovery))
            .WithSummary("Discovery: issuer, jwks_uri, token, revocation and introspection endpoints, signing algorithms.");
        keys.MapGet("/oauth-authorization-server", Metadata).WithName(nameof(Metadata))
            .WithSummary("OAuth 2.0 authorization server metadata (RFC 8414): issuer, jwks_uri, token, revocation and introspection endpoints.");
        return app;
    }

    static Ok<JsonWebKeySet> Jwks(PublishedKeys published, HttpResponse response)
    {
        response.Headers.CacheControl = $"public, max-age={(int)CacheLifetime.TotalSeconds}";
        return TypedResults.Ok(published.KeySet);
    }

    static Ok<DiscoveryDocument> Discovery(
        PublishedKeys published, IOptions<PublicOriginOptions> origin, HttpRequest request, HttpResponse response) =>
        TypedResults.Ok(published.Discovery(BaseUrl(origin.Value, request, response)));

    static Ok<AuthorizationServerMetadata> Metadata(
        PublishedKeys published, IOptions<PublicOriginOptions> origin, HttpRequest request, HttpResponse response) =>
        TypedResults.Ok(published.Metadata(BaseUrl(origin.Value, request, response)));

    /// <summary>Where the documents' URLs start, and how long a cache may keep a document built on it.</summary>
    private static string BaseUrl(PublicOriginOptions origin, HttpRequest request, HttpResponse response)
    {
        if (origin.Origin is { } configured)
        {
            // the same document whatever the request's Host says: safe for any cache to keep and hand on
            response.Headers.CacheControl = $"public, max-age={(int)CacheLifetime.TotalSeconds}";
            return configured + request.PathBase;
        }
        // Built from the request's Host, which the client chooses: with Host: evil.example it names
        // http://evil.example/.well-known/jwks.json. Right for that client, poison for anyone else a shared cache
        // would hand it to; so no cache keeps it (Hosting:PublicOrigin lifts this).
        response.Headers.CacheControl = "no-store";
        return $"{request.Scheme}://{request.Host}{request.PathBase}";
    }
}

/// <summary>The published forms of the key set, computed once: the keys do not change while the process runs.</summary>
public sealed class PublishedKeys(SigningKeys keys, IOptions<JwtOptions> options)
{
    public JsonWebKeySet KeySet { get; } = new(keys.Validating.Where(k => k.IsAsymmetric).Select(ToJwk).ToList());

    private readonly string[] _algorithms = keys.Validating.Where(k => k.IsAsymmetric).Select(k => k.Algorithm).Distinct().ToArray();

    private static readonly IReadOnlyList<string> GrantTypes = TokenEndpoint.GrantTypes;

    // registered clients authenticate either way; "none": public clients (Swagger UI, the SPA) send no secret
    private static readonly string[] TokenAuthMethods = [ClientAuthentication.BasicMethod, ClientAuthentication.PostMethod, "none"];

    // anyone holding a token may revoke it; only an authenticated client may introspect
    private static readonly string[] IntrospectionAuthMethods = [ClientAuthentication.BasicMethod, ClientAuthentication.PostMethod];

    public DiscoveryDocument Discovery(string baseUrl) => new(
        Issuer: options.Value.Issuer,
        JwksUri: baseUrl + KeysEndpoints.JwksPath,
        TokenEndpoint: baseUrl + TokenEndpoint.Path,
        RevocationEndpoint: baseUrl + TokenManagementEndpoints.RevocationPath,
        IntrospectionEndpoint: baseUrl + TokenManagementEndpoints.IntrospectionPath,
        GrantTypesSupported: GrantTypes,
        TokenEndpointAuthMethodsSupported: TokenAuthMethods,
        RevocationEndpointAuthMethodsSupported: TokenAuthMethods,
        IntrospectionEndpointAuthMethodsSupported: IntrospectionAuthMethods,
        ResponseTypesSupported: ["token"],
        SubjectTypesSupported: ["public"],
        IdTokenSigningAlgValuesSupported: _algorithms,
        ClaimsSupported: ["iss", "aud", "sub", "name", "role", "jti", "iat", "nbf", "exp", "sid", "ver"]);

    public AuthorizationServerMetadata Metadata(string baseUrl) => new(
        Issuer: options.Value.Issuer,
        JwksUri: baseUrl + KeysEndpoints.JwksPath,
        TokenEndpoint: baseUrl + TokenEndpoint.Path,
        RevocationEndpoint: baseUrl + TokenManagementEndpoints.RevocationPath,
        IntrospectionEndpoint: baseUrl + TokenManagementEndpoints.IntrospectionPath,
        GrantTypesSupported: GrantTypes,
        TokenEndpointAuthMethodsSupported: TokenAuthMethods,
        RevocationEndpointAuthMethodsSupported: TokenAuthMethods,
        IntrospectionEndpointAuthMethodsSupported: IntrospectionAuthMethods,
        ResponseTypesSupported: ["token"]);

    private static IReadOnlyDictionary<string, string> ToJwk(SigningKey key)
    {
        var jwk = SigningKeys.PublicJwk(key.Key);
        var published = new Dictionary<string, string>
        {
            ["kty"] = jwk.Kty,
            ["use"] = "sig",
            ["alg"] = key.Algorithm,
            ["kid"] = key.KeyId,
        };
        if (jwk.Kty == "RSA")
        {
            published["n"] = jwk.N;
            published["e"] = jwk.E;
        }
        else
        {
            published["crv"] = jwk.Crv;
            published["x"] = jwk.X;
            published["y"] = jwk.Y;
        }
        return published;
    }
}
