using System.Net;
using System.Text.Json;
using JwtApi.Tests.Support;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Tests.Tokens;

/// <summary>JWKS and discovery over a set of RS256 (active), ES256 and HS256 keys.</summary>
public sealed class KeysEndpointsTests(KeysEndpointsTests.Factory app) : IClassFixture<KeysEndpointsTests.Factory>
{
    public sealed class Factory : JwtApiFactory
    {
        public Factory() => UseSigningKeys(
            new("RS256", Active: true, PemPath: TestKeys.RsaPemPath),
            new("ES256", PemPath: TestKeys.EcPemPath),
            new("HS256", Secret: TestKeys.HmacBase64));
    }

    private async Task<(HttpResponseMessage Response, string Body)> GetAsync(string path)
    {
        var response = await app.CreateClient().GetAsync(path);
        return (response, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task PublishesPublicHalvesOfAsymmetricKeysOnly()
    {
        var (response, body) = await GetAsync("/.well-known/jwks.json");

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        response.Headers.CacheControl!.Public.Should().BeTrue();
        response.Headers.CacheControl.MaxAge.Should().Be(TimeSpan.FromMinutes(5));
        var keys = JsonDocument.Parse(body).RootElement.GetProperty("keys").EnumerateArray().ToList();
        keys.Select(k => k.GetProperty("kid").GetString()).Should().BeEquivalentTo(TestKeys.RsaKeyId, TestKeys.EcKeyId);
        keys.Select(k => k.GetProperty("alg").GetString()).Should().BeEquivalentTo("RS256", "ES256");
        foreach (var key in keys)
        {
            key.GetProperty("use").GetString().Should().Be("sig");
            key.EnumerateObject().Select(p => p.Name).Should().NotIntersectWith(["d", "p", "q", "dp", "dq", "qi", "k"]);
        }
    }

    [Fact]
    public async Task PublishesDiscoveryThatPointsAtTheKeySet()
    {
        var (response, body) = await GetAsync("/.well-known/openid-configuration");

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        var discovery = JsonDocument.Parse(body).RootElement;
        discovery.GetProperty("issuer").GetString().Should().Be(app.JwtOptions.Issuer);
        discovery.GetProperty("jwks_uri").GetString().Should().Be("http://localhost/.well-known/jwks.json");
        discovery.GetProperty("token_endpoint").GetString().Should().StartWith("http://localhost/");
        discovery.GetProperty("id_token_signing_alg_values_supported").EnumerateArray().Select(a => a.GetString())
            .Should().BeEquivalentTo("RS256", "ES256");
        discovery.GetProperty("revocation_endpoint").GetString().Should().Be("http://localhost/revoke");
        discovery.GetProperty("introspection_endpoint").GetString().Should().Be("http://localhost/introspect");
        Strings(discovery, "revocation_endpoint_auth_methods_supported").Should().BeEquivalentTo("client_secret_basic", "client_secret_post", "none");
        Strings(discovery, "introspection_endpoint_auth_methods_supported").Should().BeEquivalentTo("client_secret_basic", "client_secret_post");
    }

    [Fact]
    public async Task PublishesAuthorizationServerMetadata()
    {
        var (response, body) = await GetAsync("/.well-known/oauth-authorization-server");

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        // no Hosting:PublicOrigin here: built from the request's Host, so no cache may keep it
        response.Headers.CacheControl!.NoStore.Should().BeTrue();
        var metadata = JsonDocument.Parse(body).RootElement;
        metadata.GetProperty("issuer").GetString().Should().Be(app.JwtOptions.Issuer);
        metadata.GetProperty("jwks_uri").GetString().Should().Be("http://localhost/.well-known/jwks.json");
        metadata.GetProperty("token_endpoint").GetString().Should().Be("http://localhost/token");
        metadata.GetProperty("revocation_endpoint").GetString().Should().Be("http://localhost/revoke");
        metadata.GetProperty("introspection_endpoint").GetString().Should().Be("http://localhost/introspect");
        Strings(metadata, "grant_types_supported").Should().BeEquivalentTo("password", "refresh_token", "client_credentials", "urn:jwtapi:grant-type:mfa-otp", "urn:jwtapi:grant-type:mfa-recovery-code");
        Strings(metadata, "token_endpoint_auth_methods_supported").Should().BeEquivalentTo("client_secret_basic", "client_secret_post", "none");
        Strings(metadata, "revocation_endpoint_auth_methods_supported").Should().BeEquivalentTo("client_secret_basic", "client_secret_post", "none");
        Strings(metadata, "introspection_endpoint_auth_methods_supported").Should().BeEquivalentTo("client_secret_basic", "client_secret_post");
        Strings(metadata, "response_types_supported").Should().Equal("token");
        // the registered clients' scopes are not published (see AuthorizationServerMetadata)
        metadata.TryGetProperty("scopes_supported", out _).Should().BeFalse();
    }

    private static IEnumerable<string?> Strings(JsonElement document, string name) =>
        document.GetProperty(name).EnumerateArray().Select(e => e.GetString());

    [Fact]
    public async Task ValidatesAnIssuedTokenWithThePublishedKeysAlone()
    {
        // what another service does: nothing but the discovery document and the key set
        var discovery = JsonDocument.Parse((await GetAsync("/.well-known/openid-configuration")).Body).RootElement;
        var jwks = new JsonWebKeySet((await GetAsync("/.well-known/jwks.json")).Body);
        var token = await app.LoginAsync(await app.CreateUserAsync());

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = discovery.GetProperty("issuer").GetString(),
            ValidAudience = app.JwtOptions.Audience,
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidAlgorithms = ["RS256", "ES256"],
        });

        result.IsValid.Should().BeTrue(result.Exception?.Message);
    }
}
