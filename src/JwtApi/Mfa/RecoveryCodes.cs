using System.Security.Cryptography;
using JwtApi.Clients;
using JwtApi.Storage;
using Microsoft.EntityFrameworkCore;

namespace JwtApi.Mfa;

/// <summary>
/// Ten single-use codes for when the phone is lost: 80 random bits each, shown once, stored only as salted hashes
/// (the same rule as client secrets, <see cref="ClientSecrets"/>: a random secret this long cannot be found from its
/// hash, so a database dump, with the key ring or without, does not give them). Using one deletes it.
/// </summary>
public sealed class RecoveryCodes(AppDb db)
{
    public const int Count = 10;

    // RFC 4648 base32 without padding, lower case: no 0/O or 1/l to confuse when read off paper.
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";
    private const int Length = 16;   // 16 × 5 bits = 80 bits

    /// <summary>New codes for <paramref name="userId"/>, staged in the unit of work (the caller saves); the plain codes to show once.</summary>
    public IReadOnlyList<string> Replace(Guid userId, IEnumerable<RecoveryCode> old)
    {
        db.RecoveryCodes.RemoveRange(old);
        var codes = Enumerable.Range(0, Count).Select(_ => New()).ToList();
        db.RecoveryCodes.AddRange(codes.Select(c => new RecoveryCode { UserId = userId, Hash = ClientSecrets.Hash(Normalize(c)) }));
        return codes;
    }

    /// <summary>
    /// Uses <paramref name="code"/> when it is one of the user's: deletes it, once, even when two requests bring it
    /// at the same moment (only one delete finds the row).
    /// </summary>
    public async Task<bool> TryUseAsync(Guid userId, string code, CancellationToken ct)
    {
        var normalized = Normalize(code);
        if (normalized.Length != Length)
        {
            return false;
        }
        var stored = await db.RecoveryCodes.AsNoTracking().Where(r => r.UserId == userId).ToListAsync(ct);
        // every stored hash is compared (constant time each), so the time does not tell which one matched
        var match = stored.Aggregate((RecoveryCode?)null, (found, r) => ClientSecrets.Verify(normalized, r.Hash) ? r : found);
        return match is not null &&
               await db.RecoveryCodes.Where(r => r.Id == match.Id).ExecuteDeleteAsync(ct) == 1;
    }

    public Task<int> LeftAsync(Guid userId, CancellationToken ct) => db.RecoveryCodes.CountAsync(r => r.UserId == userId, ct);

    /// <summary>As printed: four groups of four (abcd-efgh-ijkl-mnop).</summary>
    private static string New()
    {
        var chars = RandomNumberGenerator.GetItems<char>(Alphabet, Length);
        return string.Join('-', Enumerable.Range(0, Length / 4).Select(i => new string(chars, i * 4, 4)));
    }

    /// <summary>Typed back any way: dashes, spaces and case do not matter.</summary>
    private static string Normalize(string code) =>
        code.Length > 64 ? "" : new string(code.Where(c => c is not ('-' or ' ')).Select(char.ToLowerInvariant).ToArray());
}
