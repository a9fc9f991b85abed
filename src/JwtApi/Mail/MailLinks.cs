using System.Net;
using JwtApi.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace JwtApi.Mail;

internal enum LinkTemplate
{
    Invalid,
    Absolute,
    Relative,
}

/// <summary>
/// The absolute URLs mails carry, from <c>Mail:Links</c>. A template that is a path is resolved against
/// <c>Hosting:PublicOrigin</c>; without one, in Development only, against the server's own first address.
/// </summary>
/// <remarks>
/// Never from the request that asked for the mail: a reset link built from the <c>Host</c> (or
/// <c>X-Forwarded-Host</c>) header of <c>/password/forgot</c> would let anyone send a victim a genuine mail whose
/// link carries the victim's token to the attacker's host (reset-link poisoning). That is why this class takes
/// no <c>HttpContext</c>, and why start-up refuses a path template outside Development without a public origin.
/// </remarks>
public sealed class MailLinks(IOptions<MailOptions> options, IOptions<PublicOriginOptions> origin, IHostEnvironment env, IServer server)
{
    /// <summary>When a Development server reports no address (a test server): the container's usual port.</summary>
    public const string DevelopmentFallback = "http://localhost:8080";

    /// <summary>The link of a password-reset mail carrying <paramref name="token"/>.</summary>
    public string Reset(string token) => Link(options.Value.Links.ResetUrl, token);

    /// <summary>The link of an address-verification mail carrying <paramref name="token"/>.</summary>
    public string Verify(string token) => Link(options.Value.Links.VerifyUrl, token);

    internal static LinkTemplate Classify(string? template)
    {
        if (template is null || !template.Contains(MailLinkOptions.Token, StringComparison.Ordinal))
        {
            return LinkTemplate.Invalid;
        }
        var sample = template.Replace(MailLinkOptions.Token, "token", StringComparison.Ordinal);
        // "//evil.example/x" is a path to a browser's eyes only until it is resolved: then it is another host
        if (sample.StartsWith('/') && !sample.StartsWith("//", StringComparison.Ordinal) && !sample.StartsWith("/\\", StringComparison.Ordinal))
        {
            return Uri.TryCreate("http://localhost" + sample, UriKind.Absolute, out _) ? LinkTemplate.Relative : LinkTemplate.Invalid;
        }
        return Uri.TryCreate(sample, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http" && uri.UserInfo.Length == 0
            ? LinkTemplate.Absolute
            : LinkTemplate.Invalid;
    }

    private string Link(string template, string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        var link = template.Replace(MailLinkOptions.Token, Uri.EscapeDataString(token), StringComparison.Ordinal);
        return Classify(template) == LinkTemplate.Relative ? Origin() + link : link;
    }

    private string Origin() =>
        origin.Value.Origin
        ?? (env.IsDevelopment()
            ? OwnAddress() ?? DevelopmentFallback
            : throw new InvalidOperationException("A mail link template is a path and Hosting:PublicOrigin is not set."));

    /// <summary>The first address the server listens on, a wildcard host (0.0.0.0, [::], +) named localhost.</summary>
    private string? OwnAddress()
    {
        var first = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        if (first is null || first.StartsWith("unix:", StringComparison.Ordinal) || first.StartsWith("pipe:", StringComparison.Ordinal))
        {
            return null;
        }
        var address = Microsoft.AspNetCore.Http.BindingAddress.Parse(first);
        var host = address.Host.Trim('[', ']');
        var wildcard = host is "+" or "*" || (IPAddress.TryParse(host, out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)));
        return $"{address.Scheme}://{(wildcard ? "localhost" : address.Host)}:{address.Port}";
    }
}
