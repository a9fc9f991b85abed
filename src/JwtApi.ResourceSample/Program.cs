// A second service that trusts JwtApi's tokens knowing only its metadata address and the audiences: stock
// JwtBearer fetches the discovery document and the key set, and refetches them when it meets a new kid. It takes
// users' tokens (aud: JwtApi's audience, roles) and registered clients' tokens (aud: this service's own name,
// scopes), and authorizes the first by role and the second by scope.
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;

var builder = WebApplication.CreateBuilder(args);
var jwtApi = builder.Configuration.GetSection("JwtApi");

builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(options =>
{
    options.MetadataAddress = jwtApi["MetadataAddress"] ?? throw new InvalidOperationException(
        "Set JwtApi:MetadataAddress to JwtApi's /.well-known/openid-configuration URL.");
    // users' tokens carry JwtApi's audience; the tokens JwtApi issues to registered clients for this service, its own
    options.TokenValidationParameters.ValidAudiences =
    [
        jwtApi["Audience"] ?? throw new InvalidOperationException("Set JwtApi:Audience."),
        jwtApi["ServiceAudience"] ?? throw new InvalidOperationException("Set JwtApi:ServiceAudience (this service's name as a client's audience)."),
    ];
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
builder.Services.AddAuthorizationBuilder()
    .AddPolicy("admin", policy => policy.RequireRole("admin"))
    // a client's token carries its scopes as one space-separated claim (RFC 8693 §4.2, RFC 9068 §2.2.3)
    .AddPolicy("reports:read", policy => policy.RequireAssertion(context =>
        context.User.FindFirst("scope")?.Value.Split(' ').Contains("reports:read") == true));

var app = builder.Build();
app.UseAuthentication();
app.UseAuthorization();

app.MapGet("/whoami", (ClaimsPrincipal user) => new { name = user.Identity?.Name, roles = user.FindAll("role").Select(c => c.Value) })
    .RequireAuthorization();
app.MapGet("/reports", (ClaimsPrincipal user) => new { report = "quarterly", for_user = user.Identity?.Name })
    .RequireAuthorization("admin");
// for services: a registered client whose token carries the scope reports:read
app.MapGet("/reports/feed", (ClaimsPrincipal caller) => new { report = "quarterly", for_client = caller.FindFirst("client_id")?.Value })
    .RequireAuthorization("reports:read");
app.Run();

namespace JwtApi.ResourceSample
{
    /// <summary>Names this assembly for WebApplicationFactory (the test project also references JwtApi's Program).</summary>
    public sealed class SampleMarker;
}
