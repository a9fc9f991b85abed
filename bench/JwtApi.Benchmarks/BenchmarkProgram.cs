using BenchmarkDotNet.Running;

namespace JwtApi.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project bench/JwtApi.Benchmarks -- --filter '*'</c>; results land in
/// BenchmarkDotNet.Artifacts/results. See docs/SECURITY.md and docs/PERFORMANCE.md for the recorded numbers.
/// </summary>
public static class BenchmarkProgram
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(BenchmarkProgram).Assembly).Run(args);
}
