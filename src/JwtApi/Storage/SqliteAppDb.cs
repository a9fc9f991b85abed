using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace JwtApi.Storage;

/// <summary>
/// <see cref="AppDb"/> on SQLite, with the migrations in Storage/Migrations/Sqlite. Those kept the ids they had
/// when AppDb was the only context, so databases created before PostgreSQL support upgrade in place.
/// </summary>
public sealed class SqliteAppDb(DbContextOptions<SqliteAppDb> options) : AppDb(options);

/// <summary>
/// For <c>dotnet ef</c>, which then needs no configuration: adding a migration or checking for model changes
/// opens no file, and <c>database update</c> upgrades the Development database (data/ under the project).
/// </summary>
internal sealed class SqliteAppDbDesignTimeFactory : IDesignTimeDbContextFactory<SqliteAppDb>
{
    public SqliteAppDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteAppDb>().UseSqlite("Data Source=data/users.db").Options);
}
