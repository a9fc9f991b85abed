using JwtApi.Auth;
using JwtApi.Hosting;
using JwtApi.Storage;
using JwtApi.Tokens;
using JwtApi.Users;

if (KeyCommand.Matches(args))
{
    return KeyCommand.Run(args, Console.Out, Console.Error);   // Tokens/KeyCommand.cs: keys generate --alg ...
}

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddSingleton(TimeProvider.System);
builder.AddHosting();   // Hosting/HostingSetup.cs: JSON shape, validation, health
builder.AddApiErrors(); // Hosting/ApiErrors.cs
builder.AddSelfCheck(); // Hosting/SelfCheck.cs: stops or warns on the usual JWT misconfigurations
builder.AddStorage();   // Storage/StorageSetup.cs
builder.AddTokens();    // Tokens/TokensSetup.cs: options, keys, JwtBearer
builder.AddAuth();      // Auth/AuthSetup.cs: hashing, password policy, authorization policies
builder.AddApiDocs();   // Hosting/ApiDocsSetup.cs

var app = builder.Build();
app.UseApiErrors();
app.UseAuthentication();
app.UseAuthorization();
app.MapAuth();
app.MapUsers();
app.MapKeys();
app.MapHealth();
app.MapApiDocs();
try
{
    app.Run();
}
catch (Exception e) when (e is Microsoft.Extensions.Options.OptionsValidationException or SelfCheckFailedException)
{
    // The host has logged it ("Hosting failed to start"); end with an error code, not an unhandled-exception abort.
    Console.Error.WriteLine($"JwtApi did not start: {e.Message}");
    return 1;
}
return 0;
