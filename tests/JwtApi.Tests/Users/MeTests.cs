using System.Net;
using JwtApi.Tests.Support;
using Microsoft.IdentityModel.JsonWebTokens;

namespace JwtApi.Tests.Users;

/// <summary>The whole flow, once per signing algorithm: register, log in, call /me, be refused the admin API.</summary>
public abstract class FlowTests<TFactory>(TFactory app) where TFactory : JwtApiFactory
{
    [Fact]
    public async Task Returns200WithClaimsFromTokenGivenValidToken()
    {
        var alice = await app.CreateUserAsync("user", "billing");
        var token = await app.LoginAsync(alice);
        using var client = app.ClientWithToken(token);

        var response = await client.GetAsync("/me");

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        var me = await response.JsonAsync();
        me.GetProperty("id").GetString().Should().Be(alice.Id.ToString());
        me.GetProperty("username").GetString().Should().Be(alice.Username);
        me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()).Should().BeEquivalentTo("billing", "user");
        me.GetProperty("expires_at").GetDateTimeOffset().Should().Be(new JsonWebToken(token).ValidTo);
    }

    [Fact]
    public async Task IssuesRfc9068HeaderAndClaims()
    {
        var token = new JsonWebToken(await app.LoginAsync(await app.CreateUserAsync()));

        token.Alg.Should().Be(app.Algorithm);
        token.Typ.Should().Be("at+jwt");
        token.Kid.Should().NotBeNullOrEmpty();
        token.Issuer.Should().Be(app.JwtOptions.Issuer);
        token.Audiences.Should().Equal(app.JwtOptions.Audience);
        foreach (var claim in new[] { "sub", "name", "role", "jti", "iat", "nbf", "exp" })
        {
            token.TryGetPayloadValue<object>(claim, out _).Should().BeTrue(claim);
        }
        (token.ValidTo - token.IssuedAt).Should().Be(TimeSpan.FromMinutes(15));
    }

    [Fact]
    public async Task Returns403WithInsufficientScopeGivenUserOnAdminEndpoint()
    {
        using var client = await app.ClientForAsync(await app.CreateUserAsync());

        var response = await client.GetAsync("/users");

        response.Should().HaveStatusCode(HttpStatusCode.Forbidden);
        response.Headers.WwwAuthenticate.ToString().Should().StartWith("Bearer error=\"insufficient_scope\"");
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var body = await response.JsonAsync();
        body.GetProperty("error").GetString().Should().Be("insufficient_scope");
        body.GetProperty("reason").GetString().Should().Be("missing_role");
    }

    [Fact]
    public async Task Returns200GivenAdminOnAdminEndpoint()
    {
        using var client = await app.ClientForAsync(await app.AdminAsync());

        (await client.GetAsync("/users")).Should().HaveStatusCode(HttpStatusCode.OK);
    }
}

public sealed class Hs256FlowTests(JwtApiFactory app) : FlowTests<JwtApiFactory>(app), IClassFixture<JwtApiFactory>;

public sealed class Rs256FlowTests(Rs256JwtApiFactory app) : FlowTests<Rs256JwtApiFactory>(app), IClassFixture<Rs256JwtApiFactory>;

public sealed class Es256FlowTests(Es256JwtApiFactory app) : FlowTests<Es256JwtApiFactory>(app), IClassFixture<Es256JwtApiFactory>;
