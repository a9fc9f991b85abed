using JwtApi.Users;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace JwtApi.Storage;

public static class StorageSetup
{
    public const string ConnectionStringName = "Users";

    /// <summary>
    /// The one place that picks the database provider. The embedded default is a SQLite file in the data
    /// folder, so the service runs with nothing else installed.
    /// </summary>
    public static IHostApplicationBuilder AddStorage(this IHostApplicationBuilder builder)
    {
        var dataDirectory = DataDirectory.From(builder.Configuration, builder.Environment);
        builder.Services.AddSingleton(dataDirectory);

        var connectionString = SqliteConnectionString(
            builder.Configuration.GetConnectionString(ConnectionStringName), dataDirectory, builder.Environment);
        builder.Services.AddDbContext<AppDb>(options => options.UseSqlite(connectionString));

        builder.Services.AddHostedService<StorageInitializer>();
        builder.Services.AddHealthChecks().AddDbContextCheck<AppDb>("database");
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

/// <summary>Where the service keeps its files: the SQLite database and, in Development, generated keys.</summary>
public sealed record DataDirectory(string Path)
{
    public const string ConfigKey = "Storage:DataDirectory";

    public static DataDirectory From(IConfiguration configuration, IHostEnvironment env)
    {
        var path = System.IO.Path.GetFullPath(configuration[ConfigKey] is { Length: > 0 } p ? p : "data", env.ContentRootPath);
        Directory.CreateDirectory(path);
        return new DataDirectory(path);
    }
}

/// <summary>Applies migrations and creates the bootstrap admin before the server takes requests.</summary>
internal sealed class StorageInitializer(IServiceProvider services) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDb>();
        await db.Database.MigrateAsync(cancellationToken);
        await scope.ServiceProvider.GetRequiredService<AdminSeeder>().SeedAsync(db, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
