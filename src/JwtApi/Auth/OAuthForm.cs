using System.Net.Mime;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace JwtApi.Auth;

/// <summary>
/// The form of the OAuth endpoints (<c>/token</c>, <c>/revoke</c>, <c>/introspect</c>): read once, the same way,
/// with their RFC 6749 §5.2 error for anything that is not one well-formed form.
/// </summary>
public static class OAuthForm
{
    // No parameter of a valid request comes near these; anything larger is not one of our requests.
    public const int MaxParameters = 16;
    public const int MaxValueLength = 8192;

    /// <summary>Applies the limits above to an endpoint that reads an OAuth form.</summary>
    public static RouteHandlerBuilder WithOAuthFormLimits(this RouteHandlerBuilder endpoint) =>
        endpoint.WithFormOptions(valueCountLimit: MaxParameters, valueLengthLimit: MaxValueLength, keyLengthLimit: 64);

    /// <summary>The form, or the invalid_request answer: not form-encoded, unreadable or over the limits, a parameter sent twice.</summary>
    public static async Task<(IFormCollection? Form, JsonHttpResult<OAuthError>? Invalid)> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType) ||
            !contentType.MediaType.Equals(MediaTypeNames.Application.FormUrlEncoded, StringComparison.OrdinalIgnoreCase))
        {
            return (null, InvalidRequest("Send the parameters form-encoded, with 'Content-Type: application/x-www-form-urlencoded' (RFC 6749 §4.3.2)."));
        }
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(ct);
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException)
        {
            return (null, InvalidRequest($"The form could not be read: at most {MaxParameters} parameters of at most {MaxValueLength} characters each."));
        }
        // RFC 6749 §3.2: a parameter must not be sent twice; one without a value counts as not sent (§3.1).
        if (form.FirstOrDefault(p => p.Value.Count > 1) is { Key: { } repeated })
        {
            return (null, InvalidRequest($"The parameter '{repeated}' is sent more than once."));
        }
        return (form, null);
    }

    /// <summary>A parameter's value; one sent empty counts as not sent (RFC 6749 §3.1).</summary>
    public static string? Parameter(this IFormCollection form, string name) =>
        form.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value) ? value.ToString() : null;

    public static JsonHttpResult<OAuthError> InvalidRequest(string description) => Error("invalid_request", description);

    /// <summary>RFC 6749 §5.2: a client's authentication failed: 401 with a challenge for the scheme it may use.</summary>
    public static JsonHttpResult<OAuthError> InvalidClient(HttpResponse response, string description)
    {
        response.Headers.WWWAuthenticate = "Basic realm=\"jwtapi\"";
        return Error("invalid_client", description, StatusCodes.Status401Unauthorized);
    }

    /// <summary>RFC 6749 §5.2: a JSON error body, 400 unless said otherwise (401 is for client authentication).</summary>
    public static JsonHttpResult<OAuthError> Error(string error, string description, int status = StatusCodes.Status400BadRequest) =>
        TypedResults.Json(new OAuthError(error, description), statusCode: status);
}
