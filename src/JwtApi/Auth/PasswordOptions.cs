using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace JwtApi.Auth;

public sealed class PasswordOptions
{
    public const string Section = "Passwords";

    /// <summary>
    /// BCrypt cost: each step doubles the work (10 ≈ 50 ms, 11 ≈ 100 ms, 12 ≈ 200 ms on one core here).
    /// Below 10 is allowed only in the Testing environment, where speed matters more than strength.
    /// </summary>
    [Range(4, 31)]
    public int WorkFactor { get; init; } = 11;

    /// <summary>The shortest password accepted for a new account, a password change and the seeded admin.</summary>
    [Range(8, 128)]
    public int MinimumLength { get; init; } = 8;

    /// <summary>BCrypt computations at once; unset means one per core the process may use.</summary>
    [Range(1, 1024)]
    public int? MaxConcurrentHashes { get; init; }

    /// <summary>BCrypt computations that may wait for a turn; beyond them the answer is 503 with Retry-After.</summary>
    [Range(0, 100_000)]
    public int MaxQueuedHashes { get; init; } = 64;
}

internal sealed class PasswordOptionsValidator(IHostEnvironment env) : IValidateOptions<PasswordOptions>
{
    public const int ProductionMinimumWorkFactor = 10;

    public ValidateOptionsResult Validate(string? name, PasswordOptions options) =>
        options.WorkFactor < ProductionMinimumWorkFactor && !env.IsEnvironment("Testing")
            ? ValidateOptionsResult.Fail(
                $"Passwords:WorkFactor is {options.WorkFactor}; it must be at least {ProductionMinimumWorkFactor} " +
                "(only the Testing environment may go lower). Set Passwords__WorkFactor=11 or more.")
            : ValidateOptionsResult.Success;
}
