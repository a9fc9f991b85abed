namespace JwtApi.Hosting;

/// <summary>
/// <c>dotnet JwtApi.dll health [url]</c>: asks a running instance whether it is ready and exits 0 (yes) or 1
/// (no answer, or not 200). The container's HEALTHCHECK, because the runtime image has no curl or wget and
/// should not gain a tool an intruder could use. Nothing else starts: no configuration, keys or database.
/// </summary>
public static class HealthProbe
{
    public static bool Matches(string[] args) => args is ["health", ..];

    /// <summary>Readiness of the instance on this machine's first <c>ASPNETCORE_HTTP_PORTS</c> port (8080 in the image).</summary>
    public static Uri DefaultUrl(string? httpPorts)
    {
        var port = httpPorts?.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .FirstOrDefault() ?? "8080";
        return new Uri($"http://127.0.0.1:{port}/health/ready");
    }

    /// <summary>
    /// The Host the probe names: the public origin's (<c>Hosting__PublicOrigin</c>), when set, because AllowedHosts
    /// then answers 400 to the loopback address it connects to. Null: the URL's own.
    /// </summary>
    public static string? HostHeader(string? publicOrigin) =>
        Uri.TryCreate(publicOrigin?.Trim(), UriKind.Absolute, out var origin) && origin.Scheme is "http" or "https" ? origin.Authority : null;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        Uri? url;
        switch (args)
        {
            case ["health"]:
                url = DefaultUrl(Environment.GetEnvironmentVariable("ASPNETCORE_HTTP_PORTS"));
                break;
            case ["health", var given] when Uri.TryCreate(given, UriKind.Absolute, out url) && url.Scheme is "http" or "https":
                break;
            default:
                error.WriteLine("usage: health [http://127.0.0.1:8080/health/ready]");
                return 2;
        }
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Host = HostHeader(Environment.GetEnvironmentVariable("Hosting__PublicOrigin"));
            using var response = await client.SendAsync(request);
            output.WriteLine($"{url}: {(int)response.StatusCode}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            error.WriteLine($"{url}: no answer ({e.Message})");
            return 1;
        }
    }
}
