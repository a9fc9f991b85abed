using BenchmarkDotNet.Running;

namespace JwtApi.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project bench/JwtApi.Benchmarks -- --filter '*'</c>; results land in
/// BenchmarkDotNet.Artifacts/results. See docs/SECURITY.md and docs/PERFORMANCE.md for the recorded numbers.
/// </summary>
public static class BenchmarkProgram
{
    public static int Main(string[] args)
    {
        if (args is ["mint" or "send", ..])
        {
            return LoadTokens.Run(args);   // bench/load.sh's token supply
        }
        if (args is ["cache-compare", ..])
        {
            return ValidationCacheComparison.Run(args);   // the validated-token caches' hit rate and memory
        }
        BenchmarkSwitcher.FromAssembly(typeof(BenchmarkProgram).Assembly).Run(args);
        return 0;
    }
}
