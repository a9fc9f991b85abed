// A second service that trusts JwtApi's tokens knowing only its metadata address and the audience: stock
// JwtBearer fetches the discovery document and the key set, and refetches them when it meets a new kid.
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;

var builder = WebApplication.CreateBuilder(args);
var jwtApi = builder.Configuration.GetSection("JwtApi");

builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(options =>
{
    options.MetadataAddress = jwtApi["MetadataAddress"] ?? throw new InvalidOperationException(
        "Set JwtApi:MetadataAddress to JwtApi's /.well-known/openid-configuration URL.");
    options.Audience = jwtApi["Audience"] ?? throw new InvalidOperationException("Set JwtApi:Audience.");
    // only for a JwtApi on plain HTTP on loopback (tests, a laptop); never in production
    options.RequireHttpsMetadata = jwtApi.GetValue("RequireHttpsMetadata", true);
    options.MapInboundClaims = false;
    options.TokenValidationParameters.NameClaimType = "name";
    options.TokenValidationParameters.RoleClaimType = "role";
    // asymmetric algorithms only: a published public key can never be taken for an HMAC secret
    options.TokenValidationParameters.ValidAlgorithms = ["RS256", "ES256"];
    options.TokenValidationParameters.ValidTypes = ["at+jwt", "application/at+jwt"];
    options.TokenValidationParameters.ClockSkew = TimeSpan.FromSeconds(30);
});
builder.Services.AddAuthorizationBuilder().AddPolicy("admin", policy => policy.RequireRole("admin"));

var app = builder.Build();
app.UseAuthentication();
app.UseAuthorization();

app.MapGet("/whoami", (ClaimsPrincipal user) => new { name = user.Identity?.Name, roles = user.FindAll("role").Select(c => c.Value) })
    .RequireAuthorization();
app.MapGet("/reports", (ClaimsPrincipal user) => new { report = "quarterly", for_user = user.Identity?.Name })
    .RequireAuthorization("admin");
app.Run();

namespace JwtApi.ResourceSample
{
    /// <summary>Names this assembly for WebApplicationFactory (the test project also references JwtApi's Program).</summary>
    public sealed class SampleMarker;
}
