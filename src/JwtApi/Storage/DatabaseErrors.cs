using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace JwtApi.Storage;

/// <summary>
/// Recognises a failed write by the provider's error code, never by its message (messages change between
/// versions and are translated). Conflicts EF Core detects itself (a concurrency token that no longer
/// matches) arrive as <see cref="DbUpdateConcurrencyException"/> on every provider and need nothing here.
/// </summary>
public static class DatabaseErrors
{
    /// <summary>A unique index (or primary key) refused the row: another writer got there first.</summary>
    public static bool IsUniqueViolation(DbUpdateException exception) => exception.InnerException switch
    {
        SqliteException sqlite => sqlite.SqliteExtendedErrorCode is SQLitePCL.raw.SQLITE_CONSTRAINT_UNIQUE or SQLitePCL.raw.SQLITE_CONSTRAINT_PRIMARYKEY,
        PostgresException postgres => postgres.SqlState == PostgresErrorCodes.UniqueViolation,
        _ => false,
    };

    /// <summary>
    /// The database cannot serve right now (unreachable, shutting down, too many connections, busy): the
    /// provider marks such errors transient (Npgsql: connection failures, shutdown, too many connections). A client should retry later; it is not a bug in the request or here.
    /// </summary>
    public static bool IsUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            // Microsoft.Data.Sqlite is built for netstandard2.0 and never sets IsTransient: busy and locked are its transients
            if (e is System.Data.Common.DbException { IsTransient: true } or
                SqliteException { SqliteErrorCode: SQLitePCL.raw.SQLITE_BUSY or SQLitePCL.raw.SQLITE_LOCKED })
            {
                return true;
            }
        }
        return false;
    }
}
