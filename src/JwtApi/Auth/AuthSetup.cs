using JwtApi.Mfa;
using JwtApi.Users;
using Microsoft.AspNetCore.Authorization;
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

        // Every policy but the enrolment endpoints' refuses an enrollment-only token, and asks for a second factor
        // where a role it requires is listed in Auth:RequireMfaFor (Mfa/MfaPolicy.cs).
        services.AddAuthorizationBuilder()
            .SetDefaultPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser()
                .AddRequirements(new SecondFactorRequirement([])).Build())
            .AddPolicy(Policies.Admin, policy => policy.RequireAuthenticatedUser().RequireRole(Roles.Admin)
                .AddRequirements(new SecondFactorRequirement([Roles.Admin])))
            .AddPolicy(Policies.MfaEnrollment, policy => policy.RequireAuthenticatedUser());
        return builder;
    }
}
