using System.Net.Http.Headers;
using System.Text;
using JwtApi.Auth;
using JwtApi.Hosting;
using JwtApi.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace JwtApi.Clients;

/// <summary>
/// The outcome of client authentication: the client; or, when credentials were presented, a refusal
/// (<see cref="Client"/> null), or a wait (<see cref="RetryAfter"/>); or nothing presented at all.
/// </summary>
public sealed record ClientAuthResult(Client? Client, bool Presented, TimeSpan? RetryAfter = null, bool TwoMethods = false)
{
    public static readonly ClientAuthResult None = new(null, Presented: false);
}

/// <summary>
/// Authenticates a registered client at the token, revocation and introspection endpoints (RFC 6749 §2.3.1):
/// <c>client_secret_basic</c> (HTTP Basic with the form-encoded id and secret) or <c>client_secret_post</c>
/// (<c>client_id</c> and <c>client_secret</c> in the form), never both at once. Wrong secrets are limited like
/// wrong passwords (per client from one address, and per client), counted in the database before the secret is
/// checked; unknown, disabled and wrong all get one answer.
/// </summary>
public sealed class ClientAuthentication(
    AppDb db, LoginThrottle throttle, IOptions<RateLimitOptions> limits, TimeProvider time, AuditLog audit)
{
    public const string BasicMethod = "client_secret_basic";
    public const string PostMethod = "client_secret_post";

    // Checked against when the client does not exist, so an unknown id costs what a wrong secret costs.
    private static readonly string DummyHash = ClientSecrets.Hash(ClientSecrets.Generate());

    public async Task<ClientAuthResult> AuthenticateAsync(HttpRequest request, IFormCollection form, CancellationToken ct)
    {
        var basic = FromBasicHeader(request);
        var postSecret = form.Parameter("client_secret");
        if (basic is not null && postSecret is not null)
        {
            return new ClientAuthResult(null, Presented: true, TwoMethods: true);
        }
        var (id, secret) = basic ?? (form.Parameter("client_id"), postSecret);
        if (string.IsNullOrEmpty(id) || secret is null)
        {
            // Swagger UI's password flow sends 'Basic Og==' (no id, no secret): a public client, not a registered one
            return ClientAuthResult.None;
        }

        var (permits, wait) = await throttle.TryTakeAllAsync(ThrottleKeys(id, request), ct);
        if (permits is null)
        {
            audit.ClientAuthenticationFailed(id, Reasons.Throttled);
            return new ClientAuthResult(null, Presented: true, RetryAfter: wait);
        }
        var client = IsPlausibleId(id) ? await db.Clients.FirstOrDefaultAsync(c => c.Id == id, ct) : null;
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var matches = ClientSecrets.Verify(secret, client?.SecretHash ?? DummyHash) ||
                      (client?.PreviousSecretHash is { } previous && client.PreviousSecretValidUntil > now && ClientSecrets.Verify(secret, previous));
        if (client is null || !matches || client.Disabled)
        {
            audit.ClientAuthenticationFailed(id, client is null ? Reasons.UnknownClient : !matches ? Reasons.WrongSecret : Reasons.ClientDisabled);
            return new ClientAuthResult(null, Presented: true);
        }
        await throttle.GiveBackAsync(permits);
        return new ClientAuthResult(client, Presented: true);
    }

    /// <summary>Ids JwtApi hands out: <c>jc_</c> and 22 base64url characters. Anything else is not looked up or counted.</summary>
    public static bool IsPlausibleId(string id) =>
        id.Length == 25 && id.StartsWith("jc_", StringComparison.Ordinal) &&
        id.AsSpan(3).IndexOfAnyExcept("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") < 0;

    private IEnumerable<(string Key, WindowLimit Limit)> ThrottleKeys(string id, HttpRequest request)
    {
        if (!IsPlausibleId(id))
        {
            yield break;   // junk ids leave no rows; they can never match
        }
        yield return ($"client-address:{id}@{RateLimits.ClientPartition(request.HttpContext.Connection.RemoteIpAddress)}", limits.Value.PerUsernameAndAddress);
        yield return ($"client:{id}", limits.Value.PerUsername);
    }

    /// <summary>RFC 6749 §2.3.1: Basic with the id and the secret each form-encoded, then joined by ':'.</summary>
    private static (string? Id, string? Secret)? FromBasicHeader(HttpRequest request)
    {
        if (!AuthenticationHeaderValue.TryParse(request.Headers.Authorization, out var header) ||
            !header.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase) || header.Parameter is null)
        {
            return null;
        }
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
        }
        catch (FormatException)
        {
            return (null, null);
        }
        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return (null, null);
        }
        var id = FormDecode(decoded[..colon]);
        var secret = FormDecode(decoded[(colon + 1)..]);
        return id.Length == 0 && secret.Length == 0 ? null : (id, secret);
    }

    private static string FormDecode(string value) => Uri.UnescapeDataString(value.Replace('+', ' '));
}
