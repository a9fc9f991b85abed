using Microsoft.AspNetCore.Http.HttpResults;

namespace JwtApi.Hosting;

/// <summary>The expected failures of the API, each with one wording everywhere it occurs.</summary>
public static class Problems
{
    /// <summary>One answer whether the user is unknown, the password wrong or the account disabled.</summary>
    public static ProblemHttpResult InvalidCredentials() => TypedResults.Problem(
        statusCode: StatusCodes.Status401Unauthorized,
        title: "Invalid credentials",
        detail: "The username or password is incorrect.");

    /// <summary>One answer for every refusal at /refresh: which check failed would help an attacker, not a client.</summary>
    public static ProblemHttpResult InvalidRefreshToken() => TypedResults.Problem(
        statusCode: StatusCodes.Status401Unauthorized,
        title: "Invalid refresh token",
        detail: "The refresh token is invalid, expired or revoked. Log in again.");

    /// <summary>A refresh by cookie without proof that a page allowed to ask sent it (see RefreshCookie).</summary>
    public static ProblemHttpResult CsrfRefused(string reason) => TypedResults.Problem(
        statusCode: StatusCodes.Status403Forbidden,
        title: "Cross-site request refused",
        detail: reason == Reasons.OriginNotAllowed
            ? "A refresh by cookie is accepted only from this service's own pages and Cors:AllowedOrigins."
            : "A refresh by cookie needs the header 'X-JwtApi-CSRF: 1' (a page of another site cannot send it).",
        extensions: new Dictionary<string, object?> { ["reason"] = reason });

    /// <summary>The refresh cookie came twice (one may be planted by a sibling subdomain): neither is used.</summary>
    public static ProblemHttpResult RefreshCookieDuplicated() => TypedResults.Problem(
        statusCode: StatusCodes.Status400BadRequest,
        title: "Refresh cookie sent twice",
        detail: "The request carries two refresh cookies (another site of the same domain may have set one); neither is used. Sign in again.",
        extensions: new Dictionary<string, object?> { ["reason"] = Reasons.RefreshCookieDuplicated });

    public static ProblemHttpResult UsernameTaken() => TypedResults.Problem(
        statusCode: StatusCodes.Status409Conflict,
        title: "Username taken",
        detail: "That username is already in use (usernames are compared without regard to case).");

    public static ProblemHttpResult UserNotFound() => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "User not found",
        detail: "No user has that id.");

    public static ProblemHttpResult LastAdmin() => TypedResults.Problem(
        statusCode: StatusCodes.Status409Conflict,
        title: "Last admin",
        detail: "This is the last enabled admin: make another user admin first.");

    public static ProblemHttpResult RegistrationClosed() => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "Registration is closed",
        detail: "Self-registration is turned off (Auth:AllowRegistration); ask an admin for an account.");

    public static ProblemHttpResult TooManyRequests(int retryAfterSeconds) => TypedResults.Problem(
        statusCode: StatusCodes.Status429TooManyRequests,
        title: "Too many requests",
        detail: $"Too many attempts; try again in {retryAfterSeconds} seconds (see Retry-After).");
}
