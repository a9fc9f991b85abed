using System.IdentityModel.Tokens.Jwt;
using System.Reflection;
using JwtApi.Storage;
using JwtApi.Tokens;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Hosting;

/// <summary>Thrown at start-up, outside Development, when the self-check finds a misconfiguration that stops it.</summary>
public sealed class SelfCheckFailedException(string message) : InvalidOperationException(message);

/// <summary>A misconfiguration found at start-up.</summary>
/// <param name="Message">What is wrong and how to fix it.</param>
/// <param name="Fatal">Stops start-up outside Development; a warning in Development.</param>
public sealed record SelfCheckFinding(string Message, bool Fatal);

/// <summary>
/// The start-up self-check: the misconfigurations people hit with JWT services that the options validators
/// cannot see. (Those that they can, such as a short HMAC key, a clock skew over five minutes or an access
/// lifetime over an hour, already stop start-up in every environment: see JwtOptions.)
/// </summary>
public static class SelfCheck
{
    public static IHostApplicationBuilder AddSelfCheck(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHostedService<StartupSelfCheck>();
        return builder;
    }

    private static int _exitHandlerInstalled;

    /// <summary>
    /// A configuration error stops start-up, and the host has already logged it ("Hosting failed to start"):
    /// end the process with exit code 1 and one line saying why, instead of an unhandled-exception abort.
    /// (Under WebApplicationFactory the exception never goes unhandled: it reaches the test.)
    /// </summary>
    public static void ExitCleanlyOnConfigurationError()
    {
        if (Interlocked.Exchange(ref _exitHandlerInstalled, 1) == 1)
        {
            return;
        }
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            if (e.ExceptionObject is OptionsValidationException or SelfCheckFailedException)
            {
                Console.Error.WriteLine($"JwtApi did not start: {((Exception)e.ExceptionObject).Message}");
                Environment.Exit(1);
            }
        };
    }

    /// <summary>HMAC secrets that are text (a passphrase, base64-encoded) or repeat a few bytes, not random bytes.</summary>
    public static IEnumerable<SelfCheckFinding> GuessableSecrets(IEnumerable<(string Setting, SigningKey Key)> keys)
    {
        foreach (var (setting, key) in keys)
        {
            if (key.Key is SymmetricSecurityKey symmetric && LooksGuessable(symmetric.Key))
            {
                yield return new SelfCheckFinding(
                    $"{setting} (kid {key.KeyId}) decodes to text or repeated bytes, not random bytes: a passphrase can be " +
                    $"guessed offline from any token it signed. {SigningKeys.HowToMakeHmacKey}", Fatal: true);
            }
        }
    }

    /// <summary>
    /// Random bytes are almost never all printable ASCII (for 32 bytes, odds of about 1 in 10^14) and almost
    /// never use fewer than half as many distinct values as they could.
    /// </summary>
    internal static bool LooksGuessable(ReadOnlySpan<byte> secret)
    {
        var printable = true;
        Span<bool> seen = stackalloc bool[256];
        var distinct = 0;
        foreach (var b in secret)
        {
            printable &= b is >= 0x20 and <= 0x7E;
            if (!seen[b])
            {
                seen[b] = true;
                distinct++;
            }
        }
        return printable || distinct < Math.Min(secret.Length, 256) / 2;
    }

    /// <summary>
    /// Microsoft.IdentityModel.* and System.IdentityModel.Tokens.Jwt ship together and must be one version: a
    /// mix (one package upgraded alone) fails at run time with IDX errors or missing methods.
    /// </summary>
    public static SelfCheckFinding? MixedIdentityModelVersions(IReadOnlyCollection<AssemblyName> assemblies)
    {
        var versions = assemblies.Select(a => a.Version).Distinct().ToList();
        if (versions.Count <= 1)
        {
            return null;
        }
        var list = string.Join(", ", assemblies.OrderBy(a => a.Name).Select(a => $"{a.Name} {a.Version}"));
        return new SelfCheckFinding(
            $"Mixed Microsoft.IdentityModel versions are loaded ({list}). Reference every Microsoft.IdentityModel.* " +
            "package and System.IdentityModel.Tokens.Jwt at one version.", Fatal: true);
    }

    /// <summary>The IdentityModel assemblies the token code uses, and the ones they reference, as loaded.</summary>
    public static IReadOnlyCollection<AssemblyName> LoadedIdentityModelAssemblies()
    {
        var found = new Dictionary<string, AssemblyName>(StringComparer.Ordinal);
        var pending = new Queue<Assembly>([typeof(JsonWebTokenHandler).Assembly, typeof(JwtSecurityTokenHandler).Assembly, typeof(SecurityKey).Assembly]);
        while (pending.TryDequeue(out var assembly))
        {
            var name = assembly.GetName();
            if (!found.TryAdd(name.Name!, name))
            {
                continue;
            }
            foreach (var reference in assembly.GetReferencedAssemblies().Where(IsIdentityModel))
            {
                if (!found.ContainsKey(reference.Name!))
                {
                    pending.Enqueue(Assembly.Load(reference));
                }
            }
        }
        return found.Values;
    }

    private static bool IsIdentityModel(AssemblyName name) =>
        name.Name is { } n && (n.StartsWith("Microsoft.IdentityModel.", StringComparison.Ordinal) || n == "System.IdentityModel.Tokens.Jwt");

    /// <summary>
    /// JwtBearer's inbound claim mapping renames sub, role and name to long URIs: the role policies and /me
    /// would then find nothing.
    /// </summary>
    public static SelfCheckFinding? InboundClaimMapping(JwtBearerOptions bearer) =>
        bearer.MapInboundClaims || bearer.TokenHandlers.OfType<JsonWebTokenHandler>().Any(h => h.MapInboundClaims)
            ? new SelfCheckFinding(
                "JwtBearer's MapInboundClaims is on: claims such as 'role' and 'sub' are renamed to long URIs and the " +
                "role checks fail. Leave MapInboundClaims = false (Tokens/TokensSetup.cs).", Fatal: true)
            : null;

    /// <summary>
    /// Outside Development, without <c>Hosting:PublicOrigin</c> the discovery document names URLs from each request's
    /// <c>Host</c>: it is served <c>no-store</c> and every Host is answered. Works; but other services then find the
    /// keys wherever their own request said, and no cache can help.
    /// </summary>
    public static SelfCheckFinding? PublicOriginNotConfigured(PublicOriginOptions options) =>
        options.Origin is null
            ? new SelfCheckFinding(
                "Hosting:PublicOrigin is not set: the discovery document names its URLs after each request's Host header " +
                "(served Cache-Control: no-store), and requests for any Host are answered. Set Hosting:PublicOrigin " +
                "(environment variable Hosting__PublicOrigin) to the URL clients use, such as https://auth.example.com.", Fatal: false)
            : null;

    /// <summary>
    /// Outside Development, a key ring encrypted with a key derived from <c>Jwt:RefreshSigningKey</c> works, but
    /// rotating that key would leave the key ring, and every TOTP secret, unreadable.
    /// </summary>
    public static SelfCheckFinding? KeyRingKeyDerived(KeyRingKeys keys) =>
        keys.Derived
            ? new SelfCheckFinding(
                "DataProtection:KeyRingKey is not set: the Data Protection key ring (which encrypts TOTP secrets) is encrypted " +
                "with a key derived from Jwt:RefreshSigningKey, so rotating that key would make every second factor " +
                "unreadable. Set DataProtection:KeyRingKey (environment variable DataProtection__KeyRingKey) to a secret " +
                "of its own: openssl rand -base64 32.", Fatal: false)
            : null;

    /// <summary>Outside Development, listening on plain HTTP alone is fine only behind a proxy that terminates TLS.</summary>
    public static SelfCheckFinding? PlainHttpOnly(IReadOnlyCollection<string> addresses) =>
        addresses.Count > 0 && !addresses.Any(a => a.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            ? new SelfCheckFinding(
                $"No HTTPS endpoint (listening on {string.Join(", ", addresses)}). Passwords and tokens must never cross a " +
                "network in clear: put a TLS-terminating proxy in front, or listen on an https:// URL.", Fatal: false)
            : null;
}

/// <summary>Runs <see cref="SelfCheck"/> before the service takes requests (and the HTTPS check once it listens).</summary>
internal sealed partial class StartupSelfCheck(
    IHostEnvironment env, SigningKeys keys, RefreshKey refreshKey, KeyRingKeys keyRing, IOptionsMonitor<JwtBearerOptions> bearer, IOptions<PublicOriginOptions> origin,
    IServer server, IHostApplicationLifetime lifetime, ILogger<StartupSelfCheck> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var findings = SelfCheck.GuessableSecrets(
                keys.Validating.Select(k => ("The HS256 access-token key", k)).Append(("Jwt:RefreshSigningKey", refreshKey.Key)))
            .Append(SelfCheck.MixedIdentityModelVersions(SelfCheck.LoadedIdentityModelAssemblies()))
            .Append(SelfCheck.InboundClaimMapping(bearer.Get(JwtBearerDefaults.AuthenticationScheme)))
            .Append(env.IsDevelopment() ? null : SelfCheck.PublicOriginNotConfigured(origin.Value))
            .Append(env.IsDevelopment() ? null : SelfCheck.KeyRingKeyDerived(keyRing))
            .OfType<SelfCheckFinding>()
            .ToList();
        var fatal = findings.Where(f => f.Fatal).ToList();
        if (fatal.Count > 0 && !env.IsDevelopment())
        {
            throw new SelfCheckFailedException("Start-up self-check failed: " + string.Join(" ", fatal.Select(f => f.Message)));
        }
        foreach (var finding in findings)
        {
            LogFinding(finding.Message);
        }
        if (!env.IsDevelopment())
        {
            lifetime.ApplicationStarted.Register(() =>
            {
                var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
                if (SelfCheck.PlainHttpOnly(addresses.ToList()) is { } finding)
                {
                    LogFinding(finding.Message);
                }
            });
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "Self-check: {Finding}")]
    private partial void LogFinding(string finding);
}
