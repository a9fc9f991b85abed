using System.Text.Json;

namespace JwtApi.Hosting;

public static class HostingSetup
{
    /// <summary>The health checks <c>/health/ready</c> runs: what an instance needs before it should get traffic.</summary>
    public const string ReadyTag = "ready";

    public static IHostApplicationBuilder AddHosting(this IHostApplicationBuilder builder)
    {
        // snake_case on the wire, as OAuth's own names (access_token, expires_in) already are.
        builder.Services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            // also the keys of validation errors, so a field error names the field as the client sent it
            options.SerializerOptions.DictionaryKeyPolicy = JsonNamingPolicy.SnakeCaseLower;
            // No source-generated context: these options (a key policy, and ASP.NET Core's relaxed encoder, which
            // keeps "é" and "+" as they are) rule out its fast path, and with its metadata alone the profile showed
            // the same converter code as with the reflection resolver (docs/PERFORMANCE.md, "JSON bodies").
        });
        builder.Services.AddValidation();
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddSingleton<AuditLog>();
        return builder;
    }

    /// <summary>
    /// <c>/health</c>: 200 when the database answers, 503 when it does not. <c>/health/live</c>: 200 while the
    /// process serves requests, checking nothing else (a liveness probe, and the cheapest anonymous endpoint):
    /// restarting an instance does not bring a lost database back. <c>/health/ready</c>: the checks tagged
    /// <see cref="ReadyTag"/> (the database), for a load balancer deciding where to send requests.
    /// </summary>
    public static WebApplication MapHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health").AllowAnonymous().WithTags("Health");
        // checks nothing, so it needs none of the health-check machinery (a scope, a report, its writer): the same
        // answer and headers as the checks' endpoints, for a fraction of the cost, as often as probes come
        app.MapGet("/health/live", static (HttpResponse response) =>
        {
            response.Headers.CacheControl = "no-store, no-cache";
            response.Headers.Pragma = "no-cache";
            response.Headers.Expires = "Thu, 01 Jan 1970 00:00:00 GMT";
            return TypedResults.Text("Healthy", "text/plain");
        }).AllowAnonymous().WithTags("Health").ExcludeFromDescription();
        app.MapHealthChecks("/health/ready", new() { Predicate = check => check.Tags.Contains(ReadyTag) })
            .AllowAnonymous().WithTags("Health");
        return app;
    }
}
