using System.Security.Claims;
using JwtApi.Auth;
using JwtApi.Hosting;
using JwtApi.Mail;
using JwtApi.Storage;
using JwtApi.Tokens;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace JwtApi.Users;

public static class UsersEndpoints
{
    public const int MaxPageSize = 100;

    public static IEndpointRouteBuilder MapUsers(this IEndpointRouteBuilder app)
    {
        app.MapGet("/me", Me).WithName(nameof(Me)).WithTags("Users")
            .WithSummary("The caller, read from the access token, with the account's email address.")
            .RequireAuthorization()
            .DisableValidation()   // nothing to validate, and its filter ran on every request (docs/PERFORMANCE.md)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        app.MapPut("/me/password", ChangePassword).WithName(nameof(ChangePassword)).WithTags("Users")
            .WithSummary("Change the caller's password: every other login ends, the caller gets a fresh pair.")
            .RequireAuthorization()
            // it verifies a password: a stolen access token must not make it a guessing oracle
            .RequireRateLimiting(RateLimits.PerAddressPolicy).WithMetadata(AuthEndpoints.MaxBody)
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        // Bodies bounded like the credential endpoints': a user, a password and 16 role names fit in far less.
        var admin = app.MapGroup("/users").WithTags("Users (admin)")
            .RequireAuthorization(Policies.Admin).WithMetadata(AuthEndpoints.MaxBody)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        admin.MapGet("", ListUsers).WithName(nameof(ListUsers)).WithSummary("List users, a page at a time.")
            .ProducesValidationProblem();
        admin.MapGet("/{id:guid}", GetUser).WithName(nameof(GetUser)).WithSummary("One user.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapPost("", CreateUser).WithName(nameof(CreateUser)).WithSummary("Create a user with the given roles.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapPut("/{id:guid}/roles", SetRoles).WithName(nameof(SetRoles))
            .WithSummary("Replace a user's roles (bumps their token version).")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapPost("/{id:guid}/disable", DisableUser).WithName(nameof(DisableUser))
            .WithSummary("Disable a user: they can no longer log in (bumps their token version).")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapPost("/{id:guid}/enable", EnableUser).WithName(nameof(EnableUser))
            .WithSummary("Enable a disabled user (bumps their token version).")
            .ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapDelete("/{id:guid}", DeleteUser).WithName(nameof(DeleteUser)).WithSummary("Delete a user.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    // AppDb is resolved only when there is an address to read: constructing a DbContext per request, unused, was
    // the largest cost of this endpoint under load (docs/PERFORMANCE.md)
    static async Task<Ok<MeResponse>> Me(ClaimsPrincipal caller, IOptions<MailOptions> mail, HttpContext http, CancellationToken ct)
    {
        var token = AccessTokenClaims.Of(caller);
        // The address is read from the account, not carried in tokens: an access token goes to every API the
        // client calls and should say no more about the user than those need (RFC 9068 §6).
        // The token alone authenticates and answers the rest: with the database down this still answers 200 (the
        // address then null), as every protected read does.
        // With Mail:Enabled off accounts have no address: nothing to read, and /me costs the token alone.
        (string? Email, bool Verified)? email = null;
        try
        {
            if (mail.Value.Enabled && Guid.TryParse(token.UserId, out var id) &&
                await http.RequestServices.GetRequiredService<AppDb>().Users.AsNoTracking().Where(u => u.Id == id)
                    .Select(u => new { u.Email, u.EmailVerified }).FirstOrDefaultAsync(ct) is { } row)
            {
                email = (row.Email, row.EmailVerified);
            }
        }
        catch (Exception e) when (DatabaseErrors.IsUnavailable(e))
        {
            email = null;
        }
        return TypedResults.Ok(new MeResponse(
            token.UserId, token.Username, caller.FindAll(JwtClaimTypes.Role).Select(c => c.Value).ToList(), token.ExpiresAt,
            email?.Email, email?.Verified));
    }

    static async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> ChangePassword(
        ChangePasswordRequest body, ClaimsPrincipal caller, CurrentUser currentUser, AccountChanges changes, PasswordHasher hasher,
        PasswordPolicy policy, SignIn signIn, TokenRevoker revoker, TokenIssuer tokens, DeviceTokens deviceTokens,
        RefreshCookie cookie, DeviceCookie deviceCookie, MailQueue mail, HttpContext http, CancellationToken ct)
    {
        var token = AccessTokenClaims.Of(caller);
        var read = await currentUser.ReadAsync(role: null, ct);
        if (read.User is not { } user)
        {
            return read.Refusal!;
        }
        // The new password first: refused, it is refused alike for a right and a wrong current password, so this
        // endpoint tells nothing about the current one (and a refused request costs no guess).
        if (policy.Check(body.NewPassword, user.Username) is { Count: > 0 } problems)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["new_password"] = [.. problems] });
        }
        // The current password is asked for even with a valid token: a stolen token alone must not be enough to
        // take the account over. It is checked as a login is: throttled, counted and audited the same way.
        var check = await signIn.VerifyPasswordAsync(user, body.CurrentPassword, ct);
        if (check.Verdict == PasswordVerdict.Throttled)
        {
            return RateLimits.TooManyRequests(http.Response, check.RetryAfter!.Value);
        }
        if (check.Verdict != PasswordVerdict.Verified)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["current_password"] = ["The current password is incorrect."],
            });
        }
        var newHash = await hasher.HashAsync(body.NewPassword, ct);

        // The caller again, at the write: the token version has not moved since the check above (every password
        // change moves it), so the password just verified is still the one being replaced.
        await using var write = await currentUser.BeginWriteAsync(role: null, ct);
        if (write.Caller is not { } self)
        {
            return write.Refusal!;
        }
        revoker.AccessToken(token.TokenId, token.ExpiresAt);   // committed with the change, which ends every other login
        await changes.SetPasswordAsync(write, self.Id, newHash, ct);
        mail.Enqueue(Recovery.RecoveryMails.PasswordChanged(self.Id));
        // The change ended every device token of the user (new token version); this device proved the password
        // twice over and gets a new one, so a flood against the name does not lock it out (as after a login).
        var device = deviceTokens.Issue(self);
        var inCookie = cookie.Wanted(body.RefreshCookie);
        if (inCookie)
        {
            deviceCookie.Set(http.Response, device);
        }
        // the new login was signed in as the one changing the password was (amr): a password change is no second factor
        var amr = caller.FindAll(JwtClaimTypes.AuthenticationMethods).Select(c => c.Value).ToList();
        return TokenResponses.Ok(http.Response, tokens.StartFamily(self, amr.Count > 0 ? amr : null), cookie, inCookie, device);
    }

    static async Task<Results<Ok<UserPage>, ValidationProblem>> ListUsers(
        AppDb db, CancellationToken ct, int page = 1, int pageSize = 20)
    {
        // the offset must fit the database's integer: page 21474838 of 100 would overflow it (a 500 on
        // PostgreSQL, page 1 on SQLite)
        var maxPage = int.MaxValue / Math.Max(pageSize, 1);
        if (page < 1 || page > maxPage || pageSize is < 1 or > MaxPageSize)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                [pageSize is < 1 or > MaxPageSize ? "pageSize" : "page"] = [pageSize is < 1 or > MaxPageSize
                    ? $"pageSize must be 1 to {MaxPageSize}."
                    : $"page must be 1 to {maxPage} for pageSize {pageSize}."],
            });
        }
        var total = await db.Users.CountAsync(ct);
        var users = await db.Users.AsNoTracking().OrderBy(u => u.NormalizedUsername)
            .Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(ct);
        return TypedResults.Ok(new UserPage(users.Select(UserResponse.From).ToList(), page, pageSize, total));
    }

    static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> GetUser(Guid id, AppDb db, CancellationToken ct) =>
        await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id, ct) is { } user
            ? TypedResults.Ok(UserResponse.From(user))
            : Problems.UserNotFound();

    static async Task<Results<Created<UserResponse>, ValidationProblem, ProblemHttpResult>> CreateUser(
        CreateUserRequest body, UserAccounts accounts, AccountChanges changes, CurrentUser currentUser,
        IOptions<MailOptions> mailOptions, MailQueue mail, CancellationToken ct)
    {
        var roles = body.Roles ?? [Roles.User];
        if (UserAccounts.CheckRoles(roles) is { } roleErrors)
        {
            return TypedResults.ValidationProblem(roleErrors);
        }
        var email = UserAccounts.ParseEmail(body.Email, mailOptions.Value.Enabled, out var emailErrors);
        if (emailErrors is not null)
        {
            return TypedResults.ValidationProblem(emailErrors);
        }
        var prepared = await accounts.PrepareAsync(body.Username, body.Password, roles, email, ct);
        if (prepared.User is not { } user)
        {
            return prepared.ToHttpResult();
        }
        await using var write = await currentUser.BeginWriteAsync(Roles.Admin, ct);
        if (write.Refusal is { } refusal)
        {
            return refusal;
        }
        var created = await changes.CreateAsync(write, user, ct);
        if (created.User is not null && UserAccounts.Verification(user) is { } verification)
        {
            mail.Enqueue(verification);
        }
        return created.ToHttpResult();
    }

    static async Task<Results<Ok<UserResponse>, ValidationProblem, ProblemHttpResult>> SetRoles(
        Guid id, SetRolesRequest body, CurrentUser currentUser, AccountChanges changes, CancellationToken ct)
    {
        if (UserAccounts.CheckRoles(body.Roles) is { } roleErrors)
        {
            return TypedResults.ValidationProblem(roleErrors);
        }
        await using var write = await currentUser.BeginWriteAsync(Roles.Admin, ct);
        if (write.Refusal is { } refusal)
        {
            return refusal;
        }
        var change = await changes.SetRolesAsync(write, id, body.Roles!, ct);
        return change.User is { } user ? TypedResults.Ok(UserResponse.From(user)) : change.ToProblem();
    }

    static Task<Results<Ok<UserResponse>, ProblemHttpResult>> DisableUser(
        Guid id, CurrentUser currentUser, AccountChanges changes, CancellationToken ct) =>
        SetDisabledAsync(id, disabled: true, currentUser, changes, ct);

    static Task<Results<Ok<UserResponse>, ProblemHttpResult>> EnableUser(
        Guid id, CurrentUser currentUser, AccountChanges changes, CancellationToken ct) =>
        SetDisabledAsync(id, disabled: false, currentUser, changes, ct);

    static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> SetDisabledAsync(
        Guid id, bool disabled, CurrentUser currentUser, AccountChanges changes, CancellationToken ct)
    {
        await using var write = await currentUser.BeginWriteAsync(Roles.Admin, ct);
        if (write.Refusal is { } refusal)
        {
            return refusal;
        }
        var change = await changes.SetDisabledAsync(write, id, disabled, ct);
        return change.User is { } user ? TypedResults.Ok(UserResponse.From(user)) : change.ToProblem();
    }

    static async Task<Results<NoContent, ProblemHttpResult>> DeleteUser(
        Guid id, CurrentUser currentUser, AccountChanges changes, CancellationToken ct)
    {
        await using var write = await currentUser.BeginWriteAsync(Roles.Admin, ct);
        if (write.Refusal is { } refusal)
        {
            return refusal;
        }
        var change = await changes.DeleteAsync(write, id, ct);
        return change.User is null ? change.ToProblem() : TypedResults.NoContent();
    }
}
