using JwtApi.Hosting;
using JwtApi.Users;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace JwtApi.Storage;

public static class StorageSetup
{
    public const string ConnectionStringName = "Users";

    /// <summary>
    /// The database (<see cref="AddDatabase"/>), migrated before the server starts, its health check, and the Data
    /// Protection key ring kept in it.
    /// </summary>
    public static IHostApplicationBuilder AddStorage(this IHostApplicationBuilder builder)
    {
        builder.AddDatabase();
        builder.Services.AddHostedService(services => services.GetRequiredService<StorageInitializer>());
        // /health/ready: an instance that cannot reach the database should get no traffic from a load balancer
        builder.Services.AddHealthChecks().AddDbContextCheck<AppDb>("database", tags: [HostingSetup.ReadyTag]);
        // after the initializer: Data Protection's own hosted service reads the key ring at start, from a migrated database
        builder.AddKeyRing();
        return builder;
    }

    /// <summary>
    /// The one place that picks the database provider (<c>Database:Provider</c>). The embedded default is a
    /// SQLite file in the data folder, so the service runs with nothing else installed; PostgreSQL lets several
    /// instances share one database. With <see cref="StorageInitializer"/>, which the host runs (or, the operator
    /// CLI, calls) before anything reads the database. No key ring: the CLI, which takes only this, makes no key.
    /// </summary>
    public static IHostApplicationBuilder AddDatabase(this IHostApplicationBuilder builder)
    {
        var dataDirectory = DataDirectory.From(builder.Configuration, builder.Environment);
        builder.Services.AddSingleton(dataDirectory);

        builder.Services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section)
            .Configure<IConfiguration>((options, configuration) =>
                options.ConnectionString = configuration.GetConnectionString(ConnectionStringName))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>();

        // The provider decides which context type is registered, so it is read here; the options are read
        // (and so validated) only when a context is first made, after the start-up check has reported a bad
        // provider or a missing connection string. Context options are built once (singleton), not per request.
        var provider = DatabaseOptions.ParseProvider(builder.Configuration[$"{DatabaseOptions.Section}:Provider"]);
        if (provider == DatabaseProvider.Postgres)
        {
            builder.Services.AddDbContext<AppDb, PostgresAppDb>((services, options) =>
                options.UseNpgsql(services.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString),
                optionsLifetime: ServiceLifetime.Singleton);
        }
        else
        {
            builder.Services.AddDbContext<AppDb, SqliteAppDb>((services, options) => options.UseSqlite(SqliteConnectionString(
                services.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString, dataDirectory, builder.Environment)),
                optionsLifetime: ServiceLifetime.Singleton);
        }

        builder.Services.AddSingleton<StorageInitializer>();
        return builder;
    }

    /// <summary>A relative file name is taken from the content root, not from whatever the working folder is.</summary>
    internal static string SqliteConnectionString(string? configured, DataDirectory data, IHostEnvironment env)
    {
        var csb = new SqliteConnectionStringBuilder(
            string.IsNullOrWhiteSpace(configured) ? $"Data Source={Path.Combine(data.Path, "users.db")}" : configured);
        if (csb.DataSource is not (":memory:" or "") && csb.Mode != SqliteOpenMode.Memory)
        {
            csb.DataSource = Path.GetFullPath(csb.DataSource, env.ContentRootPath);
            Directory.CreateDirectory(Path.GetDirectoryName(csb.DataSource)!);
        }
        return csb.ToString();
    }
}

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>Which database the users and revocations live in (<c>Database</c>, and <c>ConnectionStrings:Users</c>).</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary><c>Sqlite</c> (the default) or <c>Postgres</c>, in any letter case.</summary>
    public string? Provider { get; init; }

    /// <summary>From <c>ConnectionStrings:Users</c>: optional for SQLite (a file in the data folder), required for PostgreSQL.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The provider named, SQLite when none is; null for a name that is neither.</summary>
    public static DatabaseProvider? ParseProvider(string? name) => name switch
    {
        null or "" => DatabaseProvider.Sqlite,
        _ when name.Equals(nameof(DatabaseProvider.Sqlite), StringComparison.OrdinalIgnoreCase) => DatabaseProvider.Sqlite,
        _ when name.Equals(nameof(DatabaseProvider.Postgres), StringComparison.OrdinalIgnoreCase) => DatabaseProvider.Postgres,
        _ => null,
    };
}

/// <summary>A provider that does not exist, or PostgreSQL with nowhere to connect to, stops start-up saying what to set.</summary>
internal sealed class DatabaseOptionsValidator : IValidateOptions<DatabaseOptions>
{
    private const string Key = $"ConnectionStrings:{StorageSetup.ConnectionStringName}";

    public ValidateOptionsResult Validate(string? name, DatabaseOptions options)
    {
        switch (DatabaseOptions.ParseProvider(options.Provider))
        {
            case null:
                return ValidateOptionsResult.Fail(
                    $"Database:Provider is '{options.Provider}': use Sqlite (the default, a file in the data folder) or " +
                    $"Postgres (with {Key} set to a PostgreSQL connection string).");
            case DatabaseProvider.Postgres when string.IsNullOrWhiteSpace(options.ConnectionString):
                return ValidateOptionsResult.Fail(
                    $"Database:Provider is Postgres but {Key} is not set: set it (environment variable " +
                    $"ConnectionStrings__{StorageSetup.ConnectionStringName}) to a PostgreSQL connection string such as " +
                    "'Host=db.example.com;Database=jwtapi;Username=jwtapi;Password=...'.");
            case DatabaseProvider.Postgres when !Parses(() => new NpgsqlConnectionStringBuilder(options.ConnectionString)):
                return ValidateOptionsResult.Fail(
                    $"Database:Provider is Postgres but {Key} is not a PostgreSQL connection string (still the SQLite " +
                    "'Data Source=...'?): use the form 'Host=db.example.com;Database=jwtapi;Username=jwtapi;Password=...'.");
            case DatabaseProvider.Sqlite when !Parses(() => new SqliteConnectionStringBuilder(options.ConnectionString)):
                return ValidateOptionsResult.Fail(
                    $"{Key} is not a SQLite connection string (Database:Provider is Sqlite, the default): use the form " +
                    "'Data Source=data/users.db', or set Database:Provider to Postgres for a PostgreSQL connection string.");
            default:
                return ValidateOptionsResult.Success;
        }
    }

    // The parser's own message is not shown: it may quote the string, password included.
    private static bool Parses(Action parse)
    {
        try
        {
            parse();
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}

/// <summary>Where the service keeps its files: the SQLite database and, in Development, generated keys.</summary>
public sealed record DataDirectory(string Path)
{
    public const string ConfigKey = "Storage:DataDirectory";
    public const string DefaultPath = "data";

    public static DataDirectory From(IConfiguration configuration, IHostEnvironment env)
    {
        var path = System.IO.Path.GetFullPath(configuration[ConfigKey] is { Length: > 0 } p ? p : DefaultPath, env.ContentRootPath);
        Directory.CreateDirectory(path);
        return new DataDirectory(path);
    }
}

/// <summary>
/// Applies migrations and creates the bootstrap admin before the server takes requests. Instances starting
/// together on one PostgreSQL database take turns (<see cref="DatabaseLocks.MigrationsAsync"/>). Whatever
/// reads the database at start-up (the revocation list) awaits <see cref="ReadyAsync"/> first, so it never
/// depends on the order in which hosted services happen to be registered.
/// </summary>
public sealed class StorageInitializer(IServiceProvider services) : IHostedService
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _ready;

    /// <summary>Migrates and seeds once per process; later calls return at once.</summary>
    public async Task ReadyAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (_ready)
            {
                return;
            }
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDb>();
            await using var turn = await DatabaseLocks.MigrationsAsync(db, ct);
            await db.Database.MigrateAsync(ct);
            await scope.ServiceProvider.GetRequiredService<AdminSeeder>().SeedAsync(db, ct);
            // Only where the key ring is registered (AddStorage). Not in the operator CLI (AddDatabase alone): it reads no
            // secret, and with another DataProtection:KeyRingKey in its environment it would make a first key the
            // service could not open.
            if (scope.ServiceProvider.GetService<KeyRingKeys>() is not null)
            {
                KeyRingSetup.EnsureFirstKey(scope.ServiceProvider);
            }
            _ready = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => ReadyAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
