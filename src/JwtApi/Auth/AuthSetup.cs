using JwtApi.Users;
using Microsoft.Extensions.Options;

namespace JwtApi.Auth;

public static class AuthSetup
{
    /// <summary>Password hashing and policy, authorization policies, the bootstrap admin.</summary>
    public static IHostApplicationBuilder AddAuth(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<PasswordOptions>().BindConfiguration(PasswordOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<PasswordOptions>, PasswordOptionsValidator>();
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section);
        services.AddOptions<RefreshCookieOptions>().BindConfiguration(RefreshCookieOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<RefreshCookie>();
        services.AddOptions<SeedOptions>().BindConfiguration(SeedOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SeedOptions>, SeedOptionsValidator>();

        services.AddSingleton<PasswordHasher>();
        services.AddSingleton<PasswordPolicy>();
        services.AddScoped<AdminSeeder>();
        services.AddScoped<SignIn>();

        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Admin, policy => policy.RequireAuthenticatedUser().RequireRole(Roles.Admin));
        return builder;
    }
}
