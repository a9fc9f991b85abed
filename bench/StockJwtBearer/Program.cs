using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;

// The stock JwtBearer service JwtApi is measured against (bench/load.sh): the same keys, issuer, audience and
// tokens, validated the way the ASP.NET Core templates and docs do it, with the tuning a careful team adds.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);

var jwt = builder.Configuration.GetSection("Jwt");
var algorithm = jwt["Algorithm"] ?? SecurityAlgorithms.HmacSha256;
SecurityKey key;
if (algorithm == SecurityAlgorithms.RsaSha256)
{
    var rsa = RSA.Create();
    rsa.ImportFromPem(File.ReadAllText(jwt["PrivateKeyPath"] ?? throw new InvalidOperationException("Set Jwt:PrivateKeyPath.")));
    key = new RsaSecurityKey(rsa.ExportParameters(includePrivateParameters: false));
}
else
{
    key = new SymmetricSecurityKey(Convert.FromBase64String(jwt["SigningKey"] ?? throw new InvalidOperationException("Set Jwt:SigningKey.")));
}
key.KeyId = jwt["KeyId"];   // the kid JwtApi's tokens carry

builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(options =>
{
    options.MapInboundClaims = false;   // JsonWebTokenHandler is the default handler since .NET 8
    options.TokenValidationParameters = new TokenValidationParameters
    {
        ValidIssuer = jwt["Issuer"] ?? "jwtapi",
        ValidAudience = jwt["Audience"] ?? "jwtapi",
        IssuerSigningKey = key,
        ValidAlgorithms = [algorithm],
        ValidTypes = ["at+jwt"],
        ClockSkew = TimeSpan.FromSeconds(30),
        NameClaimType = "name",
        RoleClaimType = "role",
    };
});
builder.Services.AddAuthorization();
builder.Services.AddHealthChecks();
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower);

var app = builder.Build();
app.UseAuthentication();
app.UseAuthorization();
app.MapHealthChecks("/health/live");
app.MapGet("/me", (ClaimsPrincipal user) => new Me(
    user.FindFirstValue("sub"), user.Identity?.Name, [.. user.FindAll("role").Select(c => c.Value)],
    DateTimeOffset.FromUnixTimeSeconds(long.Parse(user.FindFirstValue("exp") ?? "0", System.Globalization.CultureInfo.InvariantCulture)),
    null, null)).RequireAuthorization();
app.Run();

/// <summary>JwtApi's GET /me body, with no address (the baseline has no accounts).</summary>
internal sealed record Me(
    string? Id, string? Username, IReadOnlyList<string> Roles, DateTimeOffset ExpiresAt, string? Email, bool? EmailVerified);
