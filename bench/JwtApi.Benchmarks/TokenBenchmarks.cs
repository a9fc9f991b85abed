using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using JwtApi.Hosting;
using JwtApi.Tokens;
using JwtApi.Users;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Benchmarks;

/// <summary>
/// Issuing and validating an access token through JwtApi's own token code, beside the raw crypto floor: the
/// HMAC, RSA or ECDSA verification of the same signing input with the same key and nothing else.
/// </summary>
[MemoryDiagnoser]
public class TokenBenchmarks
{
    [Params(SigningAlgorithms.HS256, SigningAlgorithms.RS256, SigningAlgorithms.ES256)]
    public string Algorithm { get; set; } = SigningAlgorithms.HS256;

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly ValidatedTokenCache _cache = new(10_000, TimeProvider.System);
    private TokenIssuer _issuer = null!;
    private TokenValidationParameters _parameters = null!;
    private SigningKey _key = null!;
    private User _user = null!;
    private string _token = "";
    private byte[] _signingInput = [];
    private byte[] _signature = [];

    [GlobalSetup]
    public void Setup()
    {
        var options = new JwtOptions { Issuer = "https://jwtapi.example", Audience = "api", Algorithm = Algorithm };
        _key = Algorithm == SigningAlgorithms.HS256
            ? SigningKeys.Hmac(RandomNumberGenerator.GetBytes(32), "hs-")
            : SigningKeys.TryAsymmetric(Algorithm, KeyGenerator.PrivateKeyPem(Algorithm), "bench", requirePrivate: true, out var key, out _) ? key! : throw new InvalidOperationException();
        var keys = new SigningKeys(_key, []);
        var refreshKey = new RefreshKey(SigningKeys.Hmac(RandomNumberGenerator.GetBytes(32), "rt-"));
        _issuer = new TokenIssuer(keys, new RefreshTokens(refreshKey, Options.Create(options), TimeProvider.System), Options.Create(options), TimeProvider.System, BenchTelemetry.Create());
        _parameters = AccessTokenValidation.Parameters(options, keys);
        _user = new User { Username = "alice", NormalizedUsername = "alice", PasswordHash = "-", Roles = ["user", "reports:read"] };
        _token = _issuer.IssueAccessToken(_user, TokenIssuer.NewTokenId()).Token;
        var lastDot = _token.LastIndexOf('.');
        _signingInput = Encoding.ASCII.GetBytes(_token[..lastDot]);
        _signature = Base64UrlEncoder.DecodeBytes(_token[(lastDot + 1)..]);
        var validated = _handler.ValidateTokenAsync(_token, _parameters).GetAwaiter().GetResult();
        if (!validated.IsValid)
        {
            throw new InvalidOperationException("The benchmark token does not validate.");
        }
        _cache.Add(_token, validated, _parameters.ClockSkew);   // the second sighting is admitted
        _cache.Add(_token, validated, _parameters.ClockSkew);
    }

    [Benchmark(Description = "issue (TokenIssuer)")]
    public string Issue() => _issuer.IssueAccessToken(_user, "family").Token;

    [Benchmark(Description = "validate (JsonWebTokenHandler + JwtApi's parameters)")]
    public async Task<bool> Validate() => (await _handler.ValidateTokenAsync(_token, _parameters)).IsValid;

    [Benchmark(Description = "validate, repeated token (a ValidatedTokenCache hit, as BearerEvents answers it)")]
    public bool ValidateCached() => _cache.TryGet(_token, out var hit) && hit.IsValid;

    [Benchmark(Baseline = true, Description = "raw verify (crypto floor)")]
    public bool RawVerify() => _key.Key switch
    {
        SymmetricSecurityKey hmac => CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(hmac.Key, _signingInput), _signature),
        RsaSecurityKey rsa => rsa.Rsa.VerifyData(_signingInput, _signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        ECDsaSecurityKey ec => ec.ECDsa.VerifyData(_signingInput, _signature, HashAlgorithmName.SHA256),
        _ => throw new NotSupportedException(),
    };
}

/// <summary>Instruments with no listener, for the token services built here without a host: recording costs nothing.</summary>
internal static class BenchTelemetry
{
    public static Telemetry Create() =>
        new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());
}
