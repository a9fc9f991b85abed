using System.Diagnostics;

namespace JwtApi.Tests.Support;

/// <summary>What a run of the service's process did: its exit code and what it wrote to each stream.</summary>
public sealed record ProcessRun(int ExitCode, string Stdout, string Stderr);

/// <summary>
/// The service's build (JwtApi.dll in the test output folder) as a process of its own, configured as an operator
/// configures it: environment variables. For what only a real process shows: exit codes, the streams, Program.cs.
/// </summary>
public static class ServiceProcess
{
    /// <param name="args">The command line after <c>JwtApi.dll</c>.</param>
    /// <param name="environment">Variables on top of this process's (<c>Jwt__SigningKey</c>, <c>ASPNETCORE_ENVIRONMENT</c>).</param>
    /// <param name="workingDirectory">The working folder, and so the content root.</param>
    /// <param name="stdin">The one line written to stdin; null closes stdin at once.</param>
    public static async Task<ProcessRun> RunAsync(
        IEnumerable<string> args, IReadOnlyDictionary<string, string?> environment, string workingDirectory, string? stdin = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "JwtApi.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteLineAsync(stdin);
        }
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        return new ProcessRun(process.ExitCode, await stdout, await stderr);
    }
}
