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
        builder.Services.AddCors();
        builder.Services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>()
            .Configure<IOptions<CrossOriginOptions>>((cors, crossOrigin) => cors.AddDefaultPolicy(policy =>
            {
                if (crossOrigin.Value.AllowedOrigins is { Length: > 0 } origins)
                {
                    // Bearer tokens travel in a header, not a cookie: no credentials needed. The client may read
                    // why it was refused (WWW-Authenticate) and when to come back (Retry-After).
                    policy.WithOrigins(origins)
                        .WithMethods("GET", "POST", "PUT", "DELETE")
                        .WithHeaders("Authorization", "Content-Type")
                        .WithExposedHeaders("WWW-Authenticate", "Retry-After", "Location")
                        .SetPreflightMaxAge(TimeSpan.FromMinutes(10));
                }
            }));
        return builder;
    }

    public static WebApplication UseTransport(this WebApplication app)
    {
        app.Use((http, next) =>
        {
            // on starting, so that error answers (whose headers the exception handler clears) get them too
            http.Response.OnStarting(static state =>
            {
                var headers = ((HttpResponse)state).Headers;
                headers.XContentTypeOptions = "nosniff";
                // an API is never a frame of another page (clickjacking), and sends no referrer onwards
                headers.XFrameOptions = "DENY";
                headers.ContentSecurityPolicy = "frame-ancestors 'none'";
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
        app.UseCors();
        return app;
    }
}
