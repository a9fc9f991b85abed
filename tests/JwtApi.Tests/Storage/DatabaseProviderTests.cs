using System.Net;
using System.Net.Http.Json;
using JwtApi.Storage;
using JwtApi.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace JwtApi.Tests.Storage;

/// <summary>Database:Provider and the connection string: checked at start, and old SQLite databases still open.</summary>
public sealed class DatabaseProviderTests
{
    private static JwtApiFactory Factory(params (string Key, string? Value)[] settings)
    {
        var factory = new JwtApiFactory();
        foreach (var (key, value) in settings)
        {
            factory.Settings[key] = value;
        }
        return factory;
    }

    [Fact]
    public void RefusesToStartGivenUnknownProvider()
    {
        StartupFailure.Of(Factory(("Database:Provider", "MySql")))
            .Should().Contain("Database:Provider is 'MySql'").And.Contain("Sqlite").And.Contain("Postgres");
    }

    [Fact]
    public void RefusesToStartGivenPostgresWithoutConnectionString()
    {
        StartupFailure.Of(Factory(("Database:Provider", "Postgres"), ("ConnectionStrings:Users", null)))
            .Should().Contain("ConnectionStrings:Users is not set").And.Contain("ConnectionStrings__Users");
    }

    [Fact]
    public void RefusesToStartGivenPostgresWithSqliteConnectionString()
    {
        StartupFailure.Of(Factory(("Database:Provider", "postgres"), ("ConnectionStrings:Users", "Data Source=data/users.db")))
            .Should().Contain("ConnectionStrings:Users is not a PostgreSQL connection string");
    }

    [Fact]
    public void RefusesToStartGivenPostgresConnectionStringWithoutPostgresProvider()
    {
        StartupFailure.Of(Factory(("Database:Provider", null), ("ConnectionStrings:Users", "Host=db;Database=jwtapi;Password=secret-in-config")))
            .Should().Contain("is not a SQLite connection string").And.NotContain("secret-in-config");
    }

    [Fact]
    public void KeepsTheMigrationIdsThatExistingSqliteDatabasesRecorded()
    {
        // Databases made before PostgreSQL support list these ids in __EFMigrationsHistory. Renamed or
        // regenerated, they would be applied again at start-up and fail on tables that already exist.
        using var db = new SqliteAppDb(new DbContextOptionsBuilder<SqliteAppDb>().UseSqlite("Data Source=:memory:").Options);

        db.Database.GetMigrations().Take(2).Should().Equal("20261123101435_Initial", "20261123103525_Revocations");
    }

    [Fact]
    public async Task StartsOnSqliteDatabaseOfTheFirstReleaseAndKeepsItsUsers()
    {
        // SQLite in every run, PostgreSQL too: the file is what commit 76dc180 (before PostgreSQL support) made
        // at its first start, with one registration and one logout.
        using var storage = new TestStorage(sqlite: true);
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Storage", "Fixtures", "users-76dc180.db"), Path.Combine(storage.DataPath, "users.db"));
        using var app = new JwtApiFactory { Storage = storage };

        var login = await app.CreateClient().LoginAsync("OldAlice", "Alice-Passw0rd!long");

        login.Should().HaveStatusCode(HttpStatusCode.OK);
        using var admin = await app.ClientForAsync(new TestUser(Guid.Empty, "root", "Adm1n-Passw0rd!x"));
        var users = await admin.GetFromJsonAsync<System.Text.Json.JsonElement>("/users", JwtApiFactory.Json);
        users.GetProperty("items").EnumerateArray().Select(u => u.GetProperty("username").GetString())
            .Should().Equal("OldAlice", "root");
        using var scope = app.Services.CreateScope();
        (await scope.ServiceProvider.GetRequiredService<AppDb>().Database.GetPendingMigrationsAsync()).Should().BeEmpty();
    }
}
