using JwtApi.Tokens;
using Microsoft.Extensions.Options;

namespace JwtApi.Auth;

/// <summary>
/// Browser mode: the device token (<see cref="DeviceTokens"/>) in a cookie page scripts cannot read (HttpOnly),
/// that only this site sends (SameSite=Strict), over HTTPS only outside Development (Secure), and only to
/// <c>/login</c> (Path): the one place it is read. Set alongside the refresh cookie; read whenever cookies are on.
/// </summary>
public sealed class DeviceCookie(IOptions<RefreshCookieOptions> options, IHostEnvironment env)
{
    /// <summary>The one path the browser sends the cookie to.</summary>
    public const string Path = "/login";

    private readonly bool _secure = !env.IsDevelopment();

    /// <summary><c>__Secure-</c> outside Development, as the refresh cookie's name (<see cref="RefreshCookie.Name"/>).</summary>
    public string Name => _secure ? "__Secure-jwtapi-device" : "jwtapi-device";

    public string? Read(HttpRequest request) =>
        options.Value.Mode != RefreshCookieMode.Off && request.Cookies.TryGetValue(Name, out var value) && value.Length > 0 ? value : null;

    public void Set(HttpResponse response, IssuedToken device) =>
        response.Cookies.Append(Name, device.Token, new CookieOptions
        {
            HttpOnly = true,
            Secure = _secure,
            SameSite = SameSiteMode.Strict,
            Path = Path,
            MaxAge = device.Lifetime,
            IsEssential = true,
        });
}
