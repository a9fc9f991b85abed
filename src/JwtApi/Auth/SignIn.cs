using JwtApi.Storage;
using JwtApi.Tokens;
using JwtApi.Users;
using Microsoft.EntityFrameworkCore;

namespace JwtApi.Auth;

/// <summary>
/// The two ways to get tokens, whatever the wire format: a username and password (<c>/login</c>, the
/// <c>password</c> grant of <c>/token</c>) and a refresh token (<c>/refresh</c>, the <c>refresh_token</c>
/// grant). Null means refused; callers answer every refusal alike.
/// </summary>
public sealed class SignIn(
    AppDb db, PasswordHasher hasher, RefreshTokens refreshTokens, TokenIssuer tokens, ILogger<SignIn> logger)
{
    /// <summary>A new login (token family), or null for an unknown user, a wrong password or a disabled account.</summary>
    public async Task<TokenPair?> WithPasswordAsync(string username, string password, CancellationToken ct)
    {
        var normalized = User.Normalize(username);
        var user = await db.Users.FirstOrDefaultAsync(u => u.NormalizedUsername == normalized, ct);

        // Unknown user, wrong password and disabled account: the same BCrypt work and the same answer, so
        // neither the body nor a stopwatch tells an attacker which accounts exist.
        var verified = hasher.Verify(password, user?.PasswordHash);
        if (!verified || user is null || user.Disabled)
        {
            return null;
        }
        if (hasher.NeedsRehash(user.PasswordHash))
        {
            // the work factor was raised since this hash was made: upgrade it while the password is at hand
            user.PasswordHash = hasher.Hash(password);
            await db.SaveChangesAsync(ct);
        }
        return tokens.StartFamily(user);
    }

    /// <summary>
    /// A new pair in the same family, or null. Which check failed is logged, never told to the caller: it
    /// would help an attacker, not a client.
    /// </summary>
    public async Task<TokenPair?> WithRefreshTokenAsync(string refreshToken, CancellationToken ct)
    {
        var claims = await refreshTokens.ReadAsync(refreshToken);
        if (claims is null)
        {
            logger.LogInformation("Refresh refused: not a valid, unexpired refresh token");
            return null;
        }
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == claims.UserId, ct);
        var refusal = user switch
        {
            null => "user deleted",
            { Disabled: true } => "user disabled",
            _ when user.TokenVersion != claims.Version => "token version changed",
            _ => null,
        };
        // The database, not the in-memory mirror: a logout on another instance counts at once here.
        if (refusal is null && await db.Revocations.AnyAsync(r => r.Kind == RevocationKind.Family && r.Key == claims.FamilyId, ct))
        {
            refusal = "login revoked";
        }
        if (refusal is not null)
        {
            logger.LogInformation("Refresh refused for user {UserId}: {Reason}", claims.UserId, refusal);
            return null;
        }
        // roles come from the database, so a role change reaches the next access token
        return tokens.IssuePair(user!, claims.FamilyId, claims.AuthTime);
    }
}
