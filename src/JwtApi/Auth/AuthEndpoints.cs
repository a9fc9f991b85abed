using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Text.Json.Serialization;
using JwtApi.Hosting;
using JwtApi.Mail;
using JwtApi.Storage;
using JwtApi.Tokens;
using JwtApi.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace JwtApi.Auth;

/// <summary>Credentials for <c>POST /login</c>.</summary>
/// <param name="Username">Case-insensitive.</param>
/// <param name="Password">The account's password.</param>
/// <param name="RefreshCookie">Browsers: true puts the refresh token in an HttpOnly cookie for /refresh instead of the body
/// (and the device token in a cookie for /login as well).</param>
/// <param name="DeviceToken">The device_token of an earlier login on this device (browsers in cookie mode send it as a
/// cookie instead): exempts this login from the username-wide guessing limit. It never makes a wrong password right.</param>
public sealed record LoginRequest(
    [property: Required, MaxLength(256), Display(Name = "username")] string Username,
    [property: Required, MaxLength(1024), Display(Name = "password")] string Password,
    [property: Display(Name = "refresh_cookie")] bool RefreshCookie = false,
    [property: MaxLength(DeviceTokens.MaxTokenLength), Display(Name = "device_token")] string? DeviceToken = null);

/// <summary>A new account for <c>POST /register</c>.</summary>
/// <param name="Username">3-64 letters, digits, '.', '_' or '-'; unique regardless of case.</param>
/// <param name="Password">8-128 characters and at most 72 bytes in UTF-8 (BCrypt's limit).</param>
/// <param name="Email">Optional: where a forgotten password's reset link goes, once verified through the mail sent to it.</param>
public sealed record RegisterRequest(
    [property: Required, Display(Name = "username"), StringLength(User.UsernameMaxLength, MinimumLength = User.UsernameMinLength),
     RegularExpression(User.UsernamePattern, ErrorMessage = "The username may hold only letters, digits, '.', '_' and '-'.")]
    string Username,
    [property: Required, MaxLength(1024), Display(Name = "password")] string Password,
    [property: MaxLength(EmailAddress.MaxLength), Display(Name = "email")] string? Email = null);

/// <summary>A refresh token to exchange at <c>POST /refresh</c>.</summary>
/// <param name="RefreshToken">Required, unless the browser sends the refresh cookie (then omit the body).</param>
public sealed record RefreshRequest([property: MaxLength(8192), Display(Name = "refresh_token")] string? RefreshToken);

/// <summary>Optional body of <c>POST /logout</c>.</summary>
/// <param name="RefreshToken">The refresh token of this device: its whole family is revoked.</param>
public sealed record LogoutRequest([property: MaxLength(8192), Display(Name = "refresh_token")] string? RefreshToken);

/// <summary>An OAuth 2.0 token response (RFC 6749 §5.1).</summary>
/// <param name="AccessToken">The signed JWT to send as 'Authorization: Bearer &lt;token&gt;'.</param>
/// <param name="TokenType">Always "Bearer".</param>
/// <param name="ExpiresIn">Seconds until the access token expires.</param>
/// <param name="RefreshToken">Exchange it at POST /refresh for a new pair before it expires. Keep it secret. Absent in cookie mode.</param>
/// <param name="RefreshTokenExpiresIn">Seconds until the refresh token expires (unused for this long, the login ends).</param>
/// <param name="DeviceToken">After a password login: keep it and send it with this device's next login (device_token),
/// so a flood of guesses against the username from elsewhere does not lock this device out. Ends with a password
/// change or a log-out everywhere.</param>
/// <param name="MfaEnrollmentRequired">True when the access token can only turn on two-factor sign-in (Auth:RequireMfaFor):
/// no refresh token comes with it; POST /me/mfa/totp, then POST /me/mfa/totp/confirm, which answers a full login.</param>
public sealed record TokenResponse(
    string AccessToken, string TokenType, int ExpiresIn,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RefreshToken,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? RefreshTokenExpiresIn,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? DeviceToken = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? MfaEnrollmentRequired = null)
{
    public static TokenResponse From(TokenPair pair, bool refreshInCookie = false, IssuedToken? device = null) => new(
        pair.Access.Token, "Bearer", (int)pair.Access.Lifetime.TotalSeconds,
        refreshInCookie ? null : pair.Refresh.Token, (int)pair.Refresh.Lifetime.TotalSeconds, device?.Token);

    /// <summary>An enrollment-only token: no refresh token, so the login ends when it expires unless the second factor is turned on.</summary>
    public static TokenResponse ForEnrollment(IssuedToken access, IssuedToken? device) => new(
        access.Token, "Bearer", (int)access.Lifetime.TotalSeconds, null, null, device?.Token, MfaEnrollmentRequired: true);
}

public static class AuthEndpoints
{
    /// <summary>
    /// The largest body an endpoint taking credentials or tokens accepts: a refresh token is under 1 KB and
    /// every field has a smaller limit of its own. Kestrel answers a larger one 413 before it is read.
    /// </summary>
    public static readonly RequestSizeLimitAttribute MaxBody = new(16 * 1024);

    public static IEndpointRouteBuilder MapAuth(this IEndpointRouteBuilder app)
    {
        var auth = app.MapGroup("").WithTags("Auth").AllowAnonymous().RequireRateLimiting(RateLimits.PerAddressPolicy)
            .WithMetadata(MaxBody).ProducesProblem(StatusCodes.Status429TooManyRequests);
        auth.MapPost("/register", Register).WithName(nameof(Register))
            .WithSummary("Create an account with the role 'user'.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status404NotFound);
        auth.MapPost("/login", Login).WithName(nameof(Login))
            .WithSummary("Exchange a username and password for a short-lived access token and a refresh token.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status401Unauthorized);
        auth.MapPost("/refresh", Refresh).WithName(nameof(Refresh))
            .WithSummary("Exchange a refresh token (body, or the browser's refresh cookie with X-JwtApi-CSRF) for a new access token and a new refresh token (rotation).")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        auth.MapTokenEndpoint();

        var session = app.MapGroup("/logout").WithTags("Auth").RequireAuthorization().WithMetadata(MaxBody)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        session.MapPost("", Logout).WithName(nameof(Logout))
            .WithSummary("Log out this device: revoke this access token and its login's refresh tokens.")
            .ProducesValidationProblem();
        session.MapPost("/all", LogoutEverywhere).WithName(nameof(LogoutEverywhere))
            .WithSummary("Log out every device: every refresh token and every earlier access token of the caller stops working.");
        return app;
    }

    static async Task<Results<Created<UserResponse>, ValidationProblem, ProblemHttpResult>> Register(
        RegisterRequest body, UserAccounts accounts, IOptions<AuthOptions> options, IOptions<MailOptions> mailOptions,
        MailQueue mail, CancellationToken ct)
    {
        if (!options.Value.AllowRegistration)
        {
            return Problems.RegistrationClosed();
        }
        var email = UserAccounts.ParseEmail(body.Email, mailOptions.Value.Enabled, out var emailErrors);
        if (emailErrors is not null)
        {
            return TypedResults.ValidationProblem(emailErrors);
        }
        var prepared = await accounts.PrepareAsync(body.Username, body.Password, [Roles.User], email, ct);
        if (prepared.User is not { } user)
        {
            return prepared.ToHttpResult();
        }
        var created = await accounts.AddAsync(user, ct);
        if (created.User is not null && UserAccounts.Verification(user) is { } verification)
        {
            mail.Enqueue(verification);
        }
        return created.ToHttpResult();
    }

    static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> Login(
        LoginRequest body, SignIn signIn, RefreshCookie cookie, DeviceCookie deviceCookie, HttpRequest request,
        HttpResponse response, CancellationToken ct)
    {
        // the body's token wins, as at /refresh
        var deviceToken = body.DeviceToken is { Length: > 0 } given ? given : deviceCookie.Read(request);
        var result = await signIn.WithPasswordAsync(body.Username, body.Password, deviceToken, ct);
        if (result.MfaToken is { } mfaToken)
        {
            TokenResponses.NoStore(response);
            return Mfa.MfaProblems.MfaRequired(mfaToken);
        }
        return result.Tokens is null && result.EnrollmentToken is null && result.RetryAfter is null
            ? Problems.InvalidCredentials()
            : TokenResponses.ForSignIn(result, body.RefreshCookie, cookie, deviceCookie, response);
    }

    static async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> Refresh(
        RefreshRequest? body, SignIn signIn, RefreshCookie cookie, HttpRequest request, HttpResponse response,
        CancellationToken ct)
    {
        // A token in the body wins: bearer clients (curl, mobile) work as they always did, cookie or not.
        var fromCookie = string.IsNullOrEmpty(body?.RefreshToken) ? cookie.Read(request) : null;
        var token = body?.RefreshToken is { Length: > 0 } given ? given : fromCookie;
        if (token is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["refresh_token"] = ["The refresh_token field is required."],
            });
        }
        if (fromCookie is not null && cookie.SentTwice(request))
        {
            signIn.RefuseRefresh(null, Reasons.RefreshCookieDuplicated);
            cookie.Clear(response);
            return Problems.RefreshCookieDuplicated();
        }
        if (fromCookie is not null && cookie.CsrfRefusal(request) is { } csrf)
        {
            signIn.RefuseRefresh(null, csrf);
            return Problems.CsrfRefused(csrf);
        }
        if (await signIn.WithRefreshTokenAsync(token, ct) is not { } pair)
        {
            if (fromCookie is not null)
            {
                cookie.Clear(response);   // dead: the page should stop sending it and sign in again
            }
            return Problems.InvalidRefreshToken();
        }
        return TokenResponses.Ok(response, pair, cookie, fromCookie is not null || cookie.Wanted(false));
    }

    /// <remarks>
    /// The refresh cookie never comes here (its path is /refresh), and need not: the access token's sid names the
    /// login, whose every refresh token dies with it. A bearer header is not sent by a browser on its own, so a
    /// cross-site page cannot log a user out either. In cookie mode the answer also clears the cookie.
    /// </remarks>
    static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Logout(
        LogoutRequest? body, ClaimsPrincipal caller, CurrentUser currentUser, AppDb db, RefreshTokens refreshTokens,
        TokenRevoker revoker, RefreshCookie cookie, HttpResponse response, CancellationToken ct)
    {
        var access = AccessTokenClaims.Of(caller);
        RefreshClaims? presented = null;
        if (!string.IsNullOrEmpty(body?.RefreshToken))
        {
            // an expired refresh token still names its family; one of another user's never does
            var claims = await refreshTokens.ReadAsync(body.RefreshToken, allowExpired: true);
            if (claims is null || claims.UserId.ToString() != access.UserId)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]>
                {
                    ["refresh_token"] = ["This is not a refresh token of the caller."],
                });
            }
            presented = claims;
        }
        await using var write = await currentUser.BeginWriteAsync(role: null, ct);
        if (write.Refusal is { } refusal)
        {
            return refusal;
        }
        revoker.AccessToken(access.TokenId, access.ExpiresAt);
        // a presented refresh token's auth_time bounds how long its family's row must stay (see TokenRevoker.Family)
        if (access.FamilyId is { } family)
        {
            revoker.Family(family, family == presented?.FamilyId ? presented.AuthTime : null);
        }
        if (presented is not null && presented.FamilyId != access.FamilyId)
        {
            revoker.Family(presented.FamilyId, presented.AuthTime);
        }
        await db.SaveChangesAsync(ct);
        await write.CommitAsync(ct);
        cookie.Clear(response);
        return TypedResults.NoContent();
    }

    static async Task<Results<NoContent, ProblemHttpResult>> LogoutEverywhere(
        ClaimsPrincipal caller, CurrentUser currentUser, AppDb db, TokenRevoker revoker, CancellationToken ct)
    {
        var access = AccessTokenClaims.Of(caller);
        await using var write = await currentUser.BeginWriteAsync(role: null, ct);
        if (write.Caller is not { } user)
        {
            return write.Refusal!;
        }
        revoker.EndAllTokensOf(user);
        revoker.AccessToken(access.TokenId, access.ExpiresAt);
        await db.SaveChangesAsync(ct);
        await write.CommitAsync(ct);
        return TypedResults.NoContent();
    }
}

internal static class TokenResponses
{
    /// <summary>A token response: the refresh token in the body, or in the cookie and not in the body.</summary>
    public static Ok<TokenResponse> Ok(HttpResponse response, TokenPair pair, RefreshCookie cookie, bool inCookie, IssuedToken? device = null)
    {
        NoStore(response);
        if (inCookie)
        {
            cookie.Set(response, pair.Refresh);
        }
        return TypedResults.Ok(TokenResponse.From(pair, inCookie, device));
    }

    /// <summary>
    /// The answer to a sign-in that did not fail: 429 when throttled, else the tokens (or the enrollment-only token)
    /// with the device token, in cookies when the browser asked for them.
    /// </summary>
    public static Results<Ok<TokenResponse>, ProblemHttpResult> ForSignIn(
        SignInResult result, bool refreshCookie, RefreshCookie cookie, DeviceCookie deviceCookie, HttpResponse response)
    {
        if (result.RetryAfter is { } wait)
        {
            return RateLimits.TooManyRequests(response, wait);
        }
        var inCookie = cookie.Wanted(refreshCookie);
        if (inCookie && result.DeviceToken is { } device)
        {
            deviceCookie.Set(response, device);
        }
        if (result.EnrollmentToken is { } enrollment)
        {
            NoStore(response);
            return TypedResults.Ok(TokenResponse.ForEnrollment(enrollment, result.DeviceToken));
        }
        return Ok(response, result.Tokens!, cookie, inCookie, result.DeviceToken);
    }

    /// <summary>RFC 6749 §5.1: token responses must not be cached by browsers or proxies.</summary>
    public static void NoStore(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
    }
}
