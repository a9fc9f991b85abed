using OpenQA.Selenium;
using OpenQA.Selenium.Chromium;

namespace JwtApi.Tests.Browser;

/// <summary>
/// Screenshots of each step, kept as CI artifacts: in <c>JWTAPI_SCREENSHOTS</c>, by default
/// <c>artifacts/screenshots/</c> at the repository root, named by test and step (<c>demo-01-signed-in.png</c>).
/// </summary>
public static class Screenshots
{
    public const string FolderVariable = "JWTAPI_SCREENSHOTS";

    public static string Folder { get; } = Environment.GetEnvironmentVariable(FolderVariable) is { Length: > 0 } folder
        ? Path.GetFullPath(folder)
        : Path.Combine(RepositoryRoot(), "artifacts", "screenshots");

    /// <summary>
    /// The whole page, or one element of it, beyond the window if need be (Swagger UI's page is 4,000 pixels
    /// tall; its part that matters is one operation): DevTools' capture, clipped.
    /// </summary>
    public static void Save(ChromiumDriver driver, string name, IWebElement? element = null)
    {
        // in CSS pixels of the document, not of the window
        var box = (IReadOnlyDictionary<string, object>)driver.ExecuteScript("""
            const e = arguments[0] || document.documentElement;
            const r = e.getBoundingClientRect();
            const whole = !arguments[0];
            return { x: whole ? 0 : r.left + scrollX, y: whole ? 0 : r.top + scrollY,
                     width: whole ? e.scrollWidth : r.width, height: whole ? e.scrollHeight : r.height };
            """, element)!;
        var shot = (Dictionary<string, object>)driver.ExecuteCdpCommand("Page.captureScreenshot", new()
        {
            ["format"] = "png",
            ["captureBeyondViewport"] = true,
            ["clip"] = new Dictionary<string, object>
            {
                ["x"] = box["x"], ["y"] = box["y"], ["width"] = box["width"], ["height"] = box["height"], ["scale"] = 1,
            },
        })!;
        Directory.CreateDirectory(Folder);
        File.WriteAllBytes(Path.Combine(Folder, name + ".png"), Convert.FromBase64String((string)shot["data"]));
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "JwtApi.sln")))
            {
                return dir.FullName;
            }
        }
        return Directory.GetCurrentDirectory();
    }
}
