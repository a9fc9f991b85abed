using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace JwtApi.Mfa;

public static class MfaSetup
{
    /// <summary>Two-factor sign-in: TOTP, recovery codes, the mfa_token, and the second-factor authorization policy.</summary>
    public static IHostApplicationBuilder AddMfa(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<MfaOptions>().BindConfiguration(MfaOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<Totp>();
        services.AddSingleton<MfaTokens>();
        services.AddSingleton<MfaPolicy>();
        services.AddScoped<RecoveryCodes>();
        services.AddScoped<SecondFactor>();
        services.AddSingleton<IAuthorizationHandler, SecondFactorHandler>();
        services.Replace(ServiceDescriptor.Singleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, SecondFactorResultHandler>());
        return builder;
    }
}
