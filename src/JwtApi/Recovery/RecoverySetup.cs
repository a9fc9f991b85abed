using Microsoft.Extensions.Options;

namespace JwtApi.Recovery;

public static class RecoverySetup
{
    /// <summary>Email verification and password reset by mail: their tokens, options and mails.</summary>
    public static IHostApplicationBuilder AddRecovery(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RecoveryOptions>().BindConfiguration(RecoveryOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<RecoveryOptions>, RecoveryOptionsValidator>();
        builder.Services.AddSingleton<RecoveryTokens>();
        return builder;
    }
}
