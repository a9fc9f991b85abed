using System.Security.Cryptography;
using System.Text;
using JwtApi.Storage;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Tokens;

/// <summary>A key bound to exactly one algorithm, so it can never be used with another (RFC 8725 §3.1).</summary>
public sealed record SigningKey(string KeyId, string Algorithm, SecurityKey Key)
{
    public SigningCredentials Credentials { get; } = new(Key, Algorithm);
}

/// <summary>The keys that sign and validate access tokens.</summary>
public sealed class SigningKeys(SigningKey active)
{
    public const int MinimumHmacKeyBytes = 32;
    public const int MinimumRsaKeyBits = 2048;

    /// <summary>Signs every new token.</summary>
    public SigningKey Active { get; } = active;

    /// <summary>Every key a token may be validated with.</summary>
    public IReadOnlyList<SigningKey> Validating { get; } = [active];

    /// <summary>
    /// Loads the configured key. In Development, when none is configured, one is generated once and kept in
    /// the data folder so a restart keeps issued tokens valid. Configuration errors are reported by
    /// <see cref="JwtOptionsValidator"/> before this runs.
    /// </summary>
    public static SigningKeys Create(JwtOptions options, IHostEnvironment env, DataDirectory data)
    {
        if (TryLoad(options, env, out var key, out var error))
        {
            return new SigningKeys(key ?? GenerateForDevelopment(options.Algorithm, data));
        }
        throw new InvalidOperationException(error);
    }

    /// <summary>
    /// Reads the configured key material. <paramref name="key"/> is null (and the result true) when no key
    /// is configured in Development.
    /// </summary>
    internal static bool TryLoad(JwtOptions options, IHostEnvironment env, out SigningKey? key, out string? error)
    {
        key = null;
        error = null;
        switch (options.Algorithm)
        {
            case SigningAlgorithms.HS256 when !string.IsNullOrWhiteSpace(options.SigningKey):
                return TryHmac(options.SigningKey, "Jwt:SigningKey", "hs-", out key, out error);
            case SigningAlgorithms.RS256 when !string.IsNullOrWhiteSpace(options.PrivateKeyPath):
                var path = Path.GetFullPath(options.PrivateKeyPath, env.ContentRootPath);
                if (!File.Exists(path))
                {
                    error = $"Jwt:PrivateKeyPath names '{path}', which does not exist. {HowToMakeRsaKey}";
                    return false;
                }
                return TryRsa(File.ReadAllText(path), $"the PEM file '{path}'", out key, out error);
            case SigningAlgorithms.HS256 or SigningAlgorithms.RS256 when env.IsDevelopment():
                return true;
            case SigningAlgorithms.HS256:
                error = $"No signing key: set Jwt:SigningKey (environment variable Jwt__SigningKey). {HowToMakeHmacKey}";
                return false;
            case SigningAlgorithms.RS256:
                error = $"No signing key: set Jwt:PrivateKeyPath (environment variable Jwt__PrivateKeyPath) to an RSA private key PEM file. {HowToMakeRsaKey}";
                return false;
            default:
                error = $"Jwt:Algorithm is '{options.Algorithm}'; it must be one of {string.Join(", ", SigningAlgorithms.Supported)} (upper case).";
                return false;
        }
    }

    internal const string HowToMakeHmacKey = "Make one with: openssl rand -base64 32";
    internal const string HowToMakeRsaKey = "Make one with: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out jwt-signing-key.pem";

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

    /// <summary>A new random HS256 secret in a Development key file, or the one already there.</summary>
    internal static byte[] DevelopmentHmacSecret(string path) => Convert.FromBase64String(DevelopmentKeyFile.GetOrCreate(
        path, () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(MinimumHmacKeyBytes))));

    internal static bool TryRsa(string pem, string source, out SigningKey? key, out string? error)
    {
        key = null;
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
            error = $"{source} holds no RSA private key in PEM form. {HowToMakeRsaKey}";
            return false;
        }
        if (rsa.KeySize < MinimumRsaKeyBits)
        {
            rsa.Dispose();
            error = $"{source} holds a {rsa.KeySize}-bit RSA key; RS256 needs at least {MinimumRsaKeyBits} bits. {HowToMakeRsaKey}";
            return false;
        }
        try
        {
            // A public key alone cannot sign: refuse it now rather than at the first login.
            rsa.ExportParameters(includePrivateParameters: true);
        }
        catch (CryptographicException)
        {
            rsa.Dispose();
            error = $"{source} holds an RSA public key; the service needs the private key to sign. {HowToMakeRsaKey}";
            return false;
        }
        key = Rsa(rsa);
        error = null;
        return true;
    }

    private static SigningKey Rsa(RSA rsa)
    {
        var securityKey = new RsaSecurityKey(rsa);
        // RFC 7638 thumbprint: any holder of the public key computes the same kid.
        var kid = Base64UrlEncoder.Encode(JsonWebKeyConverter.ConvertFromRSASecurityKey(securityKey).ComputeJwkThumbprint());
        securityKey.KeyId = kid;
        return new SigningKey(kid, SecurityAlgorithms.RsaSha256, securityKey);
    }

    private static SigningKey GenerateForDevelopment(string algorithm, DataDirectory data)
    {
        if (algorithm == SigningAlgorithms.HS256)
        {
            return Hmac(DevelopmentHmacSecret(Path.Combine(data.Path, "jwt-signing-key.hs256")), "hs-");
        }
        var pem = DevelopmentKeyFile.GetOrCreate(
            Path.Combine(data.Path, "jwt-signing-key.pem"),
            () =>
            {
                using var rsa = RSA.Create(MinimumRsaKeyBits);
                return rsa.ExportPkcs8PrivateKeyPem();
            });
        var fresh = RSA.Create();
        fresh.ImportFromPem(pem);
        return Rsa(fresh);
    }
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
