using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace JwtApi.Auth;

/// <summary>
/// Dedicated threads for BCrypt, at the lowest CPU priority the OS gives without privileges (Linux: nice 19,
/// per thread). BCrypt is ~100 ms of pure CPU per login; on the request threads a login flood would take the
/// cores from the protected endpoints. Here the scheduler runs requests first and BCrypt in what is left,
/// and when nothing else wants the CPU, BCrypt gets all of it. Admission (how many run, how many wait) is
/// <see cref="PasswordHasher"/>'s.
/// </summary>
/// <remarks>
/// A Linux thread passes its nice value to every thread it creates, and the thread pool creates its workers
/// from whichever thread queues work. So the low-priority threads never touch the thread pool: they block on
/// a <see cref="BlockingCollection{T}"/> for work and hand each result to one normal-priority thread, which
/// completes the caller's task (and is the one that may make the pool grow).
/// </remarks>
internal sealed partial class HashingThreads : IDisposable
{
    public const int LowestPriorityNice = 19;

    private readonly BlockingCollection<Action> _work = new();
    private readonly BlockingCollection<Action> _completions = new();

    public HashingThreads(int count)
    {
        new Thread(() => Drain(_completions)) { IsBackground = true, Name = "bcrypt-results" }.Start();
        for (var i = 0; i < count; i++)
        {
            new Thread(() =>
            {
                LowerThisThreadsPriority();
                Drain(_work);
            }) { IsBackground = true, Name = $"bcrypt-{i}" }.Start();
        }
    }

    public Task<T> RunAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _work.Add(() =>
            {
                Action complete;
                try
                {
                    var result = work();
                    complete = () => done.SetResult(result);
                }
                catch (Exception e)
                {
                    complete = () => done.SetException(e);
                }
                _completions.Add(complete);
            });
        }
        catch (InvalidOperationException)
        {
            done.SetException(new ObjectDisposedException(nameof(HashingThreads)));
        }
        return done.Task;
    }

    private static void Drain(BlockingCollection<Action> queue)
    {
        foreach (var action in queue.GetConsumingEnumerable())
        {
            action();
        }
    }

    /// <summary>The calling thread's nice value (Linux), or null elsewhere.</summary>
    internal static int? CurrentThreadNice() => OperatingSystem.IsLinux() ? GetPriority(PrioProcess, 0) : null;

    private static void LowerThisThreadsPriority()
    {
        // On Linux, PRIO_PROCESS with who = 0 is the calling thread (each thread has its own nice value).
        if (OperatingSystem.IsLinux())
        {
            _ = SetPriority(PrioProcess, 0, LowestPriorityNice);
        }
    }

    private const int PrioProcess = 0;

    [LibraryImport("libc", EntryPoint = "setpriority")]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "getpriority")]
    private static partial int GetPriority(int which, int who);

    public void Dispose()
    {
        _work.CompleteAdding();
        _completions.CompleteAdding();
    }
}
