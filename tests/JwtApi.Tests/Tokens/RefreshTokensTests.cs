using JwtApi.Tests.Support;
using JwtApi.Tokens;
using JwtApi.Users;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;

namespace JwtApi.Tests.Tokens;

/// <summary>Access and refresh tokens can never stand in for each other, even where typ is not checked.</summary>
public sealed class RefreshTokensTests
{
    private readonly JwtOptions _options = new()
    {
        Issuer = "https://issuer.test", Audience = "api.test", SigningKey = TestKeys.HmacBase64, RefreshSigningKey = TestKeys.RefreshHmacBase64,
    };

    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly TokenServices _services;

    public RefreshTokensTests() => _services = TokenServices.Create(_options, _time);

    private SigningKeys Keys => _services.Keys;
    private RefreshTokens Refresh => _services.Refresh;
    private TokenIssuer Issuer => _services.Issuer;

    private static User Alice() => new() { Username = "alice", NormalizedUsername = "alice", PasswordHash = "-", Roles = ["user"], TokenVersion = 3 };

    [Fact]
    public async Task ReadsBackWhatItIssued()
    {
        var alice = Alice();
        var authTime = _time.GetUtcNow().AddHours(-1);

        var claims = await Refresh.ReadAsync(Refresh.Issue(alice, "fam", authTime, ["pwd", "otp"]).Token);

        claims.Should().NotBeNull();
        claims!.UserId.Should().Be(alice.Id);
        claims.FamilyId.Should().Be("fam");
        claims.Version.Should().Be(3);
        claims.AuthTime.ToUnixTimeSeconds().Should().Be(authTime.ToUnixTimeSeconds());
        claims.Amr.Should().Equal("pwd", "otp");
    }

    [Fact]
    public async Task RefusesAnAccessToken()
    {
        var access = Issuer.StartFamily(Alice()).Access.Token;

        (await Refresh.ReadAsync(access)).Should().BeNull();
    }

    [Fact]
    public async Task RefreshTokenFailsAccessValidationEvenWithoutTypCheck()
    {
        var refresh = Issuer.StartFamily(Alice()).Refresh.Token;
        var handler = new JsonWebTokenHandler { MapInboundClaims = false };
        var parameters = AccessTokenValidation.Parameters(_options, Keys);
        parameters.ValidTypes = null;    // a careless validator that ignores typ

        var result = await handler.ValidateTokenAsync(refresh, parameters);

        result.IsValid.Should().BeFalse("the refresh key is not an access key and its audience is no API's");
    }

    [Fact]
    public async Task RefreshTokenFailsEvenWithTheRefreshKeyGivenAccessAudience()
    {
        // were the refresh key ever leaked into a validator's key set, the audience alone still refuses it
        var refresh = Issuer.StartFamily(Alice()).Refresh.Token;
        var parameters = AccessTokenValidation.Parameters(_options, Keys);
        parameters.ValidTypes = null;
        parameters.AlgorithmValidator = null;
        parameters.IssuerSigningKeys = [.. parameters.IssuerSigningKeys, _services.RefreshKey.Key.Key];

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(refresh, parameters);

        result.IsValid.Should().BeFalse();
        result.Exception.Should().BeOfType<Microsoft.IdentityModel.Tokens.SecurityTokenInvalidAudienceException>();
    }

    [Fact]
    public async Task AccessTokenWithoutTypCheckStillPassesAccessValidation()
    {
        // the control for the two tests above: the careless validator does accept real access tokens
        _time.AdjustTime(DateTimeOffset.UtcNow);
        var access = Issuer.StartFamily(Alice()).Access.Token;
        var parameters = AccessTokenValidation.Parameters(_options, Keys);
        parameters.ValidTypes = null;

        (await new JsonWebTokenHandler().ValidateTokenAsync(access, parameters)).IsValid.Should().BeTrue();
    }
}
