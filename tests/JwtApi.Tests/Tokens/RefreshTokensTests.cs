using JwtApi.Tests.Support;
using JwtApi.Tokens;
using JwtApi.Users;
using Microsoft.Extensions.Options;
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
    private readonly SigningKeys _keys;
    private readonly RefreshTokens _refresh;
    private readonly TokenIssuer _issuer;

    public RefreshTokensTests()
    {
        var env = new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { EnvironmentName = "Testing", ContentRootPath = Path.GetTempPath() };
        var data = new JwtApi.Storage.DataDirectory(Path.GetTempPath());
        _keys = SigningKeys.Create(_options, env, data);
        _refresh = new RefreshTokens(RefreshKey.Create(_options, env, data), Options.Create(_options), _time);
        _issuer = new TokenIssuer(_keys, _refresh, Options.Create(_options), _time);
    }

    private static User Alice() => new() { Username = "alice", NormalizedUsername = "alice", PasswordHash = "-", Roles = ["user"], TokenVersion = 3 };

    [Fact]
    public async Task ReadsBackWhatItIssued()
    {
        var alice = Alice();
        var authTime = _time.GetUtcNow().AddHours(-1);

        var claims = await _refresh.ReadAsync(_refresh.Issue(alice, "fam", authTime).Token);

        claims.Should().NotBeNull();
        claims!.UserId.Should().Be(alice.Id);
        claims.FamilyId.Should().Be("fam");
        claims.Version.Should().Be(3);
        claims.AuthTime.ToUnixTimeSeconds().Should().Be(authTime.ToUnixTimeSeconds());
    }

    [Fact]
    public async Task RefusesAnAccessToken()
    {
        var access = _issuer.StartFamily(Alice()).Access.Token;

        (await _refresh.ReadAsync(access)).Should().BeNull();
    }

    [Fact]
    public async Task RefreshTokenFailsAccessValidationEvenWithoutTypCheck()
    {
        var refresh = _issuer.StartFamily(Alice()).Refresh.Token;
        var handler = new JsonWebTokenHandler { MapInboundClaims = false };
        var parameters = AccessTokenValidation.Parameters(_options, _keys);
        parameters.ValidTypes = null;    // a careless validator that ignores typ

        var result = await handler.ValidateTokenAsync(refresh, parameters);

        result.IsValid.Should().BeFalse("the refresh key is not an access key and its audience is no API's");
    }

    [Fact]
    public async Task RefreshTokenFailsEvenWithTheRefreshKeyGivenAccessAudience()
    {
        // were the refresh key ever leaked into a validator's key set, the audience alone still refuses it
        var refresh = _issuer.StartFamily(Alice()).Refresh.Token;
        var parameters = AccessTokenValidation.Parameters(_options, _keys);
        parameters.ValidTypes = null;
        parameters.IssuerSigningKeys = [.. parameters.IssuerSigningKeys, RefreshKey.Create(_options,
            new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { EnvironmentName = "Testing" },
            new JwtApi.Storage.DataDirectory(Path.GetTempPath())).Key.Key];

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(refresh, parameters);

        result.IsValid.Should().BeFalse();
        result.Exception.Should().BeOfType<Microsoft.IdentityModel.Tokens.SecurityTokenInvalidAudienceException>();
    }

    [Fact]
    public async Task AccessTokenWithoutTypCheckStillPassesAccessValidation()
    {
        // the control for the two tests above: the careless validator does accept real access tokens
        _time.AdjustTime(DateTimeOffset.UtcNow);
        var access = _issuer.StartFamily(Alice()).Access.Token;
        var parameters = AccessTokenValidation.Parameters(_options, _keys);
        parameters.ValidTypes = null;

        (await new JsonWebTokenHandler().ValidateTokenAsync(access, parameters)).IsValid.Should().BeTrue();
    }
}
