using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace JwtApi.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class LoginThrottle : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "login_throttle",
                columns: table => new
                {
                    Key = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    WindowEnds = table.Column<long>(type: "INTEGER", nullable: false),
                    Count = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_login_throttle", x => x.Key);
                });

            migrationBuilder.CreateIndex(
                name: "IX_login_throttle_WindowEnds",
                table: "login_throttle",
                column: "WindowEnds");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "login_throttle");
        }
    }
}
