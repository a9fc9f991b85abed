using System.Data.Common;
using System.Globalization;
using JwtApi.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace JwtApi.Tests.Support;

/// <summary>
/// Every row of every table of the service's database (SQLite or PostgreSQL), one line per row with every
/// column as stored: two snapshots are equal only if no stored byte changed (password hashes and token
/// versions included). Except the guessing throttle's counts (<c>login_throttle</c>): a wrong password is
/// rejected input that is meant to count, and those counts hold no account data.
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
            var tables = db.Database.IsNpgsql()
                ? "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
                : "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name";
            foreach (var table in (await ReadAsync(connection, tables)).Where(t => t != "login_throttle"))
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
            rows.Add(string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Select(i => Format(reader.GetValue(i)))));
        }
        return rows;
    }

    /// <summary>Every value in full: PostgreSQL also hands back times (to the microsecond) and arrays (the roles).</summary>
    private static string Format(object value) => value switch
    {
        DBNull => "NULL",
        byte[] bytes => "0x" + Convert.ToHexString(bytes),
        string text => text,
        DateTime time => time.ToString("O", CultureInfo.InvariantCulture),
        DateTimeOffset time => time.ToString("O", CultureInfo.InvariantCulture),
        System.Collections.IEnumerable items => "[" + string.Join(", ", items.Cast<object>().Select(Format)) + "]",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
