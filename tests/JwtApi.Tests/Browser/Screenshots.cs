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

    /// <summary>The whole page, not only the window: DevTools' capture, clipped to the page's size.</summary>
    public static void Save(ChromiumDriver driver, string name)
    {
        var layout = (Dictionary<string, object>)driver.ExecuteCdpCommand("Page.getLayoutMetrics", [])!;
        var size = (Dictionary<string, object>)layout["cssContentSize"];
        var shot = (Dictionary<string, object>)driver.ExecuteCdpCommand("Page.captureScreenshot", new()
        {
            ["format"] = "png",
            ["captureBeyondViewport"] = true,
            ["clip"] = new Dictionary<string, object>
            {
                ["x"] = 0, ["y"] = 0, ["width"] = size["width"], ["height"] = size["height"], ["scale"] = 1,
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
