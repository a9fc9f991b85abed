using System.Net;
using System.Security.Claims;
using JwtApi.Tests.Support;
using JwtApi.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Tests.Tokens;

/// <summary>The validated-token cache alone, on a fake clock.</summary>
public sealed class ValidatedTokenCacheTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private static readonly SymmetricSecurityKey Key = new(new byte[32]) { KeyId = "k" };
    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false, SetDefaultTimesOnTokenCreation = false };

    private static string Token(DateTimeOffset expires, string subject = "alice") => Handler.CreateToken(new SecurityTokenDescriptor
    {
        Issuer = "iss",
        Audience = "aud",
        Expires = expires.UtcDateTime,
        Claims = new Dictionary<string, object> { ["sub"] = subject, ["role"] = new[] { "user" } },
        SigningCredentials = new SigningCredentials(Key, SecurityAlgorithms.HmacSha256),
    });

    private static TokenValidationResult Valid(string token) => new()
    {
        IsValid = true,
        SecurityToken = new JsonWebToken(token),
        ClaimsIdentity = new ClaimsIdentity([new Claim("sub", "alice"), new Claim("role", "user")], "Bearer", "name", "role"),
    };

    /// <summary>Adds as JwtBearer would on two requests with the token: the second sighting admits it.</summary>
    private static void Admit(ValidatedTokenCache cache, string token, TokenValidationResult result, TimeSpan skew)
    {
        cache.Add(token, result, skew);
        cache.Add(token, result, skew);
    }

    [Fact]
    public void AdmitsATokenOnItsSecondSightingOnly()
    {
        using var cache = new ValidatedTokenCache(10, new FakeTimeProvider(Now));
        var token = Token(Now.AddMinutes(5));

        cache.Add(token, Valid(token), TimeSpan.Zero);
        cache.TryGet(token, out _).Should().BeFalse("a token seen once is not worth a place");
        cache.Add(token, Valid(token), TimeSpan.Zero);
        cache.TryGet(token, out _).Should().BeTrue();
    }

    [Fact]
    public void ReturnsACopyOfTheIdentityOnEveryHit()
    {
        using var cache = new ValidatedTokenCache(10, new FakeTimeProvider(Now));
        var token = Token(Now.AddMinutes(5));
        var first = Valid(token);
        Admit(cache, token, first, TimeSpan.Zero);

        cache.TryGet(token, out var hit).Should().BeTrue();
        hit!.ClaimsIdentity.AddClaim(new Claim("role", "admin"));   // what a careless claims transformation does
        first.ClaimsIdentity.AddClaim(new Claim("role", "root"));
        cache.TryGet(token, out var next).Should().BeTrue();

        next!.IsValid.Should().BeTrue();
        next.ClaimsIdentity.Should().NotBeSameAs(hit.ClaimsIdentity);
        next.ClaimsIdentity.FindAll("role").Select(c => c.Value).Should().Equal("user");
        next.SecurityToken.Should().BeSameAs(first.SecurityToken);
    }

    [Fact]
    public void ForgetsATokenAtItsExpiryPlusTheClockSkew()
    {
        var time = new FakeTimeProvider(Now);
        using var cache = new ValidatedTokenCache(10, time);
        var token = Token(Now.AddSeconds(60));
        Admit(cache, token, Valid(token), TimeSpan.FromSeconds(30));

        time.Advance(TimeSpan.FromSeconds(89));
        cache.TryGet(token, out _).Should().BeTrue();
        time.Advance(TimeSpan.FromSeconds(1));
        cache.TryGet(token, out _).Should().BeFalse();
        cache.Count.Should().Be(0);
    }

    [Fact]
    public void HoldsNoMoreThanItsSize()
    {
        using var cache = new ValidatedTokenCache(100, new FakeTimeProvider(Now));

        for (var i = 0; i < 2_000; i++)
        {
            var token = Token(Now.AddMinutes(5), $"user{i}");
            Admit(cache, token, Valid(token), TimeSpan.Zero);
            cache.Count.Should().BeLessThanOrEqualTo(100);
        }
    }

    [Fact]
    public void KeepsATokenInUseWhileUnusedOnesFallOut()
    {
        using var cache = new ValidatedTokenCache(10, new FakeTimeProvider(Now));
        var busy = Token(Now.AddMinutes(5), "busy");
        var idle = Token(Now.AddMinutes(5), "idle");
        Admit(cache, busy, Valid(busy), TimeSpan.Zero);
        Admit(cache, idle, Valid(idle), TimeSpan.Zero);

        for (var i = 0; i < 100; i++)
        {
            var other = Token(Now.AddMinutes(5), $"other{i}");
            Admit(cache, other, Valid(other), TimeSpan.Zero);
            if (i % 3 == 0)
            {
                cache.TryGet(busy, out _).Should().BeTrue($"the busy token is used every third token (at {i})");
            }
        }

        cache.TryGet(idle, out _).Should().BeFalse();
        cache.Count.Should().BeLessThanOrEqualTo(10);
    }

    [Fact]
    public void NeverRemembersAnInvalidOrExpiredResult()
    {
        using var cache = new ValidatedTokenCache(10, new FakeTimeProvider(Now));
        var token = Token(Now.AddMinutes(5));
        var expired = Token(Now.AddMinutes(-1));

        Admit(cache, token, new TokenValidationResult { IsValid = false, SecurityToken = new JsonWebToken(token) }, TimeSpan.Zero);
        Admit(cache, expired, Valid(expired), TimeSpan.Zero);

        cache.TryGet(token, out _).Should().BeFalse();
        cache.TryGet(expired, out _).Should().BeFalse();
    }

    [Fact]
    public void RemembersNothingGivenSizeZeroAndForgetsAllGivenClear()
    {
        var token = Token(Now.AddMinutes(5));
        using var off = new ValidatedTokenCache(0, new FakeTimeProvider(Now));
        using var on = new ValidatedTokenCache(10, new FakeTimeProvider(Now));
        Admit(off, token, Valid(token), TimeSpan.Zero);
        Admit(on, token, Valid(token), TimeSpan.Zero);

        on.Clear();

        off.Enabled.Should().BeFalse();
        off.TryGet(token, out _).Should().BeFalse();
        on.TryGet(token, out _).Should().BeFalse();
    }
}

/// <summary>The cache inside the running service: a hit is still revoked, authorized, and a forgery never hits.</summary>
public sealed class ValidatedTokenCacheServiceTests(JwtApiFactory app) : IClassFixture<JwtApiFactory>
{
    private ValidatedTokenCache Cache => app.Services.GetRequiredService<ValidatedTokenCache>();

    [Fact]
    public async Task CachesAValidatedTokenAndRefusesAForgedVariantOfIt()
    {
        var token = await app.LoginAsync(await app.CreateUserAsync());
        using (var client = app.ClientWithToken(token))
        {
            (await client.GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.OK);
            (await client.GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.OK);   // the second sighting caches it
        }
        // keyed on the Authorization header as the client sent it
        Cache.TryGet($"Bearer {token}", out _).Should().BeTrue();

        var forged = token[..^2] + (token[^2] == 'A' ? 'B' : 'A') + token[^1];
        using var forger = app.ClientWithToken(forged);
        (await forger.GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task CachesEachSpellingOfTheHeaderOnItsOwnAndAnswersEachAlike()
    {
        var token = await app.LoginAsync(await app.CreateUserAsync());
        using var client = app.CreateClient();
        // (HttpClient sends "Bearer  token" as "Bearer token", so the scheme's case is the spelling tried here)
        foreach (var header in new[] { $"Bearer {token}", $"bearer {token}", $"BEARER {token}" })
        {
            for (var i = 0; i < 3; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/me");
                request.Headers.TryAddWithoutValidation("Authorization", header);
                var response = await client.SendAsync(request);
                response.Should().HaveStatusCode(HttpStatusCode.OK, $"'{header[..8]}…' is read as JwtBearer reads it (request {i + 1})");
            }
            Cache.TryGet(header, out _).Should().BeTrue($"'{header[..8]}…' was seen three times");
        }
    }

    [Fact]
    public async Task RefusesACachedTokenOnceRevoked()
    {
        var token = await app.LoginAsync(await app.CreateUserAsync());
        using var client = app.ClientWithToken(token);
        (await client.GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.OK);
        (await client.GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.OK);
        (await client.PostAsync("/logout", null)).Should().HaveStatusCode(HttpStatusCode.NoContent);

        Cache.TryGet($"Bearer {token}", out _).Should().BeTrue("the token is still cached: the revocation check refuses it");
        var response = await client.GetAsync("/me");

        response.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await response.JsonAsync()).GetProperty("reason").GetString().Should().Be("token_revoked");
    }

    [Fact]
    public async Task AuthorizesACachedTokenByItsRolesEveryTime()
    {
        using var client = await app.ClientForAsync(await app.CreateUserAsync());

        for (var i = 0; i < 3; i++)
        {
            (await client.GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.OK);
            (await client.GetAsync("/users")).Should().HaveStatusCode(HttpStatusCode.Forbidden);
        }
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("1000001")]
    public void RefusesToStartGivenSizeOutOfRange(string size)
    {
        var factory = new JwtApiFactory();
        factory.Settings["Jwt:ValidationCache:Size"] = size;

        StartupFailure.Of(factory).Should().Contain("Jwt:ValidationCache:Size");
    }

    [Fact]
    public async Task ValidatesEveryTimeGivenSizeZero()
    {
        using var factory = new JwtApiFactory();
        factory.Settings["Jwt:ValidationCache:Size"] = "0";
        var token = await factory.LoginAsync(await factory.AdminAsync());

        (await factory.ClientWithToken(token).GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.OK);

        factory.Services.GetRequiredService<ValidatedTokenCache>().Enabled.Should().BeFalse();
    }
}
