using Microsoft.Extensions.Options;

namespace JwtApi.Tokens;

/// <summary>Checks what data annotations cannot: the algorithm, and that the key exists and is strong enough.</summary>
internal sealed class JwtOptionsValidator(IHostEnvironment env) : IValidateOptions<JwtOptions>
{
    public ValidateOptionsResult Validate(string? name, JwtOptions options) =>
        SigningKeys.TryLoad(options, env, out _, out var error)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(error!);
}
