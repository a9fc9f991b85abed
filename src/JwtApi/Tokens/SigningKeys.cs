using System.Security.Cryptography;
using System.Text;
using JwtApi.Storage;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Tokens;

/// <summary>A key bound to exactly one algorithm, so it can never be used with another (RFC 8725 §3.1).</summary>
public sealed record SigningKey(string KeyId, string Algorithm, SecurityKey Key)
{
    // Built from Key on each read, never stored: a stored copy survives a `with { Key = … }` and would go on
    // signing with the old key and kid, which no validator then knows.
    public SigningCredentials Credentials => new(Key, Algorithm);

    /// <summary>RS256 and ES256 keys have a public half that may be published; an HS256 secret never.</summary>
    public bool IsAsymmetric => Key is AsymmetricSecurityKey;
}

/// <summary>
/// The keys of access tokens: one active key signs, every key validates (so tokens signed by a key being
/// retired keep working until they expire). Loaded from <c>Jwt:SigningKeys</c>, or from the single-key
/// shorthand <c>Jwt:Algorithm</c> + <c>Jwt:SigningKey</c> / <c>Jwt:PrivateKeyPath</c>.
/// </summary>
public sealed class SigningKeys
{
    public const int MinimumHmacKeyBytes = 32;
    public const int MinimumRsaKeyBits = 2048;

    internal const string HowToMakeHmacKey = "Make one with: openssl rand -base64 32";
    internal const string HowToMakeRsaKey = "Make one with: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out jwt-signing-key.pem";
    internal const string HowToMakeEcKey = "Make one with: openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out jwt-signing-key.pem";

    private readonly Dictionary<string, SigningKey> _byKeyId;

    public SigningKeys(SigningKey active, IEnumerable<SigningKey> others)
    {
        Active = active;
        Validating = [active, .. others];
        _byKeyId = Validating.ToDictionary(k => k.KeyId, StringComparer.Ordinal);
    }

    /// <summary>Signs every new token.</summary>
    public SigningKey Active { get; }

    /// <summary>Every key a token may be validated with, the active one first.</summary>
    public IReadOnlyList<SigningKey> Validating { get; }

    /// <summary>The key a token's <c>kid</c> names, if it is one of ours.</summary>
    public SigningKey? Find(string? keyId) => keyId is not null && _byKeyId.TryGetValue(keyId, out var key) ? key : null;

    /// <summary>
    /// Loads the configured keys. In Development, when none is configured, one is generated once and kept in
    /// the data folder so a restart keeps issued tokens valid. Configuration errors are reported by
    /// <see cref="JwtOptionsValidator"/> before this runs.
    /// </summary>
    public static SigningKeys Create(JwtOptions options, IHostEnvironment env, DataDirectory data)
    {
        var errors = new List<string>();
        var keys = TryLoad(options, env, errors);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException(string.Join(" ", errors));
        }
        return keys ?? new SigningKeys(GenerateForDevelopment(options.Algorithm, data), []);
    }

    /// <summary>
    /// Reads the configured key material into <paramref name="errors"/> or a key set. Null without errors
    /// means no key is configured and the environment is Development.
    /// </summary>
    internal static SigningKeys? TryLoad(JwtOptions options, IHostEnvironment env, List<string> errors)
    {
        if (options.SigningKeys.Count > 0)
        {
            return TryLoadSet(options.SigningKeys, env, errors);
        }
        if (!SigningAlgorithms.Supported.Contains(options.Algorithm))
        {
            errors.Add($"Jwt:Algorithm is '{options.Algorithm}'; it must be one of {string.Join(", ", SigningAlgorithms.Supported)} (upper case).");
            return null;
        }
        var shorthand = new SigningKeyOptions
        {
            Algorithm = options.Algorithm,
            Secret = options.Algorithm == SigningAlgorithms.HS256 ? options.SigningKey : null,
            PemPath = options.Algorithm != SigningAlgorithms.HS256 ? options.PrivateKeyPath : null,
            Active = true,
        };
        if (string.IsNullOrWhiteSpace(shorthand.Secret) && string.IsNullOrWhiteSpace(shorthand.PemPath))
        {
            if (!env.IsDevelopment())
            {
                errors.Add(options.Algorithm == SigningAlgorithms.HS256
                    ? $"No signing key: set Jwt:SigningKey (environment variable Jwt__SigningKey). {HowToMakeHmacKey}"
                    : $"No signing key: set Jwt:PrivateKeyPath (environment variable Jwt__PrivateKeyPath) to a private key PEM file, or list keys in Jwt:SigningKeys. {HowTo(options.Algorithm)}");
            }
            return null;
        }
        var key = TryLoadKey(shorthand, options.Algorithm == SigningAlgorithms.HS256 ? "Jwt:SigningKey" : "Jwt:PrivateKeyPath", env, errors);
        return key is null ? null : new SigningKeys(key, []);
    }

    private static SigningKeys? TryLoadSet(List<SigningKeyOptions> configured, IHostEnvironment env, List<string> errors)
    {
        var loaded = new List<(SigningKey Key, bool Active)>();
        for (var i = 0; i < configured.Count; i++)
        {
            if (TryLoadKey(configured[i], $"Jwt:SigningKeys:{i}", env, errors) is { } key)
            {
                loaded.Add((key, configured[i].Active));
            }
        }
        var active = configured.Count(k => k.Active);
        if (active != 1)
        {
            errors.Add($"Jwt:SigningKeys has {active} keys with Active = true; exactly one must be active (it signs, the others only validate).");
        }
        foreach (var duplicate in loaded.GroupBy(k => k.Key.KeyId).Where(g => g.Count() > 1))
        {
            errors.Add($"Jwt:SigningKeys names kid '{duplicate.Key}' more than once; every key needs its own kid.");
        }
        if (errors.Count > 0)
        {
            return null;
        }
        return new SigningKeys(loaded.Single(k => k.Active).Key, loaded.Where(k => !k.Active).Select(k => k.Key));
    }

    private static string HowTo(string algorithm) => algorithm switch
    {
        SigningAlgorithms.RS256 => HowToMakeRsaKey,
        SigningAlgorithms.ES256 => HowToMakeEcKey,
        _ => HowToMakeHmacKey,
    };

    /// <summary>One key of the set: its material for its algorithm, checked for strength.</summary>
    private static SigningKey? TryLoadKey(SigningKeyOptions options, string setting, IHostEnvironment env, List<string> errors)
    {
        string? error;
        SigningKey? key = null;
        switch (options.Algorithm)
        {
            case SigningAlgorithms.HS256:
                if (string.IsNullOrWhiteSpace(options.Secret))
                {
                    errors.Add($"{setting}: an HS256 key needs Secret (base64). {HowToMakeHmacKey}");
                    return null;
                }
                TryHmac(options.Secret, setting, "hs-", out key, out error);
                break;
            case SigningAlgorithms.RS256 or SigningAlgorithms.ES256:
                if (!TryReadPem(options, setting, env, out var pem, out error))
                {
                    break;
                }
                TryAsymmetric(options.Algorithm, pem!, setting, requirePrivate: options.Active, out key, out error);
                break;
            default:
                errors.Add($"{setting}: Algorithm is '{options.Algorithm}'; it must be one of {string.Join(", ", SigningAlgorithms.Supported)} (upper case).");
                return null;
        }
        if (error is not null)
        {
            errors.Add(error);
            return null;
        }
        return string.IsNullOrWhiteSpace(options.KeyId) ? key : WithKeyId(key!, options.KeyId.Trim());
    }

    private static bool TryReadPem(SigningKeyOptions options, string setting, IHostEnvironment env, out string? pem, out string? error)
    {
        pem = null;
        error = null;
        if (!string.IsNullOrWhiteSpace(options.Pem))
        {
            pem = options.Pem;
            return true;
        }
        if (string.IsNullOrWhiteSpace(options.PemPath))
        {
            error = $"{setting}: an {options.Algorithm} key needs PemPath (a PEM file) or Pem (the PEM text). {HowTo(options.Algorithm)}";
            return false;
        }
        var path = Path.GetFullPath(options.PemPath, env.ContentRootPath);
        if (!File.Exists(path))
        {
            error = $"{setting} names '{path}', which does not exist. {HowTo(options.Algorithm)}";
            return false;
        }
        pem = File.ReadAllText(path);
        return true;
    }

    internal static bool TryHmac(string base64, string setting, string kidPrefix, out SigningKey? key, out string? error)
    {
        key = null;
        var bytes = new byte[base64.Length];
        if (!Convert.TryFromBase64String(base64.Trim(), bytes, out var length))
        {
            error = $"{setting} is not valid base64. {HowToMakeHmacKey}";
            return false;
        }
        if (length < MinimumHmacKeyBytes)
        {
            // RFC 7518 §3.2: an HS256 key must be at least as long as the hash output. A shorter one can be
            // brute-forced from any token the service has issued.
            error = $"{setting} is {length * 8} bits; HS256 needs at least {MinimumHmacKeyBytes * 8} bits ({MinimumHmacKeyBytes} bytes). {HowToMakeHmacKey}";
            return false;
        }
        key = Hmac(bytes[..length], kidPrefix);
        error = null;
        return true;
    }

    internal static SigningKey Hmac(byte[] secret, string kidPrefix)
    {
        // The kid is a hash of the secret: stable across restarts and instances, and says nothing usable about
        // a key of 256 random bits.
        var kid = kidPrefix + Base64UrlEncoder.Encode(SHA256.HashData(secret))[..16];
        return new SigningKey(kid, SecurityAlgorithms.HmacSha256, new SymmetricSecurityKey(secret) { KeyId = kid });
    }

    /// <summary>
    /// An RSA (RS256) or P-256 (ES256) key from PEM. The active key must hold its private half; a key kept
    /// only to validate may be the public half alone.
    /// </summary>
    internal static bool TryAsymmetric(string algorithm, string pem, string setting, bool requirePrivate, out SigningKey? key, out string? error)
    {
        key = null;
        AsymmetricAlgorithm material = algorithm == SigningAlgorithms.RS256 ? RSA.Create() : ECDsa.Create();
        try
        {
            material.ImportFromPem(pem);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            material.Dispose();
            error = $"{setting} holds no {(algorithm == SigningAlgorithms.RS256 ? "RSA" : "EC")} key in PEM form. {HowTo(algorithm)}";
            return false;
        }
        error = material switch
        {
            RSA rsa when rsa.KeySize < MinimumRsaKeyBits =>
                $"{setting} holds a {rsa.KeySize}-bit RSA key; RS256 needs at least {MinimumRsaKeyBits} bits. {HowToMakeRsaKey}",
            ECDsa ec when ec.ExportParameters(false).Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value =>
                $"{setting} holds an EC key that is not on P-256; ES256 needs P-256. {HowToMakeEcKey}",
            _ when requirePrivate && !HasPrivateKey(material) =>
                $"{setting} holds a public key only; the active key signs, so it needs the private key. {HowTo(algorithm)}",
            _ => null,
        };
        if (error is not null)
        {
            material.Dispose();
            return false;
        }
        key = Asymmetric(algorithm, material);
        return true;
    }

    private static bool HasPrivateKey(AsymmetricAlgorithm material)
    {
        try
        {
            _ = material switch
            {
                RSA rsa => rsa.ExportParameters(includePrivateParameters: true).D,
                ECDsa ec => ec.ExportParameters(includePrivateParameters: true).D,
                _ => null,
            };
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static SigningKey Asymmetric(string algorithm, AsymmetricAlgorithm material)
    {
        AsymmetricSecurityKey securityKey = material switch
        {
            RSA rsa => new RsaSecurityKey(rsa),
            ECDsa ec => new ECDsaSecurityKey(ec),
            _ => throw new NotSupportedException(),
        };
        // RFC 7638 thumbprint: anyone holding the public key computes the same kid.
        var kid = Base64UrlEncoder.Encode(PublicJwk(securityKey).ComputeJwkThumbprint());
        securityKey.KeyId = kid;
        return new SigningKey(kid, algorithm == SigningAlgorithms.RS256 ? SecurityAlgorithms.RsaSha256 : SecurityAlgorithms.EcdsaSha256, securityKey);
    }

    /// <summary>The public half as a JWK: never a private parameter.</summary>
    internal static JsonWebKey PublicJwk(SecurityKey key) => key switch
    {
        RsaSecurityKey rsa => JsonWebKeyConverter.ConvertFromRSASecurityKey(
            new RsaSecurityKey(rsa.Rsa?.ExportParameters(false) ?? new RSAParameters { Modulus = rsa.Parameters.Modulus, Exponent = rsa.Parameters.Exponent })),
        ECDsaSecurityKey ec => JsonWebKeyConverter.ConvertFromECDsaSecurityKey(
            new ECDsaSecurityKey(ECDsa.Create(ec.ECDsa.ExportParameters(false)))),
        _ => throw new NotSupportedException("Only asymmetric keys have a public JWK."),
    };

    private static SigningKey WithKeyId(SigningKey key, string kid)
    {
        SecurityKey securityKey = key.Key switch
        {
            SymmetricSecurityKey s => new SymmetricSecurityKey(s.Key),
            RsaSecurityKey r => new RsaSecurityKey(r.Rsa),
            ECDsaSecurityKey e => new ECDsaSecurityKey(e.ECDsa),
            _ => throw new NotSupportedException(),
        };
        securityKey.KeyId = kid;
        return key with { KeyId = kid, Key = securityKey };
    }

    /// <summary>A new random HS256 secret in a Development key file, or the one already there.</summary>
    internal static byte[] DevelopmentHmacSecret(string path) => Convert.FromBase64String(DevelopmentKeyFile.GetOrCreate(
        path, () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(MinimumHmacKeyBytes))));

    private static SigningKey GenerateForDevelopment(string algorithm, DataDirectory data)
    {
        if (algorithm == SigningAlgorithms.HS256)
        {
            return Hmac(DevelopmentHmacSecret(Path.Combine(data.Path, "jwt-signing-key.hs256")), "hs-");
        }
        var file = algorithm == SigningAlgorithms.RS256 ? "jwt-signing-key.pem" : "jwt-signing-key.es256.pem";
        var pem = DevelopmentKeyFile.GetOrCreate(Path.Combine(data.Path, file), () => KeyGenerator.PrivateKeyPem(algorithm));
        TryAsymmetric(algorithm, pem, file, requirePrivate: true, out var key, out var error);
        return key ?? throw new InvalidOperationException(error);
    }
}

/// <summary>New key material for each algorithm, in the forms the configuration takes.</summary>
public static class KeyGenerator
{
    public static string PrivateKeyPem(string algorithm)
    {
        using AsymmetricAlgorithm key = algorithm switch
        {
            SigningAlgorithms.RS256 => RSA.Create(SigningKeys.MinimumRsaKeyBits),
            SigningAlgorithms.ES256 => ECDsa.Create(ECCurve.NamedCurves.nistP256),
            _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "RS256 or ES256"),
        };
        return key.ExportPkcs8PrivateKeyPem();
    }

    public static string HmacSecret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(SigningKeys.MinimumHmacKeyBytes));
}

/// <summary>A key file written once, readable by its owner only, and read back on every later start.</summary>
internal static class DevelopmentKeyFile
{
    public static string GetOrCreate(string path, Func<string> create)
    {
        if (!File.Exists(path))
        {
            try
            {
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }
                using var stream = new FileStream(path, options);
                stream.Write(Encoding.UTF8.GetBytes(create()));
            }
            catch (IOException) when (File.Exists(path))
            {
                // another instance created it first: use theirs
            }
        }
        return File.ReadAllText(path).Trim();
    }
}
