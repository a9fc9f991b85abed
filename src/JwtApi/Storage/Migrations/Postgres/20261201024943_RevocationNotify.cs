using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace JwtApi.Storage.Migrations.Postgres
{
    /// <summary>
    /// PostgreSQL tells every listening instance that revocations were added (Tokens/RevocationNotifications.cs):
    /// the database sends it, so every writer is covered (the service, the operator CLI, a hand-written INSERT), and
    /// only on commit, so a listener never reads before the row is visible. Once per statement, with no payload: the
    /// listener reads the rows itself, as its periodic round does. No model change; SQLite has no such thing.
    /// </summary>
    public partial class RevocationNotify : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // the channel name is RevocationNotifications.Channel; written out here, as a migration never changes
            migrationBuilder.Sql("""
                CREATE FUNCTION jwtapi_revocations_notify() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_notify('jwtapi_revocations', '');
                    RETURN NULL;
                END
                $$;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER revocations_notify AFTER INSERT ON revocations
                FOR EACH STATEMENT EXECUTE FUNCTION jwtapi_revocations_notify();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS revocations_notify ON revocations;");
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS jwtapi_revocations_notify();");
        }
    }
}
