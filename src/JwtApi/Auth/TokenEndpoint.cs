using System.ComponentModel.DataAnnotations;
using JwtApi.Clients;
using JwtApi.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace JwtApi.Auth;

/// <summary>The form <c>POST /token</c> takes (RFC 6749 §4.3.2, §4.4.2 and §6), as application/x-www-form-urlencoded.</summary>
/// <param name="GrantType">'password', 'refresh_token', 'client_credentials', or after an mfa_required answer 'urn:jwtapi:grant-type:mfa-otp' or 'urn:jwtapi:grant-type:mfa-recovery-code'.</param>
/// <param name="Username">grant_type=password: the username.</param>
/// <param name="Password">grant_type=password: the password.</param>
/// <param name="RefreshToken">grant_type=refresh_token: a refresh token from an earlier response.</param>
/// <param name="DeviceToken">grant_type=password: the device_token of an earlier response on this device (exempts it from the username-wide guessing limit).</param>
/// <param name="Scope">grant_type=client_credentials: the scopes wanted, space-separated, among the client's (none: all of them). Leave empty for a user's token: roles decide what it allows.</param>
/// <param name="Resource">grant_type=client_credentials (RFC 8707): the API the token is for, one of the client's audiences (none: its first).</param>
/// <param name="Audience">grant_type=client_credentials: the same as resource, under the name some client libraries use.</param>
/// <param name="MfaToken">The MFA grants: the mfa_token of the mfa_required answer.</param>
/// <param name="Otp">grant_type=urn:jwtapi:grant-type:mfa-otp: six digits from the authenticator app.</param>
/// <param name="RecoveryCode">grant_type=urn:jwtapi:grant-type:mfa-recovery-code: one of the recovery codes (used up).</param>
/// <param name="ClientId">grant_type=client_credentials with client_secret_post: the client's id. Ignored for a user's grant.</param>
/// <param name="ClientSecret">grant_type=client_credentials with client_secret_post: the client's secret (or use HTTP Basic, client_secret_basic; not both). Ignored for a user's grant.</param>
public sealed record TokenRequest(
    [property: Required] string GrantType, string? Username, string? Password, string? RefreshToken, string? DeviceToken, string? Scope,
    string? Resource, string? Audience, string? MfaToken, string? Otp, string? RecoveryCode, string? ClientId, string? ClientSecret);

/// <summary>
/// The password grant's answer for an account with two-factor sign-in on (the shape Auth0's MFA API made common):
/// send mfa_token with a code to the mfa-otp grant, or with a recovery code to the mfa-recovery-code grant.
/// </summary>
/// <param name="Error">Always mfa_required.</param>
/// <param name="ErrorDescription">What to do next.</param>
/// <param name="MfaToken">Good for a few minutes, at the MFA grants of this endpoint (or POST /login/mfa) only.</param>
public sealed record MfaRequiredError(string Error, string ErrorDescription, string MfaToken);

/// <summary>An OAuth 2.0 error response (RFC 6749 §5.2).</summary>
/// <param name="Error">invalid_request, invalid_grant, unsupported_grant_type or invalid_scope.</param>
/// <param name="ErrorDescription">What went wrong, for the developer of the client.</param>
public sealed record OAuthError(string Error, string ErrorDescription);

/// <summary>
/// The OAuth 2.0 token endpoint, for the tools that speak it (Swagger UI's Authorize dialog, Postman, OAuth
/// client libraries): the same sign-in as <c>/login</c> and <c>/refresh</c>, in RFC 6749's form encoding and
/// error format.
/// </summary>
public static class TokenEndpoint
{
    public const string Path = "/token";
    public const string PasswordGrant = "password";
    public const string RefreshTokenGrant = "refresh_token";
    public const string MfaOtpGrant = "urn:jwtapi:grant-type:mfa-otp";
    public const string MfaRecoveryCodeGrant = "urn:jwtapi:grant-type:mfa-recovery-code";
    public static readonly IReadOnlyList<string> GrantTypes =
        [PasswordGrant, RefreshTokenGrant, ClientCredentialsGrant.GrantType, MfaOtpGrant, MfaRecoveryCodeGrant];

    public static RouteHandlerBuilder MapTokenEndpoint(this IEndpointRouteBuilder app) =>
        app.MapPost(Path, Token).WithName(nameof(Token))
            .WithSummary("OAuth 2.0 token endpoint (RFC 6749): grant_type=password, refresh_token or client_credentials, form-encoded.")
            // documented, not enforced by routing: a JSON body gets RFC 6749's invalid_request, not a bare 415
            .WithMetadata(new FormBody(typeof(TokenRequest)))
            .Produces<TokenResponse>()
            .Produces<ClientTokenResponse>()
            .Produces<MfaRequiredError>(StatusCodes.Status403Forbidden)
            .Produces<OAuthError>(StatusCodes.Status400BadRequest)
            .Produces<OAuthError>(StatusCodes.Status401Unauthorized)
            .WithOAuthFormLimits();

    static async Task<Results<Ok<TokenResponse>, Ok<ClientTokenResponse>, JsonHttpResult<OAuthError>, JsonHttpResult<MfaRequiredError>, ProblemHttpResult>> Token(
        HttpRequest request, SignIn signIn, ClientCredentialsGrant clients, CancellationToken ct)
    {
        // RFC 6749 §5.1 for the tokens; the errors are not worth caching either.
        TokenResponses.NoStore(request.HttpContext.Response);
        var (form, invalid) = await OAuthForm.ReadAsync(request, ct);
        if (form is null)
        {
            return invalid!;
        }
        string? Parameter(string name) => form.Parameter(name);

        var grant = Parameter("grant_type");
        if (grant is PasswordGrant or RefreshTokenGrant or MfaOtpGrant or MfaRecoveryCodeGrant && Parameter("scope") is not null)
        {
            return Error("invalid_scope", "A user's token has no scopes: leave scope empty. What it allows is decided by the roles it carries.");
        }
        switch (grant)
        {
            case null:
                return InvalidRequest($"grant_type is required: {string.Join(", ", GrantTypes.Select(g => $"'{g}'"))}.");

            case ClientCredentialsGrant.GrantType:
                var outcome = await clients.IssueAsync(request, form, ct);
                if (outcome.RetryAfter is { } clientWait)
                {
                    return RateLimits.TooManyRequests(request.HttpContext.Response, clientWait);
                }
                return outcome switch
                {
                    { Token: { } clientToken } => TypedResults.Ok(clientToken),
                    { Status: StatusCodes.Status401Unauthorized } => OAuthForm.InvalidClient(request.HttpContext.Response, outcome.Error!.ErrorDescription),
                    _ => OAuthForm.Error(outcome.Error!.Error, outcome.Error.ErrorDescription, outcome.Status),
                };

            case PasswordGrant:
                if (Parameter("username") is not { } username || Parameter("password") is not { } password)
                {
                    return InvalidRequest("grant_type=password needs username and password.");
                }
                var login = await signIn.WithPasswordAsync(username, password, Parameter("device_token"), ct);
                if (login.RetryAfter is { } wait)
                {
                    return RateLimits.TooManyRequests(request.HttpContext.Response, wait);
                }
                if (login.MfaToken is { } mfaToken)
                {
                    return TypedResults.Json(new MfaRequiredError("mfa_required",
                        $"Two-factor sign-in is on: send mfa_token with otp (grant_type={MfaOtpGrant}) or recovery_code (grant_type={MfaRecoveryCodeGrant}).",
                        mfaToken.Token), statusCode: StatusCodes.Status403Forbidden);
                }
                return Tokens(login) is { } loggedIn ? loggedIn : Error("invalid_grant", "The username or password is incorrect.");

            case MfaOtpGrant or MfaRecoveryCodeGrant:
                var otp = grant == MfaOtpGrant ? Parameter("otp") : null;
                var recoveryCode = grant == MfaRecoveryCodeGrant ? Parameter("recovery_code") : null;
                if (Parameter("mfa_token") is not { } mfa || (otp ?? recoveryCode) is null)
                {
                    return InvalidRequest($"grant_type={grant} needs mfa_token and {(grant == MfaOtpGrant ? "otp" : "recovery_code")}.");
                }
                if (otp is not null && !Mfa.Totp.IsWellFormed(otp))
                {
                    return InvalidRequest("otp is six digits.");
                }
                var second = await signIn.WithSecondFactorAsync(mfa, otp, recoveryCode, ct);
                if (second.RetryAfter is { } mfaWait)
                {
                    return RateLimits.TooManyRequests(request.HttpContext.Response, mfaWait);
                }
                if (second.LoginAgain)
                {
                    return Error("invalid_grant", "The mfa_token is invalid or expired, or has had too many wrong codes. Log in again.");
                }
                return Tokens(second) is { } signedIn ? signedIn : Error("invalid_grant", "The code is incorrect, expired or already used.");

            case RefreshTokenGrant:
                if (Parameter("refresh_token") is not { } refreshToken)
                {
                    return InvalidRequest("grant_type=refresh_token needs refresh_token.");
                }
                return await signIn.WithRefreshTokenAsync(refreshToken, ct) is { } refreshed
                    ? TypedResults.Ok(TokenResponse.From(refreshed))
                    : Error("invalid_grant", "The refresh token is invalid, expired or revoked. Log in again.");

            default:
                return Error("unsupported_grant_type", $"This server supports grant_type {string.Join(", ", GrantTypes.Select(g => $"'{g}'"))}.");
        }
    }

    /// <summary>The token response of a completed sign-in (or its enrollment-only token), or null when it was refused.</summary>
    private static Ok<TokenResponse>? Tokens(SignInResult result) =>
        result.Tokens is { } pair ? TypedResults.Ok(TokenResponse.From(pair, device: result.DeviceToken))
        : result.EnrollmentToken is { } enrollment ? TypedResults.Ok(TokenResponse.ForEnrollment(enrollment, result.DeviceToken))
        : null;

    private static JsonHttpResult<OAuthError> InvalidRequest(string description) => OAuthForm.InvalidRequest(description);

    private static JsonHttpResult<OAuthError> Error(string error, string description) => OAuthForm.Error(error, description);
}
