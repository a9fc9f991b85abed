using JwtApi.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace JwtApi.Storage;

/// <summary><see cref="AppDb"/> on PostgreSQL, with the migrations in Storage/Migrations/Postgres.</summary>
public sealed class PostgresAppDb(DbContextOptions<PostgresAppDb> options) : AppDb(options)
{
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        // Byte order, as SQLite compares: GET /users pages in the same order on both, whatever locale the
        // database was created with (a linguistic collation would also slow the unique index down).
        modelBuilder.Entity<User>().Property(u => u.NormalizedUsername).UseCollation("C");
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Npgsql writes timestamptz only from an offset of zero and throws for any other: normalise on the
        // way in, so a DateTimeOffset from anywhere but TimeProvider.GetUtcNow() cannot turn a write into a 500.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UtcDateTimeOffsetConverter>();
    }

    private sealed class UtcDateTimeOffsetConverter() : ValueConverter<DateTimeOffset, DateTimeOffset>(
        value => value.ToUniversalTime(), value => value);
}

/// <summary>
/// For <c>dotnet ef</c>: adding a migration or checking for model changes opens no connection, so this
/// placeholder connection string never has to reach a server.
/// </summary>
internal sealed class PostgresAppDbDesignTimeFactory : IDesignTimeDbContextFactory<PostgresAppDb>
{
    public PostgresAppDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresAppDb>().UseNpgsql("Host=localhost;Database=jwtapi").Options);
}
