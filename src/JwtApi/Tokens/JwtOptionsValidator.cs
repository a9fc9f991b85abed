using Microsoft.Extensions.Options;

namespace JwtApi.Tokens;

/// <summary>Checks what data annotations cannot: the algorithm, the keys, and how the lifetimes relate.</summary>
internal sealed class JwtOptionsValidator(IHostEnvironment env) : IValidateOptions<JwtOptions>
{
    public ValidateOptionsResult Validate(string? name, JwtOptions options)
    {
        var failures = new List<string>();
        SigningKeys.TryLoad(options, env, failures);
        if (!RefreshKey.TryLoad(options, env, out _, out var error))
        {
            failures.Add(error!);
        }
        if (options.RefreshTokenAbsoluteLifetime < options.RefreshTokenLifetime)
        {
            failures.Add("Jwt:RefreshTokenAbsoluteLifetime must be at least Jwt:RefreshTokenLifetime (the idle timeout).");
        }
        if (options.ValidationCache.Size is < 0 or > ValidationCacheOptions.MaxSize)
        {
            failures.Add($"Jwt:ValidationCache:Size must be between 0 (no cache) and {ValidationCacheOptions.MaxSize}.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
