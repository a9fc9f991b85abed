using Microsoft.AspNetCore.HostFiltering;
using Microsoft.Extensions.Options;

namespace JwtApi.Hosting;

/// <summary><c>Hosting</c>: how clients and other services reach this service.</summary>
public sealed class PublicOriginOptions
{
    public const string Section = "Hosting";

    /// <summary>
    /// The origin clients and the services that trust JwtApi's tokens reach it at, e.g.
    /// <c>https://auth.example.com</c>: the discovery document names its URLs from this, never from the request's
    /// <c>Host</c>, and <c>AllowedHosts</c> defaults to its host. Empty: derived from each request, and the
    /// discovery document is never cached by anyone else.
    /// </summary>
    public string? PublicOrigin { get; init; }

    /// <summary>The configured origin without a trailing slash, or null when none is configured.</summary>
    public string? Origin => string.IsNullOrWhiteSpace(PublicOrigin) ? null : PublicOrigin.Trim().TrimEnd('/');

    /// <summary>The host of <see cref="Origin"/>, as <c>AllowedHosts</c> lists one (no port).</summary>
    public string? Host => Origin is { } origin && Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        ? uri.HostNameType == UriHostNameType.IPv6 ? uri.Host : uri.IdnHost
        : null;
}

/// <summary>A public origin with a path, a query or another scheme would name URLs nobody serves: say so at start.</summary>
internal sealed class PublicOriginOptionsValidator : IValidateOptions<PublicOriginOptions>
{
    public ValidateOptionsResult Validate(string? name, PublicOriginOptions options) =>
        options.Origin is not { } origin || IsOrigin(origin) ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(
            $"Hosting:PublicOrigin is '{options.PublicOrigin}'; it must be the absolute http(s) URL clients reach this service at, " +
            "scheme, host and port only (no path, query, fragment or user), such as https://auth.example.com " +
            "(environment variable Hosting__PublicOrigin). Leave it empty to derive URLs from each request.");

    private static bool IsOrigin(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http" && uri.UserInfo.Length == 0 &&
        value.Equals(uri.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// The public origin, and the <c>Host</c> headers answered: a request naming another host is refused, so a shared
/// cache in front can never store a document built for <c>Host: evil.example</c>.
/// </summary>
public static class PublicOrigin
{
    public static IHostApplicationBuilder AddPublicOrigin(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<PublicOriginOptions>().BindConfiguration(PublicOriginOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<PublicOriginOptions>, PublicOriginOptionsValidator>();
        builder.Services.AddOptions<HostFilteringOptions>().PostConfigure<IOptions<PublicOriginOptions>, IConfiguration>((filtering, origin, configuration) =>
        {
            // The web host's defaults have already read AllowedHosts ("*" when unset). A host list configured on
            // purpose wins; the default "*" gives way to the public origin's host.
            if (origin.Value.Host is { } host && configuration["AllowedHosts"] is null or "" or "*")
            {
                filtering.AllowedHosts = [host];
            }
            // an empty 400, which UseStatusCodePages turns into problem+json, instead of an HTML page
            filtering.IncludeFailureMessage = false;
        });
        // The web host adds host filtering in a startup filter, in front of the whole pipeline, where nothing can
        // give its 400 a problem body. It is taken out here and put back in UseAllowedHosts, behind the error pages.
        var framework = builder.Services.Where(d => d.ServiceType == typeof(IStartupFilter) &&
            d.ImplementationType?.FullName == "Microsoft.AspNetCore.HostFilteringStartupFilter").ToList();
        foreach (var descriptor in framework)
        {
            builder.Services.Remove(descriptor);
        }
        return builder;
    }

    /// <summary>Refuses (400) a request whose <c>Host</c> is not in <c>AllowedHosts</c>; after UseApiErrors.</summary>
    public static WebApplication UseAllowedHosts(this WebApplication app)
    {
        app.UseHostFiltering();
        return app;
    }
}
