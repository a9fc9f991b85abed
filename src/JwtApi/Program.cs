using JwtApi.Auth;
using JwtApi.Clients;
using JwtApi.Hosting;
using JwtApi.Mail;
using JwtApi.Mfa;
using JwtApi.Recovery;
using JwtApi.Storage;
using JwtApi.Tokens;
using JwtApi.Users;

if (KeyCommand.Matches(args))
{
    return KeyCommand.Run(args, Console.Out, Console.Error);   // Tokens/KeyCommand.cs: keys generate --alg ...
}
if (UsersCommand.Matches(args))
{
    return await UsersCommand.RunAsync(args, Console.In, Console.IsInputRedirected, Console.Out, Console.Error); // Users/UsersCommand.cs: users list|create|...
}
if (HealthProbe.Matches(args))
{
    return await HealthProbe.RunAsync(args, Console.Out, Console.Error); // Hosting/HealthProbe.cs: the container's HEALTHCHECK
}

SelfCheck.ExitCleanlyOnConfigurationError(); // Hosting/SelfCheck.cs: exit code 1 and one line, not an abort

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddSingleton(TimeProvider.System);
builder.AddHosting();   // Hosting/HostingSetup.cs: JSON shape, validation, health
builder.AddTelemetry(); // Hosting/TelemetrySetup.cs: metrics and traces; OTLP export when Telemetry:Otlp:Endpoint is set
builder.AddApiErrors(); // Hosting/ApiErrors.cs
builder.AddPublicOrigin(); // Hosting/PublicOrigin.cs: Hosting:PublicOrigin for discovery, and AllowedHosts from it
builder.AddSelfCheck(); // Hosting/SelfCheck.cs: stops or warns on the usual JWT misconfigurations
builder.AddStorage();   // Storage/StorageSetup.cs
builder.AddMail();      // Mail/MailSetup.cs: the mail queue and sender (SMTP, or .eml files in Development), link templates
builder.AddTokens();    // Tokens/TokensSetup.cs: options, keys, JwtBearer
builder.AddAuth();      // Auth/AuthSetup.cs: hashing, password policy, authorization policies
builder.AddMfa();      // Mfa/MfaSetup.cs: TOTP second factor, recovery codes, the second-factor policy
builder.AddUsers();     // Users/UsersSetup.cs: account creation, the caller of a write re-read from the database
builder.AddRecovery();  // Recovery/RecoverySetup.cs: email verification and password reset by mail
builder.AddClients();   // Clients/ClientsSetup.cs: registered clients (machine to machine), client authentication
builder.AddRateLimits(); // Auth/RateLimits.cs: per address and per username, 429 + Retry-After
builder.AddTransport(); // Hosting/Transport.cs: HSTS, CORS from Cors:AllowedOrigins
builder.AddApiDocs();   // Hosting/ApiDocsSetup.cs

var app = builder.Build();
app.UseApiErrors();
app.UseAllowedHosts();  // Hosting/PublicOrigin.cs: 400 problem+json for a Host not in AllowedHosts
app.UseTransport();     // Hosting/Transport.cs: security headers, HTTPS and HSTS, CORS
app.UseDemo();          // Hosting/Demo.cs: the demo SPA at /demo/ (wwwroot/demo), with its own CSP
app.UseRateLimiter();
app.UseAuthentication();
app.UseAuthorization();
app.MapAuth();
app.MapUsers();
app.MapMfa();
app.MapRecovery();
app.MapClients();
app.MapKeys();
app.MapTokenManagement();
app.MapHealth();
app.MapApiDocs();
app.Run();
return 0;
