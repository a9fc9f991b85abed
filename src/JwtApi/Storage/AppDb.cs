using JwtApi.Auth;
using JwtApi.Mfa;
using JwtApi.Tokens;
using JwtApi.Users;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace JwtApi.Storage;

/// <summary>
/// The context everything injects. Each provider has a subclass (<see cref="SqliteAppDb"/>,
/// <see cref="PostgresAppDb"/>) only so that each keeps its own migrations: SQL types differ between them.
/// </summary>
public abstract class AppDb : DbContext, IDataProtectionKeyContext
{
    protected AppDb(DbContextOptions options) : base(options)
    {
    }

    public DbSet<User> Users => Set<User>();

    public DbSet<Revocation> Revocations => Set<Revocation>();

    /// <summary>Registered clients (machine-to-machine, <see cref="Clients.Client"/>).</summary>
    public DbSet<JwtApi.Clients.Client> Clients => Set<JwtApi.Clients.Client>();

    /// <summary>Password-attempt windows (<see cref="Auth.LoginThrottle"/>), written only by its raw SQL upsert.</summary>
    public DbSet<ThrottleWindow> LoginThrottle => Set<ThrottleWindow>();

    /// <summary>Second factors: one authenticator app per user (<see cref="TotpAuthenticator"/>).</summary>
    public DbSet<TotpAuthenticator> TotpAuthenticators => Set<TotpAuthenticator>();

    /// <summary>Unused recovery codes, hashed.</summary>
    public DbSet<RecoveryCode> RecoveryCodes => Set<RecoveryCode>();

    /// <summary>
    /// The Data Protection key ring, shared by every instance (each key encrypted with the key-ring key from
    /// configuration, so a dump of this table alone opens nothing).
    /// </summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var user = modelBuilder.Entity<User>();
        user.ToTable("users");
        user.HasKey(u => u.Id);
        user.Property(u => u.Username).HasMaxLength(User.UsernameMaxLength);
        user.Property(u => u.NormalizedUsername).HasMaxLength(User.UsernameMaxLength);
        user.HasIndex(u => u.NormalizedUsername).IsUnique();
        user.Property(u => u.PasswordHash).HasMaxLength(100);
        user.Property(u => u.Email).HasMaxLength(EmailAddress.MaxLength);
        user.Property(u => u.NormalizedEmail).HasMaxLength(EmailAddress.MaxLength);
        // unique where set: several accounts may have none (NULLs are distinct on both databases)
        user.HasIndex(u => u.NormalizedEmail).IsUnique();
        // A JSON array column on SQLite; a native array on PostgreSQL.
        user.PrimitiveCollection(u => u.Roles);
        // Optimistic concurrency: two admins editing one user cannot silently undo each other's version bump.
        user.Property(u => u.TokenVersion).IsConcurrencyToken();

        var revocation = modelBuilder.Entity<Revocation>();
        revocation.ToTable("revocations");
        revocation.HasKey(r => r.Id);
        revocation.Property(r => r.Id).ValueGeneratedOnAdd();
        revocation.Property(r => r.Key).HasMaxLength(64);
        revocation.HasIndex(r => new { r.Kind, r.Key });
        revocation.HasIndex(r => r.ExpiresAt);   // pruning the table
        revocation.HasIndex(r => r.ListedUntil);   // loading the in-memory list: recent rows only

        var client = modelBuilder.Entity<JwtApi.Clients.Client>();
        client.ToTable("clients");
        client.HasKey(c => c.Id);
        client.Property(c => c.Id).HasMaxLength(32);
        client.Property(c => c.Name).HasMaxLength(JwtApi.Clients.Client.NameMaxLength);
        client.PrimitiveCollection(c => c.GrantTypes);
        client.PrimitiveCollection(c => c.Scopes);
        client.PrimitiveCollection(c => c.Audiences);
        client.Property(c => c.SecretHash).HasMaxLength(100);
        client.Property(c => c.PreviousSecretHash).HasMaxLength(100);
        client.Property(c => c.TokenVersion).IsConcurrencyToken();

        // Table and column names are spelled out in LoginThrottle's SQL: keep them in step.
        var throttle = modelBuilder.Entity<ThrottleWindow>();
        throttle.ToTable("login_throttle");
        throttle.HasKey(w => w.Key);
        throttle.Property(w => w.Key).HasMaxLength(ThrottleWindow.KeyMaxLength);
        throttle.HasIndex(w => w.WindowEnds);

        // Deleting a user deletes their second factor with them.
        var totp = modelBuilder.Entity<TotpAuthenticator>();
        totp.ToTable("totp_authenticators");
        totp.HasKey(a => a.UserId);
        totp.HasOne<User>().WithOne().HasForeignKey<TotpAuthenticator>(a => a.UserId).OnDelete(DeleteBehavior.Cascade);
        totp.Property(a => a.ProtectedSecret).HasMaxLength(512);

        var recovery = modelBuilder.Entity<RecoveryCode>();
        recovery.ToTable("recovery_codes");
        recovery.HasKey(r => r.Id);
        recovery.HasOne<User>().WithMany().HasForeignKey(r => r.UserId).OnDelete(DeleteBehavior.Cascade);
        recovery.HasIndex(r => r.UserId);
        recovery.Property(r => r.Hash).HasMaxLength(100);

        modelBuilder.Entity<DataProtectionKey>().ToTable("data_protection_keys");
    }
}
