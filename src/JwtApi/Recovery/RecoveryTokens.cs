using System.Security.Cryptography;
using System.Text;
using JwtApi.Tokens;
using JwtApi.Users;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Recovery;

/// <summary>What a valid password-reset token says: whose password, and the account state it was issued against.</summary>
public sealed record ResetClaims(Guid UserId, string Fingerprint)
{
    /// <summary>
    /// Whether the token still fits the account: the same password hash and address as when it was mailed. Once
    /// the password is reset (or changed, or the address changed) the fingerprint moves, so a token works once.
    /// </summary>
    public bool Fits(User user) => UserId == user.Id && !user.Disabled && CryptographicOperations.FixedTimeEquals(
        Encoding.ASCII.GetBytes(Fingerprint), Encoding.ASCII.GetBytes(RecoveryTokens.FingerprintOf(user)));
}

/// <summary>What a valid address-verification token says: whose address, and which one (normalized).</summary>
public sealed record VerificationClaims(Guid UserId, string NormalizedEmail)
{
    public bool Fits(User user) => UserId == user.Id && !user.Disabled && user.NormalizedEmail == NormalizedEmail;
}

/// <summary>
/// The password-reset and address-verification tokens: JWTs of their own types (<c>reset+jwt</c>,
/// <c>verify-email+jwt</c>) and audiences, signed with the internal <see cref="RefreshKey"/>, short-lived, and
/// never accepted anywhere else (DESIGN.md "Tokens": state in a signed token where a table would only remember
/// what the token can carry). Single use without a table: a reset token carries a fingerprint of the password
/// hash and address it was issued against, a verification token the address it verifies.
/// </summary>
public sealed class RecoveryTokens(RefreshKey key, IOptions<JwtOptions> jwt, IOptions<RecoveryOptions> options, TimeProvider time)
{
    public const string ResetType = "reset+jwt";
    public const string VerificationType = "verify-email+jwt";

    /// <summary>A few hundred bytes; anything much longer is refused unread.</summary>
    public const int MaxTokenLength = 4096;

    private const string FingerprintClaim = "pwf";
    private const string EmailClaim = "email";

    public string ResetAudience => jwt.Value.Issuer + "/password-reset";

    public string VerificationAudience => jwt.Value.Issuer + "/email-verification";

    public TimeSpan ResetLifetime => options.Value.ResetTokenLifetime;

    public TimeSpan VerificationLifetime => options.Value.VerificationTokenLifetime;

    public string IssueReset(User user) => Issue(user, ResetAudience, ResetType, ResetLifetime, FingerprintClaim, FingerprintOf(user));

    /// <summary>A token for the user's current address.</summary>
    public string IssueVerification(User user) =>
        Issue(user, VerificationAudience, VerificationType, VerificationLifetime, EmailClaim,
            user.NormalizedEmail ?? throw new InvalidOperationException("The user has no email address to verify."));

    public async Task<ResetClaims?> ReadResetAsync(string? token) =>
        await ReadAsync(token, ResetAudience, ResetType, FingerprintClaim) is var (userId, fingerprint)
            ? new ResetClaims(userId, fingerprint)
            : null;

    public async Task<VerificationClaims?> ReadVerificationAsync(string? token) =>
        await ReadAsync(token, VerificationAudience, VerificationType, EmailClaim) is var (userId, email)
            ? new VerificationClaims(userId, email)
            : null;

    /// <summary>
    /// A digest of what a reset must not outlive: the password hash (which holds BCrypt's random salt, so the
    /// digest gives nothing to guess a password with) and the address the link went to. 128 bits, base64url.
    /// </summary>
    internal static string FingerprintOf(User user) =>
        Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes($"{user.PasswordHash}\n{user.NormalizedEmail}"))[..16]);

    private string Issue(User user, string audience, string type, TimeSpan lifetime, string claim, string value)
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(time.GetUtcNow().ToUnixTimeSeconds());
        return key.Sign(jwt.Value.Issuer, audience, type, now, now + lifetime, new Dictionary<string, object>
        {
            [JwtRegisteredClaimNames.Sub] = user.Id.ToString(),
            [JwtRegisteredClaimNames.Jti] = TokenIssuer.NewTokenId(),
            [claim] = value,
        });
    }

    private async Task<(Guid UserId, string Value)?> ReadAsync(string? token, string audience, string type, string claim)
    {
        var identity = await key.ReadUnexpiredAsync(token, MaxTokenLength, jwt.Value.Issuer, audience, type, time);
        return identity is not null &&
               Guid.TryParse(identity.FindFirst(JwtRegisteredClaimNames.Sub)?.Value, out var userId) &&
               identity.FindFirst(claim)?.Value is { Length: > 0 } value
            ? (userId, value)
            : null;
    }
}
