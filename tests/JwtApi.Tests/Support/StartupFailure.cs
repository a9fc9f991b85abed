using Microsoft.AspNetCore.Mvc.Testing;

namespace JwtApi.Tests.Support;

/// <summary>Starts a service that should refuse to start, and returns every message of why it did.</summary>
public static class StartupFailure
{
    public static string Of(WebApplicationFactory<Program> factory)
    {
        using (factory)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    factory.CreateClient();
                }
                catch (ObjectDisposedException) when (attempt < 10)
                {
                    // A race in WebApplicationFactory: when the app fails to start before DeferredHost.StartAsync
                    // reads its services, that read throws on the disposed host and the real error is lost. It
                    // shows under load (a full run on two cores); starting again reports the real error.
                    continue;
                }
                catch (Exception thrown)
                {
                    return string.Join(" | ", Flatten(thrown).Select(e => e.Message));
                }
                throw new Xunit.Sdk.XunitException("The service started, but the configuration should have stopped it.");
            }
        }
    }

    private static IEnumerable<Exception> Flatten(Exception e) =>
        e is AggregateException a
            ? a.InnerExceptions.SelectMany(Flatten).Prepend(e)
            : e.InnerException is null ? [e] : Flatten(e.InnerException).Prepend(e);
}
