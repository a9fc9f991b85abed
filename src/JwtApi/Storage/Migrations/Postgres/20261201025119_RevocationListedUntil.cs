using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace JwtApi.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class RevocationListedUntil : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "ListedUntil",
                table: "revocations",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            // Rows from before: an access token or user revocation is listed for as long as it is kept; a family
            // for as long as an access token issued before its logout can live at the largest settings (1 h
            // lifetime, 5 min skew: TokenRevoker lists it until revoked + skew + lifetime + skew + 2 skew + 1 min
            // for a refresh in flight), never past the row's own expiry. Plain SQL that SQLite and PostgreSQL
            // read alike.
            migrationBuilder.Sql(
                """
                UPDATE revocations SET "ListedUntil" = CASE
                    WHEN "Kind" = 2 AND "RevokedAt" + 4860 < "ExpiresAt" THEN "RevokedAt" + 4860
                    ELSE "ExpiresAt" END;
                """);

            migrationBuilder.CreateIndex(
                name: "IX_revocations_ListedUntil",
                table: "revocations",
                column: "ListedUntil");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_revocations_ListedUntil",
                table: "revocations");

            migrationBuilder.DropColumn(
                name: "ListedUntil",
                table: "revocations");
        }
    }
}
