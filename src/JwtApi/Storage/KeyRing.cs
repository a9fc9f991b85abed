using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using JwtApi.Tokens;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.EntityFrameworkCore;
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

    /// <summary>
    /// Earlier key-ring keys (base64), for decrypting only: list the old one here when you set a new KeyRingKey, until
    /// every instance runs with the new one (each re-encrypts the stored key ring at start). Empty entries are ignored.
    /// </summary>
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
        var derived = HKDF.DeriveKey(HashAlgorithmName.SHA256, ((SymmetricSecurityKey)refreshKey.Key.Key).Key, MinimumKeyBytes, info: DerivationLabel);
        Derived = string.IsNullOrWhiteSpace(options.KeyRingKey);
        Current = Derived
            ? derived
            : Decode(options.KeyRingKey!) ?? throw new InvalidOperationException(Invalid("DataProtection:KeyRingKey"));
        _byId = new Dictionary<string, byte[]>(StringComparer.Ordinal) { [IdOf(Current)] = Current };
        foreach (var previous in options.PreviousKeyRingKeys.Where(k => !string.IsNullOrWhiteSpace(k)))
        {
            var key = Decode(previous) ?? throw new InvalidOperationException(Invalid("DataProtection:PreviousKeyRingKeys"));
            _byId.TryAdd(IdOf(key), key);
        }
        // The derived key always decrypts: a deployment that ran without a KeyRingKey keeps its key ring when one is
        // set (the derived key is no setting anyone could list as previous), and the refresh-token key could decrypt
        // what it encrypted anyway, until KeyRingReencryption moves it under the configured key.
        _byId.TryAdd(IdOf(derived), derived);
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
        var id = (string?)encryptedElement.Attribute("keyId") ?? throw new CryptographicException("The key-ring key id is missing.");
        var key = keys.Find(id)
            ?? throw new CryptographicException(
                $"A key of the Data Protection key ring was encrypted with key-ring key {id}, which is neither DataProtection:KeyRingKey nor one of DataProtection:PreviousKeyRingKeys.");
        var nonce = Convert.FromBase64String((string)encryptedElement.Element("nonce")!);
        var ciphertext = Convert.FromBase64String((string)encryptedElement.Element("ciphertext")!);
        var tag = Convert.FromBase64String((string)encryptedElement.Element("tag")!);
        var plaintext = new byte[ciphertext.Length];
        using (var aes = new AesGcm(key, tag.Length))
        {
            aes.Decrypt(nonce, ciphertext, tag, plaintext, Encoding.ASCII.GetBytes(id));
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

/// <summary>
/// At start, re-encrypts under the current key-ring key each stored key that a previous one (or the derived one)
/// encrypted, so that once every instance runs with the new key-ring key the old one can be dropped: Data Protection
/// never deletes a key, and every TOTP secret protected under an old key is read through it for good. Only the
/// wrapping changes, never a key of the ring.
/// </summary>
internal sealed partial class KeyRingReencryption(
    StorageInitializer storage, IServiceProvider services, KeyRingKeys keys, ILogger<KeyRingReencryption> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await storage.ReadyAsync(cancellationToken);
        var encryptor = new KeyRingEncryptor(keys);
        var decryptor = new KeyRingDecryptor(services);
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDb>();
        var count = 0;
        foreach (var row in await db.DataProtectionKeys.ToListAsync(cancellationToken))
        {
            var stored = XElement.Parse(row.Xml ?? "<none/>");
            foreach (var encrypted in stored.Descendants(KeyRingEncryptor.ElementName)
                .Where(e => (string?)e.Attribute("keyId") != keys.CurrentId).ToList())
            {
                try
                {
                    encrypted.ReplaceWith(encryptor.Encrypt(decryptor.Decrypt(encrypted)).EncryptedElement);
                    row.Xml = stored.ToString(SaveOptions.DisableFormatting);
                    count++;
                }
                catch (CryptographicException)
                {
                    // a key-ring key this instance does not have: left as it is; Data Protection logs the key it cannot read
                }
            }
        }
        if (count > 0)
        {
            // another instance re-encrypting the same row at once writes the same key under the same key-ring key
            await db.SaveChangesAsync(cancellationToken);
            LogReencrypted(count, keys.CurrentId);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information,
        Message = "Re-encrypted {Count} keys of the Data Protection key ring under the current key-ring key {KeyRingKeyId}")]
    private partial void LogReencrypted(int count, string keyRingKeyId);
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
        services.AddHostedService<KeyRingReencryption>();
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
