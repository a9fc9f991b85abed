using System.Data.Common;
using System.Globalization;
using JwtApi.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace JwtApi.Tests.Support;

/// <summary>
/// Every row of every table of the service's database, one line per row with every column as stored: two
/// snapshots are equal only if no stored byte changed (password hashes and token versions included).
/// </summary>
public static class DatabaseSnapshot
{
    public static async Task<IReadOnlyList<string>> TakeAsync(IServiceProvider services)
    {
        using var scope = services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDb>();
        await db.Database.OpenConnectionAsync();
        try
        {
            var connection = db.Database.GetDbConnection();
            var rows = new List<string>();
            foreach (var table in await ReadAsync(connection, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"))
            {
                rows.AddRange((await ReadAsync(connection, $"SELECT * FROM \"{table}\" ORDER BY 1")).Select(row => $"{table}: {row}"));
            }
            return rows;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static async Task<List<string>> ReadAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetValue(i) switch
            {
                DBNull => "NULL",
                byte[] bytes => "0x" + Convert.ToHexString(bytes),
                IFormattable value => value.ToString(null, CultureInfo.InvariantCulture),
                var value => value.ToString(),
            })));
        }
        return rows;
    }
}
