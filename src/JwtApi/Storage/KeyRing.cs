using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using JwtApi.Tokens;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Storage;

/// <summary>The key that encrypts the Data Protection key ring (<c>DataProtection</c>).</summary>
public sealed class KeyRingOptions
{
    public const string Section = "DataProtection";

    /// <summary>
    /// Base64, at least 256 bits (make one with <c>openssl rand -base64 32</c>): encrypts every key of the Data
    /// Protection key ring, which lives in the database. Not set: derived from <c>Jwt:RefreshSigningKey</c> (so
    /// rotating that key would make the key ring, and every TOTP secret, unreadable; the self-check warns).
    /// </summary>
    public string? KeyRingKey { get; init; }

    /// <summary>Earlier key-ring keys (base64), for decrypting only: list the old one here when you set a new KeyRingKey. Empty entries are ignored.</summary>
    public List<string> PreviousKeyRingKeys { get; init; } = [];
}

/// <summary>
/// The key-encryption keys of the key ring: the current one encrypts, every one decrypts. From configuration, never
/// from the database, so a dump of the database alone opens no key and so no secret protected with one.
/// </summary>
public sealed class KeyRingKeys
{
    public const int MinimumKeyBytes = 32;

    private const string HowToMake = "Make one with: openssl rand -base64 32";

    private static readonly byte[] DerivationLabel = "JwtApi Data Protection key ring, v1"u8.ToArray();

    private readonly Dictionary<string, byte[]> _byId;

    public KeyRingKeys(KeyRingOptions options, RefreshKey refreshKey)
    {
        Derived = string.IsNullOrWhiteSpace(options.KeyRingKey);
        Current = Derived
            ? HKDF.DeriveKey(HashAlgorithmName.SHA256, ((SymmetricSecurityKey)refreshKey.Key.Key).Key, MinimumKeyBytes, info: DerivationLabel)
            : Decode(options.KeyRingKey!) ?? throw new InvalidOperationException(Invalid("DataProtection:KeyRingKey"));
        _byId = new Dictionary<string, byte[]>(StringComparer.Ordinal) { [IdOf(Current)] = Current };
        foreach (var previous in options.PreviousKeyRingKeys.Where(k => !string.IsNullOrWhiteSpace(k)))
        {
            var key = Decode(previous) ?? throw new InvalidOperationException(Invalid("DataProtection:PreviousKeyRingKeys"));
            _byId.TryAdd(IdOf(key), key);
        }
    }

    /// <summary>True when no KeyRingKey is configured and the key is derived from the refresh-token key.</summary>
    public bool Derived { get; }

    public byte[] Current { get; }

    public string CurrentId => IdOf(Current);

    public byte[]? Find(string id) => _byId.GetValueOrDefault(id);

    /// <summary>A key's public name: the first 8 bytes of its SHA-256, base64url. Names the key without revealing it.</summary>
    public static string IdOf(byte[] key) => Base64UrlEncoder.Encode(SHA256.HashData(key)[..8]);

    /// <summary>Null (valid) or what is wrong with <paramref name="value"/>, for the start-up check.</summary>
    public static string? Problem(string? value, string setting) =>
        string.IsNullOrWhiteSpace(value) || Decode(value) is not null ? null : Invalid(setting);

    private static byte[]? Decode(string value)
    {
        var buffer = new byte[value.Length];
        return Convert.TryFromBase64String(value.Trim(), buffer, out var length) && length >= MinimumKeyBytes ? buffer[..length] : null;
    }

    private static string Invalid(string setting) =>
        $"{setting} must be base64 of at least {MinimumKeyBytes} random bytes (256 bits). {HowToMake}";
}

/// <summary>Stops start-up on a key-ring key that is not base64 of 256 bits or more, naming the setting.</summary>
public sealed class KeyRingOptionsValidator : IValidateOptions<KeyRingOptions>
{
    public ValidateOptionsResult Validate(string? name, KeyRingOptions options)
    {
        var problems = new[] { KeyRingKeys.Problem(options.KeyRingKey, "DataProtection:KeyRingKey") }
            .Concat(options.PreviousKeyRingKeys.Select(k => KeyRingKeys.Problem(k, "DataProtection:PreviousKeyRingKeys")))
            .OfType<string>().ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

/// <summary>
/// Encrypts each key of the key ring before it is stored: AES-256-GCM under the current key-ring key, the key's id
/// beside it so the right one decrypts after a rotation.
/// </summary>
public sealed class KeyRingEncryptor(KeyRingKeys keys) : IXmlEncryptor
{
    internal const string ElementName = "jwtapiEncryptedKey";

    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var plaintext = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var nonce = RandomNumberGenerator.GetBytes(AesGcm.NonceByteSizes.MaxSize);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[AesGcm.TagByteSizes.MaxSize];
        using (var aes = new AesGcm(keys.Current, tag.Length))
        {
            aes.Encrypt(nonce, plaintext, ciphertext, tag, Encoding.ASCII.GetBytes(keys.CurrentId));
        }
        CryptographicOperations.ZeroMemory(plaintext);
        var element = new XElement(ElementName,
            new XAttribute("keyId", keys.CurrentId),
            new XElement("nonce", Convert.ToBase64String(nonce)),
            new XElement("ciphertext", Convert.ToBase64String(ciphertext)),
            new XElement("tag", Convert.ToBase64String(tag)));
        return new EncryptedXmlInfo(element, typeof(KeyRingDecryptor));
    }
}

/// <summary>The other half of <see cref="KeyRingEncryptor"/>; Data Protection creates it with the service provider.</summary>
public sealed class KeyRingDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        var keys = services.GetRequiredService<KeyRingKeys>();
        var id = (string?)encryptedElement.Attribute("keyId");
        var key = id is null ? null : keys.Find(id)
            ?? throw new CryptographicException(
                $"A key of the Data Protection key ring was encrypted with key-ring key {id}, which is neither DataProtection:KeyRingKey nor one of DataProtection:PreviousKeyRingKeys.");
        var nonce = Convert.FromBase64String((string)encryptedElement.Element("nonce")!);
        var ciphertext = Convert.FromBase64String((string)encryptedElement.Element("ciphertext")!);
        var tag = Convert.FromBase64String((string)encryptedElement.Element("tag")!);
        var plaintext = new byte[ciphertext.Length];
        using (var aes = new AesGcm(key!, tag.Length))
        {
            aes.Decrypt(nonce, ciphertext, tag, plaintext, Encoding.ASCII.GetBytes(id!));
        }
        try
        {
            return XElement.Parse(Encoding.UTF8.GetString(plaintext));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }
}

public static class KeyRingSetup
{
    /// <summary>
    /// ASP.NET Core Data Protection with its key ring in the database (every instance reads what another
    /// protected), each key encrypted with the key-ring key, under one application name whatever the content root.
    /// </summary>
    public static IHostApplicationBuilder AddKeyRing(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<KeyRingOptions>().BindConfiguration(KeyRingOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<KeyRingOptions>, KeyRingOptionsValidator>();
        services.AddSingleton(sp => new KeyRingKeys(
            sp.GetRequiredService<IOptions<KeyRingOptions>>().Value, sp.GetRequiredService<RefreshKey>()));
        services.AddDataProtection().SetApplicationName("JwtApi").PersistKeysToDbContext<AppDb>();
        services.AddOptions<KeyManagementOptions>().Configure<KeyRingKeys>((options, keys) => options.XmlEncryptor = new KeyRingEncryptor(keys));
        return builder;
    }

    /// <summary>
    /// Creates the key ring's first key, if it has no usable one, while the caller holds the start-up turn
    /// (<see cref="DatabaseLocks.MigrationsAsync"/>). Left to Data Protection, two instances starting together on an
    /// empty ring would each create a key active at once, and each would keep its own ring in memory for up to a
    /// day: a secret protected on one would not open on the other. Later keys are created days before they
    /// activate, which every instance sees in time.
    /// </summary>
    public static void EnsureFirstKey(IServiceProvider services)
    {
        var keys = services.GetRequiredService<IKeyManager>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        // any unexpired key will do, even one activating a moment from now: another instance's clock made it, and
        // Data Protection takes a key activating within its clock-skew allowance as the default
        if (!keys.GetAllKeys().Any(k => !k.IsRevoked && k.ExpirationDate > now))
        {
            keys.CreateNewKey(now, now + services.GetRequiredService<IOptions<KeyManagementOptions>>().Value.NewKeyLifetime);
        }
    }
}
