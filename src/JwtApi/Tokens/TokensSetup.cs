using JwtApi.Hosting;
using JwtApi.Storage;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace JwtApi.Tokens;

public static class TokensSetup
{
    /// <summary>Token options, keys, the issuer, and JwtBearer built from the checked options.</summary>
    public static IHostApplicationBuilder AddTokens(this IHostApplicationBuilder builder)
    {
        builder.AddRevocations();
        var services = builder.Services;
        services.AddSingleton<IValidateOptions<JwtOptions>, JwtOptionsValidator>();

        services.AddSingleton(sp => SigningKeys.Create(
            sp.GetRequiredService<IOptions<JwtOptions>>().Value,
            sp.GetRequiredService<IHostEnvironment>(),
            sp.GetRequiredService<DataDirectory>()));
        services.AddSingleton(sp => RefreshKey.Create(
            sp.GetRequiredService<IOptions<JwtOptions>>().Value,
            sp.GetRequiredService<IHostEnvironment>(),
            sp.GetRequiredService<DataDirectory>()));
        services.AddSingleton<RefreshTokens>();
        services.AddSingleton<TokenIssuer>();
        services.AddSingleton<PublishedKeys>();

        // on the system clock, as IdentityModel judges exp: a cached token never outlives what it would accept
        services.AddSingleton(sp => new ValidatedTokenCache(
            sp.GetRequiredService<IOptions<JwtOptions>>().Value.ValidationCache.Size, TimeProvider.System));
        services.AddSingleton<RevocationSync>();
        services.AddHostedService(sp => sp.GetRequiredService<RevocationSync>());
        // only PostgreSQL notifies; on SQLite, one file and usually one instance, the timer's rounds are all there is
        if (DatabaseOptions.ParseProvider(builder.Configuration[$"{DatabaseOptions.Section}:Provider"]) == DatabaseProvider.Postgres)
        {
            services.AddSingleton<RevocationNotifications>();
            services.AddHostedService(sp => sp.GetRequiredService<RevocationNotifications>());
        }

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<JwtOptions>, SigningKeys, RevocationList, ValidatedTokenCache, Telemetry>((bearer, jwt, keys, revocations, cache, telemetry) =>
            {
                // Claim names stay as issued (sub, name, role). This is per scheme: the global map's Clear()
                // no longer affects JsonWebTokenHandler (dotnet/aspnetcore#52615).
                bearer.MapInboundClaims = false;
                bearer.TokenValidationParameters = AccessTokenValidation.Parameters(jwt.Value, keys);
                // The size limit is a second line behind BearerEvents' check, for a token that reaches the handler
                // some other way.
                bearer.TokenHandlers.Clear();
                bearer.TokenHandlers.Add(new JsonWebTokenHandler { MapInboundClaims = false, MaximumTokenSizeInBytes = BearerEvents.MaxTokenLength });
                // No Authority or MetadataAddress: keys come from configuration only, never from the network
                // or from the token itself (jwk, jku, x5u headers are ignored).
                bearer.SaveToken = false;
                // The validated-token cache answers a repeated token in OnMessageReceived, before the handler runs.
                bearer.Events = BearerEvents.Create(revocations, keys, telemetry, jwt.Value.AccessTokenLifetime, cache.Enabled ? cache : null);
            });
        return builder;
    }

    /// <summary>
    /// What ends tokens (<see cref="TokenRevoker"/>) and the token options it reads, keys unchecked: enough for the
    /// operator CLI (Users/UsersCommand.cs), which ends logins but issues and validates no token, so it needs no key.
    /// </summary>
    public static IHostApplicationBuilder AddRevocations(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<JwtOptions>().BindConfiguration(JwtOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<RevocationList>();
        builder.Services.AddScoped<TokenRevoker>();
        return builder;
    }
}
