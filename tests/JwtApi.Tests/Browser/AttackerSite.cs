using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace JwtApi.Tests.Browser;

/// <summary>
/// Another origin on loopback whose pages try to refresh the user's session at the API with the browser's refresh
/// cookie. Reached as <c>http://127.0.0.1:PORT</c> it is another site than the API at <c>http://localhost:…</c>;
/// as <c>http://localhost:PORT</c> it is the same site (a port makes another origin, not another site), so the
/// SameSite cookie goes along and only the CSRF check stands in the way.
/// </summary>
public sealed class AttackerSite : IAsyncDisposable
{
    private readonly WebApplication _server;

    private AttackerSite(Uri api)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        _server = builder.Build();
        var refresh = JsonSerializer.Serialize(new Uri(api, "/refresh").ToString());
        // A script with credentials and the CSRF header (a CORS request, preflight first), and one in no-cors mode,
        // which a browser sends without a preflight but whose answer the page cannot read, as a form's.
        _server.MapGet("/script", () => Results.Content($$"""
            <!doctype html><title>attacker: script</title>
            <p>with the CSRF header: <span id="cors">…</span></p>
            <p>no-cors: <span id="no-cors">…</span></p>
            <script>
            const show = (id) => (text) => { document.getElementById(id).textContent = text; };
            fetch({{refresh}}, { method: 'POST', credentials: 'include', headers: { 'X-JwtApi-CSRF': '1' } })
              .then(r => r.text().then(t => `read ${r.status}: ${t}`), e => `refused: ${e.name}`)
              .then(show('cors'));
            fetch({{refresh}}, { method: 'POST', credentials: 'include', mode: 'no-cors' })
              .then(r => r.text().then(t => `${r.type} ${r.status} [${t}]`), e => `refused: ${e.name}`)
              .then(show('no-cors'));
            </script>
            """, "text/html"));
        // the classic CSRF: a form posted to the API by script, the browser following to the answer
        _server.MapGet("/form", () => Results.Content($$"""
            <!doctype html><title>attacker: form</title>
            <form method="post" action={{refresh}}><input type="hidden" name="grant" value="please"></form>
            <script>document.forms[0].submit();</script>
            """, "text/html"));
    }

    public static async Task<AttackerSite> StartAsync(Uri api)
    {
        var site = new AttackerSite(api);
        await site._server.StartAsync();
        return site;
    }

    /// <summary>The port it listens on (127.0.0.1).</summary>
    public int Port => new Uri(_server.Urls.Single()).Port;

    /// <summary>A page of the site, reached under the given host name.</summary>
    public Uri Page(string host, string path) => new($"http://{host}:{Port}{path}");

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();
}
