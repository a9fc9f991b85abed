using System.ComponentModel.DataAnnotations;
using JwtApi.Hosting;
using JwtApi.Storage;
using JwtApi.Tokens;
using JwtApi.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace JwtApi.Auth;

/// <summary>Credentials for <c>POST /login</c>.</summary>
/// <param name="Username">Case-insensitive.</param>
/// <param name="Password">The account's password.</param>
public sealed record LoginRequest(
    [property: Required, MaxLength(256), Display(Name = "username")] string Username,
    [property: Required, MaxLength(1024), Display(Name = "password")] string Password);

/// <summary>A new account for <c>POST /register</c>.</summary>
/// <param name="Username">3-64 letters, digits, '.', '_' or '-'; unique regardless of case.</param>
/// <param name="Password">8-128 characters and at most 72 bytes in UTF-8 (BCrypt's limit).</param>
public sealed record RegisterRequest(
    [property: Required, Display(Name = "username"), StringLength(User.UsernameMaxLength, MinimumLength = User.UsernameMinLength),
     RegularExpression(User.UsernamePattern, ErrorMessage = "The username may hold only letters, digits, '.', '_' and '-'.")]
    string Username,
    [property: Required, MaxLength(1024), Display(Name = "password")] string Password);

/// <summary>An OAuth 2.0 token response (RFC 6749 §5.1).</summary>
/// <param name="AccessToken">The signed JWT to send as 'Authorization: Bearer &lt;token&gt;'.</param>
/// <param name="TokenType">Always "Bearer".</param>
/// <param name="ExpiresIn">Seconds until the access token expires.</param>
public sealed record TokenResponse(string AccessToken, string TokenType, int ExpiresIn)
{
    public static TokenResponse From(IssuedToken token) =>
        new(token.Token, "Bearer", (int)token.Lifetime.TotalSeconds);
}

public static class AuthEndpoints
{
    public static IEndpointRouteBuilder MapAuth(this IEndpointRouteBuilder app)
    {
        var auth = app.MapGroup("").WithTags("Auth").AllowAnonymous();
        auth.MapPost("/register", Register).WithName(nameof(Register))
            .WithSummary("Create an account with the role 'user'.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status404NotFound);
        auth.MapPost("/login", Login).WithName(nameof(Login))
            .WithSummary("Exchange a username and password for a short-lived access token.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status401Unauthorized);
        return app;
    }

    static async Task<Results<Created<UserResponse>, ValidationProblem, ProblemHttpResult>> Register(
        RegisterRequest body, AppDb db, PasswordHasher hasher, PasswordPolicy policy,
        IOptions<AuthOptions> options, TimeProvider time, CancellationToken ct)
    {
        if (!options.Value.AllowRegistration)
        {
            return Problems.RegistrationClosed();
        }
        var result = await UserAccounts.CreateAsync(db, hasher, policy, time, body.Username, body.Password, [Roles.User], ct);
        return result switch
        {
            { Errors: { } errors } => TypedResults.ValidationProblem(errors),
            { User: { } user } => TypedResults.Created($"/users/{user.Id}", UserResponse.From(user)),
            _ => Problems.UsernameTaken(),
        };
    }

    static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> Login(
        LoginRequest body, AppDb db, PasswordHasher hasher, TokenIssuer tokens, HttpContext http, CancellationToken ct)
    {
        var normalized = User.Normalize(body.Username);
        var user = await db.Users.FirstOrDefaultAsync(u => u.NormalizedUsername == normalized, ct);

        // Unknown user, wrong password and disabled account: the same BCrypt work and the same answer, so
        // neither the body nor a stopwatch tells an attacker which accounts exist.
        var verified = hasher.Verify(body.Password, user?.PasswordHash);
        if (!verified || user is null || user.Disabled)
        {
            return Problems.InvalidCredentials();
        }
        if (hasher.NeedsRehash(user.PasswordHash))
        {
            // the work factor was raised since this hash was made: upgrade it while the password is at hand
            user.PasswordHash = hasher.Hash(body.Password);
            await db.SaveChangesAsync(ct);
        }
        TokenResponses.NoStore(http.Response);
        return TypedResults.Ok(TokenResponse.From(tokens.IssueAccessToken(user)));
    }
}

internal static class TokenResponses
{
    /// <summary>RFC 6749 §5.1: token responses must not be cached by browsers or proxies.</summary>
    public static void NoStore(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
    }
}
