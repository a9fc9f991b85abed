namespace JwtApi.Mfa;

/// <summary>
/// A user's authenticator app (RFC 6238 TOTP): the shared secret, encrypted with Data Protection, whether the user
/// has confirmed it with a first code, and the last time step a code was accepted for (a code is good once).
/// One per user; none means the second factor is off.
/// </summary>
public sealed class TotpAuthenticator
{
    public Guid UserId { get; init; }

    /// <summary>The secret as <c>Totp</c> protected it: a database dump alone does not give it.</summary>
    public required string ProtectedSecret { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Null while the enrolment waits for its first code; then the second factor is on.</summary>
    public DateTimeOffset? ConfirmedAt { get; set; }

    /// <summary>The Unix time step (30 s) of the last code accepted; only a later step's code is accepted next.</summary>
    public long LastUsedStep { get; set; }
}

/// <summary>A single-use recovery code, stored only as a salted hash; using it deletes the row.</summary>
public sealed class RecoveryCode
{
    public Guid Id { get; init; } = Guid.CreateVersion7();

    public Guid UserId { get; init; }

    public required string Hash { get; init; }
}
