using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace JwtApi.Hosting;

/// <summary>Browsers allowed to call the API from pages of another origin (<c>Cors</c>).</summary>
public sealed class CrossOriginOptions
{
    public const string Section = "Cors";

    /// <summary>Exact origins (scheme, host, port), e.g. <c>https://app.example.com</c>. Empty: no cross-origin access.</summary>
    public string[] AllowedOrigins { get; init; } = [];
}

/// <summary>An origin that can never match (a path, a trailing slash, a wildcard) is a mistake: say so at start.</summary>
internal sealed class CrossOriginOptionsValidator : IValidateOptions<CrossOriginOptions>
{
    public ValidateOptionsResult Validate(string? name, CrossOriginOptions options)
    {
        var bad = options.AllowedOrigins.Where(o => !IsOrigin(o)).ToList();
        return bad.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(
            $"Cors:AllowedOrigins has {string.Join(", ", bad.Select(o => $"'{o}'"))}: each must be an exact origin such as " +
            "https://app.example.com (scheme, host and port only: no path, no trailing slash, no wildcard).");
    }

    private static bool IsOrigin(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http" &&
        value.Equals(uri.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// The reverse proxies (nginx, a load balancer) whose <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are
/// believed (<c>ForwardedHeaders</c>). Empty: the headers are ignored and the client is the connection's peer.
/// </summary>
public sealed class ProxyOptions
{
    public const string Section = "ForwardedHeaders";

    /// <summary>Addresses of the proxies themselves, e.g. <c>10.0.0.5</c> or <c>127.0.0.1</c>.</summary>
    public string[] KnownProxies { get; init; } = [];

    /// <summary>Networks the proxies live in, in CIDR form, e.g. <c>172.28.0.0/24</c> (a container network).</summary>
    public string[] KnownNetworks { get; init; } = [];

    public bool Enabled => KnownProxies.Length > 0 || KnownNetworks.Length > 0;
}

/// <summary>A proxy address that does not parse would silently trust nobody (or the wrong host): say so at start.</summary>
internal sealed class ProxyOptionsValidator : IValidateOptions<ProxyOptions>
{
    public ValidateOptionsResult Validate(string? name, ProxyOptions options)
    {
        var errors = options.KnownProxies.Where(p => !IPAddress.TryParse(p, out _))
            .Select(p => $"ForwardedHeaders:KnownProxies has '{p}': each must be an IP address such as 10.0.0.5.")
            .Concat(options.KnownNetworks.Where(n => !System.Net.IPNetwork.TryParse(n, out _))
                .Select(n => $"ForwardedHeaders:KnownNetworks has '{n}': each must be a network in CIDR form such as 172.28.0.0/24."))
            .ToList();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>
/// How responses travel: HTTPS (redirection and HSTS outside Development), CORS for the configured origins
/// only, and the headers OWASP's REST cheat sheet asks of every API response.
/// </summary>
public static class Transport
{
    public static IHostApplicationBuilder AddTransport(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<CrossOriginOptions>().BindConfiguration(CrossOriginOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<CrossOriginOptions>, CrossOriginOptionsValidator>();
        builder.Services.AddHsts(hsts =>
        {
            hsts.MaxAge = TimeSpan.FromDays(365);
            hsts.IncludeSubDomains = true;
        });
        builder.Services.AddOptions<ProxyOptions>().BindConfiguration(ProxyOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ProxyOptions>, ProxyOptionsValidator>();
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ProxyOptions>>((forwarded, proxies) =>
        {
            if (!proxies.Value.Enabled)
            {
                return;
            }
            // Only the listed proxies are believed, and only their own entry (ForwardLimit 1, the rightmost
            // address): a client cannot choose its address for throttling and the audit log by sending the header.
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            forwarded.ForwardLimit = 1;
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var proxy in proxies.Value.KnownProxies)
            {
                forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
            }
            foreach (var network in proxies.Value.KnownNetworks)
            {
                forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }
        });
        builder.Services.AddCors();
        builder.Services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>()
            .Configure<IOptions<CrossOriginOptions>>((cors, crossOrigin) => cors.AddDefaultPolicy(policy =>
            {
                if (crossOrigin.Value.AllowedOrigins is { Length: > 0 } origins)
                {
                    // Credentials (the refresh cookie) for these origins only: the framework never pairs them with
                    // a wildcard. The CSRF header is allowed here and nowhere else, so only these origins' scripts
                    // can send a refresh by cookie. The client may read why it was refused (WWW-Authenticate) and
                    // when to come back (Retry-After).
                    policy.WithOrigins(origins)
                        .AllowCredentials()
                        .WithMethods("GET", "POST", "PUT", "DELETE")
                        .WithHeaders("Authorization", "Content-Type", JwtApi.Auth.RefreshCookie.CsrfHeader)
                        .WithExposedHeaders("WWW-Authenticate", "Retry-After", "Location")
                        .SetPreflightMaxAge(TimeSpan.FromMinutes(10));
                }
            }));
        return builder;
    }

    public static WebApplication UseTransport(this WebApplication app)
    {
        // first, so that the HTTPS redirect, throttling and the audit log all see the real client and scheme;
        // with no proxy configured the headers are ignored, so the middleware is left out altogether
        if (app.Services.GetRequiredService<IOptions<ProxyOptions>>().Value.Enabled)
        {
            app.UseForwardedHeaders();
        }
        app.Use((http, next) =>
        {
            // on starting, so that error answers (whose headers the exception handler clears) get them too
            http.Response.OnStarting(static state =>
            {
                var headers = ((HttpResponse)state).Headers;
                headers.XContentTypeOptions = "nosniff";
                // an API is never a frame of another page (clickjacking), and sends no referrer onwards
                headers.XFrameOptions = "DENY";
                // a page of ours (the demo) sets a fuller policy of its own
                if (string.IsNullOrEmpty(headers.ContentSecurityPolicy))
                {
                    headers.ContentSecurityPolicy = "frame-ancestors 'none'";
                }
                headers["Referrer-Policy"] = "no-referrer";
                return Task.CompletedTask;
            }, http.Response);
            return next(http);
        });
        if (!app.Environment.IsDevelopment())
        {
            // HSTS only on HTTPS responses, never for localhost; the redirect needs a known HTTPS port
            // (an https:// URL, or the https_port setting), so behind a TLS-terminating proxy it stays idle.
            app.UseHsts();
            app.UseHttpsRedirection();
        }
        // with no origin configured there is no policy to apply: no middleware either
        if (app.Services.GetRequiredService<IOptions<CrossOriginOptions>>().Value.AllowedOrigins.Length > 0)
        {
            app.UseCors();
        }
        return app;
    }
}
