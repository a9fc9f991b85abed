using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace JwtApi.Storage;

/// <summary>
/// The locks that make several instances on one database take turns, one place for the provider-specific SQL.
/// On SQLite the file's own write lock serves: a transaction EF Core begins is <c>BEGIN IMMEDIATE</c>
/// (Microsoft.Data.Sqlite's default), which holds it across processes too. On PostgreSQL, advisory locks.
/// </summary>
public static class DatabaseLocks
{
    // Any fixed numbers, the locks' names among PostgreSQL advisory locks ("JwtApi" in ASCII, then + 1).
    private const long AccountWritesKey = 0x4A77744170691;
    private const long MigrationsKey = AccountWritesKey + 1;

    /// <summary>
    /// Inside a transaction: account writes one at a time until it ends, so a check of the caller (or of the
    /// admins left) and the write it allows cannot be separated by another instance's write.
    /// </summary>
    public static Task AccountWritesAsync(AppDb db, CancellationToken ct) =>
        db is PostgresAppDb
            ? db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({AccountWritesKey})", ct)
            : Task.CompletedTask;

    /// <summary>
    /// Migrations one instance at a time, held on a connection of its own until disposed. EF Core's own lock on
    /// PostgreSQL lasts one migration's transaction: two instances starting together on an empty database both
    /// applied the second migration (relation "login_throttle" already exists), so the whole run is wrapped.
    /// </summary>
    public static async Task<IAsyncDisposable> MigrationsAsync(AppDb db, CancellationToken ct)
    {
        if (db is not PostgresAppDb)
        {
            return NoLock.Instance;
        }
        var connection = new NpgsqlConnection(db.Database.GetConnectionString());
        try
        {
            await connection.OpenAsync(ct);
            await using var command = new NpgsqlCommand($"SELECT pg_advisory_lock({MigrationsKey})", connection);
            await command.ExecuteNonQueryAsync(ct);
            return new SessionLock(connection);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private sealed class SessionLock(NpgsqlConnection connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await using var command = new NpgsqlCommand($"SELECT pg_advisory_unlock({MigrationsKey})", connection);
                await command.ExecuteNonQueryAsync();
            }
            finally
            {
                // closing the session releases the lock in any case
                await connection.DisposeAsync();
            }
        }
    }

    private sealed class NoLock : IAsyncDisposable
    {
        public static readonly NoLock Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
