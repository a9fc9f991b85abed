using JwtApi.Tests.Support;
using JwtApi.Tokens;
using JwtApi.Users;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;

namespace JwtApi.Tests.Tokens;

/// <summary>Unit tests of the issuer: what goes into a token, checked by the same validation JwtBearer uses.</summary>
public sealed class TokenIssuerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, 500, TimeSpan.Zero);

    private readonly JwtOptions _options = new()
    {
        Issuer = "https://issuer.test", Audience = "api.test", SigningKey = TestKeys.HmacBase64, RefreshSigningKey = TestKeys.RefreshHmacBase64,
    };
    private readonly FakeTimeProvider _time = new(Now);

    private TokenIssuer Issuer(JwtOptions options, out SigningKeys keys)
    {
        var services = TokenServices.Create(options, _time);
        keys = services.Keys;
        return services.Issuer;
    }

    private static User Alice() => new()
    {
        Username = "Alice",
        NormalizedUsername = "alice",
        PasswordHash = "-",
        Roles = ["admin", "user"],
    };

    [Fact]
    public void SetsRfc9068HeaderAndClaims()
    {
        var alice = Alice();

        var issued = Issuer(_options, out _).IssueAccessToken(alice, "family-1");
        var token = new JsonWebToken(issued.Token);

        token.Alg.Should().Be("HS256");
        token.Typ.Should().Be("at+jwt");
        token.Kid.Should().Be(TestKeys.HmacKeyId);
        token.Issuer.Should().Be("https://issuer.test");
        token.Audiences.Should().Equal("api.test");
        token.Subject.Should().Be(alice.Id.ToString());
        token.GetClaim("name").Value.Should().Be("Alice");
        token.GetPayloadValue<string[]>("role").Should().Equal("admin", "user");
        token.Id.Should().Be(issued.Id).And.HaveLength(22);
        token.GetClaim("sid").Value.Should().Be("family-1");
    }

    [Fact]
    public void SetsTimesFromTimeProviderInWholeSeconds()
    {
        var issued = Issuer(_options, out _).IssueAccessToken(Alice(), "family-1");
        var token = new JsonWebToken(issued.Token);

        var whole = DateTimeOffset.FromUnixTimeSeconds(Now.ToUnixTimeSeconds());
        token.GetPayloadValue<long>("iat").Should().Be(whole.ToUnixTimeSeconds());
        token.GetPayloadValue<long>("nbf").Should().Be(whole.ToUnixTimeSeconds());
        token.GetPayloadValue<long>("exp").Should().Be((whole + TimeSpan.FromMinutes(15)).ToUnixTimeSeconds());
        issued.ExpiresAt.Should().Be(whole + TimeSpan.FromMinutes(15));
    }

    [Fact]
    public void UsesConfiguredLifetime()
    {
        var options = new JwtOptions { Issuer = "i", Audience = "a", SigningKey = TestKeys.HmacBase64, RefreshSigningKey = TestKeys.RefreshHmacBase64, AccessTokenLifetime = TimeSpan.FromMinutes(5) };

        var token = new JsonWebToken(Issuer(options, out _).IssueAccessToken(Alice(), "family-1").Token);

        (token.ValidTo - token.ValidFrom).Should().Be(TimeSpan.FromMinutes(5));
    }

    [Fact]
    public void GivesEveryTokenItsOwnId()
    {
        var issuer = Issuer(_options, out _);

        var ids = Enumerable.Range(0, 100).Select(_ => issuer.IssueAccessToken(Alice(), "family-1").Id);

        ids.Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task IssuesTokensTheBearerParametersAccept()
    {
        _time.AdjustTime(DateTimeOffset.UtcNow);   // JwtBearer checks exp against the system clock
        var token = Issuer(_options, out var keys).IssueAccessToken(Alice(), "family-1").Token;

        var result = await new JsonWebTokenHandler { MapInboundClaims = false }
            .ValidateTokenAsync(token, AccessTokenValidation.Parameters(_options, keys));

        result.IsValid.Should().BeTrue(result.Exception?.Message);
        new System.Security.Claims.ClaimsPrincipal(result.ClaimsIdentity).IsInRole("admin").Should().BeTrue();
        result.ClaimsIdentity.Name.Should().Be("Alice");
    }

    [Fact]
    public void SignsWithRs256AndThumbprintKidGivenRsaKey()
    {
        var options = new JwtOptions { Issuer = "i", Audience = "a", Algorithm = "RS256", PrivateKeyPath = TestKeys.RsaPemPath, RefreshSigningKey = TestKeys.RefreshHmacBase64 };

        var token = new JsonWebToken(Issuer(options, out _).IssueAccessToken(Alice(), "family-1").Token);

        token.Alg.Should().Be("RS256");
        token.Kid.Should().Be(TestKeys.RsaKeyId);
    }
}
