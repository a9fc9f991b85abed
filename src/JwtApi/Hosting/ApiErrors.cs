using JwtApi.Auth;
using JwtApi.Storage;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;
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
internal sealed partial class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        var (status, title, detail, retryAfter) = exception switch
        {
            // not JSON at all: the reader's message says where, in the client's terms
            BadHttpRequestException { InnerException: JsonException { InnerException: JsonException } json } =>
                (400, "Invalid JSON body", $"The request body is not valid JSON: {json.Message}", null),
            // JSON of the wrong shape: answered below, naming the field and the JSON type it needs
            BadHttpRequestException { InnerException: JsonException } => (400, "Invalid JSON body", "", null),
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
            ProblemDetails = exception.InnerException is JsonException { InnerException: not JsonException } shape && detail.Length == 0
                ? WrongShape(http, shape)
                : new ProblemDetails { Status = status, Title = title, Detail = detail },
            Exception = exception,
        });
    }

    /// <summary>
    /// JSON that parsed but does not fit the endpoint (<c>{"username": 5}</c>, a body <c>[]</c>): the field as the
    /// client spelled it and the JSON type it needs. System.Text.Json's own message names the .NET type it could
    /// not make ("could not be converted to JwtApi.Auth.LoginRequest"): our internals, and no help to a client.
    /// </summary>
    private static HttpValidationProblemDetails WrongShape(HttpContext http, JsonException json)
    {
        var path = json.Path ?? "$";
        var field = path == "$" ? null : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path[1..];
        var expected = ExpectedJsonType(http, path);
        var message = (field, expected) switch
        {
            (null, { } type) => $"The request body must be a JSON {type}.",
            (null, null) => "The request body does not have the shape this endpoint expects.",
            (_, { } type) => $"The field '{field}' must be a JSON {type}.",
            _ => $"The field '{field}' has a value of the wrong type.",
        };
        return new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field ?? "$"] = [message] })
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "Invalid JSON body",
            Detail = message,
        };
    }

    /// <summary>
    /// What JSON type the endpoint's body needs at <paramref name="path"/> (string, number, boolean, array, object),
    /// found by walking the body type's JSON contract the way the serializer read it; null if it cannot be told.
    /// </summary>
    private static string? ExpectedJsonType(HttpContext http, string path)
    {
        // the exception handler has already cleared the request's endpoint; its feature keeps the one that threw
        var endpoint = http.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? http.GetEndpoint();
        var type = endpoint?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType;
        var options = http.RequestServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        foreach (Match segment in PathSegment().Matches(path))
        {
            if (type is null)
            {
                return null;
            }
            var info = options.GetTypeInfo(type);
            type = segment.Groups["index"].Success
                ? info.ElementType
                : info.Properties.FirstOrDefault(p => string.Equals(p.Name,
                    segment.Groups["name"].Success ? segment.Groups["name"].Value : segment.Groups["quoted"].Value.Replace("''", "'", StringComparison.Ordinal),
                    options.PropertyNameCaseInsensitive ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal))?.PropertyType;
        }
        if (type is null)
        {
            return null;
        }
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string) || type == typeof(Guid) || type == typeof(DateTimeOffset) || type == typeof(DateTime) ||
            type == typeof(TimeSpan) || type == typeof(char) || type == typeof(Uri))
        {
            return "string";
        }
        if (type == typeof(bool))
        {
            return "boolean";
        }
        if (type.IsPrimitive || type == typeof(decimal) || type.IsEnum)
        {
            return "number";
        }
        return options.GetTypeInfo(type).Kind switch
        {
            JsonTypeInfoKind.Enumerable => "array",
            JsonTypeInfoKind.Object or JsonTypeInfoKind.Dictionary => "object",
            _ => null,
        };
    }

    /// <summary>One step of System.Text.Json's path: <c>.name</c>, <c>['odd name']</c> or <c>[0]</c>.</summary>
    [GeneratedRegex(@"\.(?<name>[^.\[]+)|\['(?<quoted>(?:[^']|'')*)'\]|\[(?<index>\d+)\]")]
    private static partial Regex PathSegment();

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
