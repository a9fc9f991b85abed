using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace JwtApi.Tests.Browser;

/// <summary>
/// Debian's Chromium and its chromedriver (<c>apt-get install chromium chromium-driver</c>), the only browser the
/// browser tests drive. Nothing is ever downloaded at test time: the driver is named by path and Selenium Manager
/// is told to stay offline.
/// </summary>
public static class Chromium
{
    public const string BinaryPath = "/usr/bin/chromium";
    public const string DriverPath = "/usr/bin/chromedriver";

    /// <summary><c>JWTAPI_BROWSER_TESTS=required</c> (CI sets it): a missing browser fails the tests instead of skipping them.</summary>
    public const string RequiredVariable = "JWTAPI_BROWSER_TESTS";

    public static bool Required =>
        string.Equals(Environment.GetEnvironmentVariable(RequiredVariable), "required", StringComparison.OrdinalIgnoreCase);

    /// <summary>Why the browser tests cannot run here, or null when they can.</summary>
    public static string? Missing { get; } = FindMissing();

    private static string? FindMissing()
    {
        var missing = new[] { BinaryPath, DriverPath }.Where(path => !File.Exists(path)).ToList();
        return missing.Count == 0 ? null :
            $"Browser tests need Chromium and chromedriver: {string.Join(" and ", missing)} not found " +
            "(Debian: apt-get install chromium chromium-driver).";
    }

    /// <summary>A new headless Chromium; throws with <see cref="Missing"/> when there is none.</summary>
    public static ChromeDriver Start()
    {
        if (Missing is { } reason)
        {
            throw new InvalidOperationException(
                Required ? $"{reason} {RequiredVariable}=required, so the browser tests fail instead of skipping." : reason);
        }
        // belt and braces: with the driver named below Selenium Manager has nothing to find, and offline it never downloads
        Environment.SetEnvironmentVariable("SE_OFFLINE", "true");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = BinaryPath };
        options.AddArguments(
            "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000",
            "--no-first-run", "--disable-extensions", "--disable-background-networking", "--disable-sync");
        // the console, where Chromium reports Content-Security-Policy violations
        options.SetLoggingPreference(LogType.Browser, LogLevel.All);
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }
}

/// <summary>
/// A test that needs the browser: skipped, with the reason, where Chromium or chromedriver is missing, so that
/// <c>dotnet test</c> stays green for a newcomer without them; run (and failing) when
/// <c>JWTAPI_BROWSER_TESTS=required</c>, so that CI cannot skip them silently.
/// </summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (Chromium.Missing is { } reason && !Chromium.Required)
        {
            Skip = $"{reason} Skipped; with {Chromium.RequiredVariable}=required (as in CI) this fails instead.";
        }
    }
}
