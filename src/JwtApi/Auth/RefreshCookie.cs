using System.ComponentModel.DataAnnotations;
using JwtApi.Hosting;
using JwtApi.Tokens;
using Microsoft.Extensions.Options;

namespace JwtApi.Auth;

/// <summary>When <c>/login</c> and <c>/refresh</c> put the refresh token in a cookie instead of the body.</summary>
public enum RefreshCookieMode
{
    /// <summary>Never: every client gets the refresh token in the body.</summary>
    Off,

    /// <summary>When the request asks (<c>"refresh_cookie": true</c> at /login; a refresh that came in the cookie).</summary>
    OnRequest,

    /// <summary>Always: no answer carries the refresh token in the body (a service for browsers only).</summary>
    Always,
}

public sealed class RefreshCookieOptions
{
    public const string Section = "Auth:RefreshCookie";

    [EnumDataType(typeof(RefreshCookieMode))]
    public RefreshCookieMode Mode { get; init; } = RefreshCookieMode.OnRequest;
}

/// <summary>
/// Browser mode: the refresh token travels in a cookie page scripts cannot read (HttpOnly), that only this site
/// sends (SameSite=Strict), over HTTPS only outside Development (Secure), and only to <c>/refresh</c> (Path). The
/// SPA keeps the short-lived access token in memory, so an XSS can use a session while the page is open but
/// cannot carry the refresh token away. Because a browser attaches the cookie by itself, a refresh by cookie
/// must also prove it comes from a page allowed to ask (<see cref="CsrfRefusal"/>).
/// </summary>
public sealed class RefreshCookie(IOptions<RefreshCookieOptions> options, IOptions<CrossOriginOptions> origins, IHostEnvironment env)
{
    /// <summary>
    /// A custom header: a cross-site form or link cannot send it, and a cross-origin script can only after a CORS
    /// preflight, which passes for Cors:AllowedOrigins alone (OWASP CSRF cheat sheet, "custom request headers").
    /// </summary>
    public const string CsrfHeader = "X-JwtApi-CSRF";

    /// <summary>The one path the browser sends the cookie to.</summary>
    public const string Path = "/refresh";

    private readonly bool _secure = !env.IsDevelopment();

    public RefreshCookieMode Mode => options.Value.Mode;

    /// <summary>
    /// <c>__Secure-</c>: a browser accepts the name only with the Secure flag from an HTTPS page, so a network
    /// attacker on plain HTTP cannot plant one. In Development (http://localhost) the plain name.
    /// </summary>
    public string Name => _secure ? "__Secure-jwtapi-refresh" : "jwtapi-refresh";

    /// <summary>Whether this answer puts the refresh token in the cookie.</summary>
    public bool Wanted(bool requested) => Mode switch
    {
        RefreshCookieMode.Always => true,
        RefreshCookieMode.OnRequest => requested,
        _ => false,
    };

    public string? Read(HttpRequest request) =>
        Mode != RefreshCookieMode.Off && request.Cookies.TryGetValue(Name, out var value) && value.Length > 0 ? value : null;

    /// <summary>
    /// True when the request carries the cookie more than once. A sibling subdomain can plant a second one for
    /// the parent domain (the <c>__Secure-</c> prefix does not stop that, and <c>__Host-</c> would need
    /// <c>Path=/</c>); which one is ours cannot be told, so neither is used.
    /// </summary>
    public bool SentTwice(HttpRequest request) =>
        Microsoft.Net.Http.Headers.CookieHeaderValue.TryParseList(request.Headers.Cookie, out var cookies) &&
        cookies.Count(c => c.Name.Equals(Name, StringComparison.Ordinal)) > 1;

    public void Set(HttpResponse response, IssuedToken refresh) =>
        response.Cookies.Append(Name, refresh.Token, Attributes(refresh.Lifetime));

    /// <summary>Ends the cookie: same name, path and flags, already expired. Nothing when cookies are off.</summary>
    public void Clear(HttpResponse response)
    {
        if (Mode != RefreshCookieMode.Off)
        {
            response.Cookies.Delete(Name, Attributes(null));
        }
    }

    private CookieOptions Attributes(TimeSpan? lifetime) => new()
    {
        HttpOnly = true,
        Secure = _secure,
        SameSite = SameSiteMode.Strict,
        Path = Path,
        MaxAge = lifetime,
        IsEssential = true,
    };

    /// <summary>
    /// Null when a refresh by cookie may go ahead, else the reason it may not: the custom header is missing, or
    /// the page's <c>Origin</c> is neither this service nor one of <c>Cors:AllowedOrigins</c>. A request with no
    /// Origin (not from a browser's script, or a same-origin GET-like navigation) still needs the header.
    /// </summary>
    public string? CsrfRefusal(HttpRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.Headers[CsrfHeader]))
        {
            return Reasons.CsrfHeaderMissing;
        }
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return null;
        }
        var own = $"{request.Scheme}://{request.Host}";
        return origin.Equals(own, StringComparison.OrdinalIgnoreCase) ||
               origins.Value.AllowedOrigins.Contains(origin, StringComparer.OrdinalIgnoreCase)
            ? null
            : Reasons.OriginNotAllowed;
    }
}
