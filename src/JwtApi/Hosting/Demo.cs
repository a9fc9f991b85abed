using Microsoft.Extensions.FileProviders;

namespace JwtApi.Hosting;

/// <summary>
/// The demo single-page app at <c>/demo/</c> (wwwroot/demo: plain HTML and JavaScript): sign-in in cookie mode,
/// the current token's claims and lifetime, silent refresh, logout, two-factor sign-in, registration, and the pages
/// the mailed reset and verification links open. <c>Demo:Enabled</c> (default true) turns it off.
/// </summary>
public static class Demo
{
    public const string Path = "/demo";

    /// <summary>
    /// Only our own script, style and API: an injected script tag or inline handler does not run, so an XSS in
    /// the page cannot read the access token it keeps in memory.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
        "base-uri 'none'; form-action 'self'; object-src 'none'; frame-ancestors 'none'";

    public static WebApplication UseDemo(this WebApplication app)
    {
        var folder = System.IO.Path.Combine(app.Environment.ContentRootPath, "wwwroot", "demo");
        if (!app.Configuration.GetValue("Demo:Enabled", true) || !Directory.Exists(folder))
        {
            return app;
        }
        var files = new PhysicalFileProvider(folder);
        // a branch entered under /demo only: every other request passes one path comparison, not two middlewares
        app.UseWhen(http => http.Request.Path.StartsWithSegments(Path), demo => demo
            .UseDefaultFiles(new DefaultFilesOptions { RequestPath = Path, FileProvider = files })
            .UseStaticFiles(new StaticFileOptions
            {
                RequestPath = Path,
                FileProvider = files,
                OnPrepareResponse = context =>
                {
                    context.Context.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
                    // a new release's script is picked up at once: revalidated each time, cheap with ETags
                    context.Context.Response.Headers.CacheControl = "no-cache";
                },
            }));
        return app;
    }
}
