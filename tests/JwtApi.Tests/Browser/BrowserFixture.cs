using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using JwtApi.Tests.Support;
using Microsoft.AspNetCore.Mvc.Testing;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace JwtApi.Tests.Browser;

/// <summary>
/// The browser tests run one after another, sharing one Chromium and one service: starting them is most of the
/// cost (seconds each on two cores), a test is about one. Each test begins with <see cref="BrowserFixture.Reset"/>
/// and signs in a user of its own.
/// </summary>
[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "Browser";
}

/// <summary>
/// One headless Chromium and one service on real Kestrel (Development, as a developer runs it) for the browser
/// tests. Both start on first use, so when every browser test is skipped neither starts.
/// </summary>
public sealed class BrowserFixture : IDisposable
{
    private readonly Lazy<ChromeDriver> _driver = new(Chromium.Start);
    private readonly Lazy<WebApplicationFactory<Program>> _server;

    public BrowserFixture()
    {
        // outside the Testing environment BCrypt's work factor may not go below 10
        App.Settings["Passwords:WorkFactor"] = "10";
        App.Settings["Cors:AllowedOrigins:0"] = $"http://localhost:{AllowedOriginPort}";
        // a role only DemoMfaTests gives: its users must turn two-factor sign-in on before anything else
        App.Settings["Auth:RequireMfaFor:0"] = DemoMfaTests.RoleRequiringMfa;
        // mail to a real SMTP server, its links on the port the browser reaches the service at
        App.UseMail(Smtp);
        App.Settings["Mail:Links:ResetUrl"] = $"http://localhost:{ServerPort}/demo/#reset-password?token={{token}}";
        App.Settings["Mail:Links:VerifyUrl"] = $"http://localhost:{ServerPort}/demo/#verify-email?token={{token}}";
        _server = new(() => App.StartOnKestrel(ServerPort));
    }

    /// <summary>The port of <see cref="Server"/>, chosen before it starts so the mailed links can name it.</summary>
    public int ServerPort { get; } = FreePort();

    /// <summary>The SMTP server on loopback that <see cref="Server"/> sends its mail to.</summary>
    public SmtpTestServer Smtp { get; } = new();

    /// <summary>The first mail to <paramref name="address"/> with <paramref name="subject"/> the SMTP server received.</summary>
    public MimeKit.MimeMessage MailTo(string address, string subject) =>
        Smtp.WaitForMailAsync(m => m.Message.To.Mailboxes.Any(b => b.Address == address) && m.Message.Subject == subject,
            TimeSpan.FromSeconds(30)).GetAwaiter().GetResult().Message;

    /// <summary>
    /// A port for a page of another origin that the service allows (<c>Cors:AllowedOrigins</c>:
    /// <c>http://localhost:PORT</c>), free when the fixture was made and taken by the test that needs it.
    /// </summary>
    public int AllowedOriginPort { get; } = FreePort();

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The service's test set-up; its own in-memory host shares the database, for the admin API.</summary>
    public JwtApiFactory App { get; } = new() { Environment = "Development" };

    public ChromeDriver Driver => _driver.Value;

    /// <summary>The service on Kestrel: the one the browser talks to.</summary>
    public WebApplicationFactory<Program> Server => _server.Value;

    /// <summary>
    /// The service as the browser reaches it, <c>http://localhost:PORT</c>: a name, so that the tests' other origin
    /// (<c>http://127.0.0.1:…</c>) is another site for cookies and SameSite.
    /// </summary>
    public Uri BaseUrl => BaseUrlOf(Server);

    /// <summary>A service on Kestrel as the browser reaches it, <c>http://localhost:PORT</c>.</summary>
    public static Uri BaseUrlOf(WebApplicationFactory<Program> server)
    {
        using var client = server.CreateClient();
        return new UriBuilder(client.BaseAddress!) { Host = "localhost" }.Uri;
    }

    public Uri Url(string path) => new(BaseUrl, path);

    /// <summary>Polls until the condition returns a value that is not null or false; fails naming what it waited for.</summary>
    public T Until<T>(Func<IWebDriver, T?> condition, string waitingFor)
    {
        var wait = new WebDriverWait(Driver, TimeSpan.FromSeconds(15))
        {
            PollingInterval = TimeSpan.FromMilliseconds(50),
            Message = $"waited 15 s for {waitingFor}",
        };
        wait.IgnoreExceptionTypes(typeof(NoSuchElementException), typeof(StaleElementReferenceException));
        return wait.Until(condition)!;
    }

    /// <summary>A clean browser for the next test: no cookies left by an earlier one, no page.</summary>
    public void Reset()
    {
        // the first time, Chromium and the service start side by side: one is another process, the other this one
        try
        {
            Parallel.Invoke(() => _ = Driver, () => _ = Server);
        }
        catch (AggregateException failed)
        {
            // the reason itself (no Chromium, a service that did not start), not the wrapper
            ExceptionDispatchInfo.Throw(failed.InnerExceptions[0]);
        }
        // a tab an earlier test opened and did not close (it failed in between)
        foreach (var tab in Driver.WindowHandles.Skip(1))
        {
            Driver.SwitchTo().Window(tab).Close();
        }
        Driver.SwitchTo().Window(Driver.WindowHandles[0]);
        Driver.Navigate().GoToUrl("about:blank");
        Driver.ExecuteCdpCommand("Network.clearBrowserCookies", []);
    }

    /// <summary>A cookie as the browser holds it (the DevTools view, HttpOnly ones included), or null.</summary>
    public Cookie? BrowserCookie(string name, string path)
    {
        // WebDriver lists the cookies the current page's URL would get: go where the cookie is sent
        Driver.Navigate().GoToUrl(Url(path));
        return Driver.Manage().Cookies.GetCookieNamed(name);
    }

    public void Dispose()
    {
        if (_driver.IsValueCreated)
        {
            _driver.Value.Quit();
        }
        if (_server.IsValueCreated)
        {
            _server.Value.Dispose();
        }
        App.Dispose();
        Smtp.Dispose();
    }
}
