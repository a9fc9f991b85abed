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
    /// A transaction holding the account-write turn (<see cref="AccountWritesAsync"/>): for a write with no caller
    /// to re-read (a reset link, the operator CLI). Commit it, then tell the revoker (<c>TokenRevoker.Committed</c>).
    /// </summary>
    public static async Task<Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction> BeginAccountWriteAsync(AppDb db, CancellationToken ct)
    {
        var transaction = await db.Database.BeginTransactionAsync(ct);
        try
        {
            await AccountWritesAsync(db, ct);
            return transaction;
        }
        catch
        {
            await transaction.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The start-up turn (migrations, the first admin, the key ring's first key), one instance at a time, held
    /// until disposed. EF Core's own lock on PostgreSQL lasts one migration's transaction: two instances starting
    /// together on an empty database both applied the second migration (relation "login_throttle" already exists),
    /// so the whole run is wrapped, in a session lock on a connection of its own. On SQLite, processes sharing the
    /// database file take turns on a lock file beside it.
    /// </summary>
    public static async Task<IAsyncDisposable> MigrationsAsync(AppDb db, CancellationToken ct)
    {
        if (db is not PostgresAppDb)
        {
            return await FileLock.AcquireAsync(db.Database.GetConnectionString(), ct);
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

    /// <summary>
    /// <c>&lt;database file&gt;.startup-lock</c> opened without sharing (an exclusive <c>flock</c> on Linux, the
    /// same across processes and within one); released on dispose, or by the system if the process dies.
    /// </summary>
    private sealed class FileLock(FileStream file) : IAsyncDisposable
    {
        private static readonly TimeSpan Retry = TimeSpan.FromMilliseconds(50);

        public static async Task<IAsyncDisposable> AcquireAsync(string? connectionString, CancellationToken ct)
        {
            var source = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(connectionString).DataSource;
            if (string.IsNullOrEmpty(source) || source == ":memory:")
            {
                return NoLock.Instance;
            }
            while (true)
            {
                try
                {
                    return new FileLock(new FileStream(source + ".startup-lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
                }
                catch (IOException e) when (IsHeldByAnother(e))
                {
                    // another process (or instance) has its turn; it is short: migrations and a few rows
                    await Task.Delay(Retry, ct);
                }
            }
        }

        public ValueTask DisposeAsync() => file.DisposeAsync();

        // EWOULDBLOCK (Linux 11, macOS 35) from flock, or Windows' sharing violation; any other error (a missing
        // folder, a read-only disk) is thrown, not waited on
        private static bool IsHeldByAnother(IOException e) =>
            e.GetType() == typeof(IOException) && (e.HResult is 11 or 35 || (e.HResult & 0xFFFF) == 32);
    }
}
