using OpenQA.Selenium;

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

    public static void Save(IWebDriver driver, string name)
    {
        Directory.CreateDirectory(Folder);
        ((ITakesScreenshot)driver).GetScreenshot().SaveAsFile(Path.Combine(Folder, name + ".png"));
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
