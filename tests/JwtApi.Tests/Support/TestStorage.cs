using JwtApi.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace JwtApi.Tests.Support;

/// <summary>
/// What one service instance keeps: a data folder and the database. On SQLite the database is a file in the
/// folder. With <c>JWTAPI_TEST_POSTGRES</c> set to an admin connection string (tests/postgres/start.sh prints
/// one), it is a PostgreSQL database of its own, created on first use and dropped on dispose. Instances given
/// the same storage share both, as a restarted instance or a second one behind a load balancer does.
/// </summary>
public sealed class TestStorage : IDisposable
{
    public const string PostgresVariable = "JWTAPI_TEST_POSTGRES";

    /// <summary>The PostgreSQL server the suite runs against, or null for SQLite.</summary>
    public static string? PostgresAdmin { get; } =
        Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } admin ? admin : null;

    private readonly Lock _lock = new();
    private readonly string? _database;
    private bool _created;

    /// <param name="sqlite">SQLite whatever the run: for what only SQLite has (a database file); say why at the call.</param>
    public TestStorage(bool sqlite = false)
    {
        DataPath = Directory.CreateTempSubdirectory("jwtapi-test-").FullName;
        _database = PostgresAdmin is null || sqlite ? null : $"jwtapi_test_{Guid.NewGuid():N}";
    }

    public string DataPath { get; }

    public bool IsPostgres => _database is not null;

    public string ConnectionString => _database is null
        ? $"Data Source={Path.Combine(DataPath, "users.db")}"
        : new NpgsqlConnectionStringBuilder(PostgresAdmin) { Database = _database }.ConnectionString;

    /// <summary>The settings that point the service here; the PostgreSQL database is created on the first call.</summary>
    public Dictionary<string, string?> Settings()
    {
        if (_database is not null)
        {
            lock (_lock)
            {
                if (!_created)
                {
                    Admin($"CREATE DATABASE \"{_database}\"");
                    _created = true;
                }
            }
        }
        return new()
        {
            [DataDirectory.ConfigKey] = DataPath,
            ["Database:Provider"] = IsPostgres ? nameof(DatabaseProvider.Postgres) : nameof(DatabaseProvider.Sqlite),
            [$"ConnectionStrings:{StorageSetup.ConnectionStringName}"] = ConnectionString,
        };
    }

    /// <summary>Takes the database away from under a running service: the folder (and so the SQLite file) or the PostgreSQL database.</summary>
    public void MakeUnreachable()
    {
        if (_database is null)
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(DataPath, recursive: true);
        }
        else
        {
            Drop();
        }
    }

    public void Dispose()
    {
        if (_database is null)
        {
            SqliteConnection.ClearAllPools();
        }
        else
        {
            Drop();
        }
        try { Directory.Delete(DataPath, recursive: true); } catch (IOException) { }
    }

    private void Drop()
    {
        lock (_lock)
        {
            if (_created)
            {
                using (var connection = new NpgsqlConnection(ConnectionString))
                {
                    NpgsqlConnection.ClearPool(connection);
                }
                // FORCE: a service instance a test left running must not keep the database alive
                Admin($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)");
                _created = false;
            }
        }
    }

    private static void Admin(string sql)
    {
        using var connection = new NpgsqlConnection(PostgresAdmin);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}
