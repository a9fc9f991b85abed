using JwtApi.Auth;
using JwtApi.Storage;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;

namespace JwtApi.Hosting;

/// <summary>Every error the service sends is application/problem+json (RFC 9457).</summary>
public static class ApiErrors
{
    public static IHostApplicationBuilder AddApiErrors(this IHostApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            // ASP.NET Core names the trace id after the JSON naming policy (trace_id under snake_case); keep the
            // name that clients and log tooling know from every other ASP.NET Core service.
            if (context.ProblemDetails.Extensions.Remove("trace_id", out var traceId))
            {
                context.ProblemDetails.Extensions["traceId"] = traceId;
            }
        });
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();
        // Binding failures (malformed JSON, wrong content type, a bad query value) reach the handler above with
        // their reason instead of becoming an empty 400.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        return builder;
    }

    public static WebApplication UseApiErrors(this WebApplication app)
    {
        // Unhandled exceptions become a 500 problem with no exception details, in every environment.
        app.UseExceptionHandler();
        // 404 for unknown routes, 405 for wrong methods: a problem body instead of an empty one.
        app.UseStatusCodePages();
        return app;
    }
}

/// <summary>Client mistakes caught while binding the request: answered 4xx with what was wrong.</summary>
internal sealed class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        var (status, title, detail, retryAfter) = exception switch
        {
            BadHttpRequestException { InnerException: JsonException json } =>
                (400, "Invalid JSON body", $"The request body is not valid JSON for this endpoint: {json.Message}", null),
            BadHttpRequestException { StatusCode: 415 } =>
                (415, "Unsupported media type", "Send the request body as JSON with 'Content-Type: application/json'.", null),
            // The framework's JSON reading throws this, unhandled, for a charset .NET has no encoding for: a made-up
            // one, or even a quoted "utf-8" (dotnet/aspnetcore#61514). The client's Content-Type is at fault.
            InvalidOperationException { InnerException: ArgumentException } when HasUnknownCharset(http.Request) =>
                (415, "Unsupported media type", "Send the request body as UTF-8 JSON with 'Content-Type: application/json' (no charset, or charset=utf-8 unquoted).", null),
            BadHttpRequestException { StatusCode: 413 } =>
                (413, "Request too large", "The request body is too large.", null),
            BadHttpRequestException bad when bad.Message.Contains("no body was provided", StringComparison.Ordinal) =>
                (400, "Missing body", "A JSON request body is required.", null),
            BadHttpRequestException bad => (bad.StatusCode, "Bad request", bad.Message, null),
            // BCrypt's queue is full: a flood of logins, answered without starving the protected endpoints.
            // A queue drains in about a BCrypt computation: a retry soon.
            PasswordHashingBusyException =>
                (503, "Busy", "Too many password checks are waiting; try again in a moment (see Retry-After).", "1"),
            // Two admins changed the same user at once; the second should re-read and retry.
            DbUpdateConcurrencyException =>
                (409, "Conflict", "The user was changed by another request at the same time; read it again and retry.", null),
            // PostgreSQL down or restarting, SQLite locked: only the endpoints that read the database fail, and
            // a balancer or client should come back, not report a bug. Requests with a valid token still work.
            _ when DatabaseErrors.IsUnavailable(exception) =>
                (503, "Database unavailable", "The user database cannot be reached right now; try again shortly (see Retry-After).", "5"),
            _ => (0, "", "", (string?)null),
        };
        if (status == 0)
        {
            return false;
        }
        http.Response.StatusCode = status;
        if (retryAfter is not null)
        {
            http.Response.Headers.RetryAfter = retryAfter;
        }
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
            Exception = exception,
        });
    }

    private static bool HasUnknownCharset(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type) || !type.Charset.HasValue)
        {
            return false;
        }
        try
        {
            _ = Encoding.GetEncoding(type.Charset.ToString());
            return false;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }
}
