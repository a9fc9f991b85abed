using JwtApi.Hosting;
using Microsoft.AspNetCore.Mvc;

namespace JwtApi.Tokens;

/// <summary>A refusal of the bearer token: its RFC 6750 challenge header and its RFC 9457 body, which repeats the error code.</summary>
public sealed record BearerProblem(string Reason, string Challenge, ProblemDetails Details);

/// <summary>
/// The 401 and 403 answers about the caller's token, one wording whether JwtBearer refuses the token
/// (<see cref="BearerEvents"/>) or a write finds the account changed since the token was issued (<c>CurrentUser</c>).
/// </summary>
public static class BearerProblems
{
    /// <summary>RFC 6750 §3.1: no token was sent, so no error code, just the scheme to use.</summary>
    public static BearerProblem NoToken() => new("", "Bearer", new ProblemDetails
    {
        Status = StatusCodes.Status401Unauthorized,
        Title = "Authentication required",
        Detail = "Send an access token from POST /login as 'Authorization: Bearer <token>'.",
    });

    public static BearerProblem InvalidToken(BearerEvents.Failure failure) => new(
        failure.Reason,
        $"Bearer error=\"invalid_token\", error_description=\"{failure.Description}\"",
        new ProblemDetails
        {
            Status = StatusCodes.Status401Unauthorized,
            Title = "Invalid token",
            Detail = failure.Description,
            Extensions = { ["error"] = "invalid_token", ["reason"] = failure.Reason },
        });

    /// <summary>The token was revoked, or the account changed since it was issued (disabled, deleted, logged out).</summary>
    public static BearerProblem TokenRevoked() => InvalidToken(BearerEvents.Describe(new SecurityTokenRevokedException("")));

    /// <summary>
    /// A valid token that does not show the second factor the endpoint requires (<c>mfa_required</c>), or that can
    /// only turn one on (<c>mfa_enrollment_required</c>): RFC 9470's error code, with 403 as for a missing role.
    /// </summary>
    public static BearerProblem SecondFactorRequired(string reason)
    {
        var description = reason == Reasons.MfaEnrollmentRequired
            ? "This token can only turn on two-factor sign-in (POST /me/mfa/totp); log in again after."
            : "This endpoint requires a login with a second factor; log in again with a code.";
        return new(reason, $"Bearer error=\"insufficient_user_authentication\", error_description=\"{description}\"", new ProblemDetails
        {
            Status = StatusCodes.Status403Forbidden,
            Title = "Second factor required",
            Detail = description,
            Extensions = { ["error"] = "insufficient_user_authentication", ["reason"] = reason },
        });
    }

    /// <summary>Writes <paramref name="problem"/>: its status, its challenge header and its problem+json body.</summary>
    public static ValueTask WriteAsync(HttpContext http, BearerProblem problem)
    {
        http.Response.StatusCode = problem.Details.Status!.Value;
        http.Response.Headers.WWWAuthenticate = problem.Challenge;
        return http.RequestServices.GetRequiredService<IProblemDetailsService>()
            .WriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem.Details });
    }

    /// <summary>A valid token whose caller does not hold the role the endpoint requires (any longer).</summary>
    public static BearerProblem MissingRole()
    {
        const string description = "The token does not carry a role this endpoint requires.";
        return new(Reasons.MissingRole, $"Bearer error=\"insufficient_scope\", error_description=\"{description}\"", new ProblemDetails
        {
            Status = StatusCodes.Status403Forbidden,
            Title = "Forbidden",
            Detail = description,
            Extensions = { ["error"] = "insufficient_scope", ["reason"] = Reasons.MissingRole },
        });
    }
}
