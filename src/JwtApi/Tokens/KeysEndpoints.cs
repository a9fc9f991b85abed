using JwtApi.Auth;
using JwtApi.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace JwtApi.Tokens;

/// <summary>The RFC 8414 / OpenID Connect discovery fields a JWT validator reads.</summary>
public sealed record DiscoveryDocument(
    string Issuer,
    string JwksUri,
    string TokenEndpoint,
    IReadOnlyList<string> GrantTypesSupported,
    IReadOnlyList<string> TokenEndpointAuthMethodsSupported,
    IReadOnlyList<string> ResponseTypesSupported,
    IReadOnlyList<string> SubjectTypesSupported,
    IReadOnlyList<string> IdTokenSigningAlgValuesSupported,
    IReadOnlyList<string> ClaimsSupported);

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
            .WithSummary("Discovery: issuer, jwks_uri, token endpoint, signing algorithms.");
        return app;
    }

    static Ok<JsonWebKeySet> Jwks(PublishedKeys published, HttpResponse response)
    {
        response.Headers.CacheControl = $"public, max-age={(int)CacheLifetime.TotalSeconds}";
        return TypedResults.Ok(published.KeySet);
    }

    static Ok<DiscoveryDocument> Discovery(
        PublishedKeys published, IOptions<PublicOriginOptions> origin, HttpRequest request, HttpResponse response)
    {
        if (origin.Value.Origin is { } configured)
        {
            // the same document whatever the request's Host says: safe for any cache to keep and hand on
            response.Headers.CacheControl = $"public, max-age={(int)CacheLifetime.TotalSeconds}";
            return TypedResults.Ok(published.Discovery(configured + request.PathBase));
        }
        // Built from the request's Host, which the client chooses: with Host: evil.example it names
        // http://evil.example/.well-known/jwks.json. Right for that client, poison for anyone else a shared cache
        // would hand it to; so no cache keeps it (Hosting:PublicOrigin lifts this).
        response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(published.Discovery($"{request.Scheme}://{request.Host}{request.PathBase}"));
    }
}

/// <summary>The published forms of the key set, computed once: the keys do not change while the process runs.</summary>
public sealed class PublishedKeys(SigningKeys keys, IOptions<JwtOptions> options)
{
    public JsonWebKeySet KeySet { get; } = new(keys.Validating.Where(k => k.IsAsymmetric).Select(ToJwk).ToList());

    private readonly string[] _algorithms = keys.Validating.Where(k => k.IsAsymmetric).Select(k => k.Algorithm).Distinct().ToArray();

    public DiscoveryDocument Discovery(string baseUrl) => new(
        Issuer: options.Value.Issuer,
        JwksUri: baseUrl + KeysEndpoints.JwksPath,
        TokenEndpoint: baseUrl + TokenEndpoint.Path,
        GrantTypesSupported: TokenEndpoint.GrantTypes,
        // public clients only: a client_id or client credentials are accepted and ignored
        TokenEndpointAuthMethodsSupported: ["none"],
        ResponseTypesSupported: ["token"],
        SubjectTypesSupported: ["public"],
        IdTokenSigningAlgValuesSupported: _algorithms,
        ClaimsSupported: ["iss", "aud", "sub", "name", "role", "jti", "iat", "nbf", "exp", "sid", "ver"]);

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
