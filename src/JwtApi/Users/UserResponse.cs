using System.ComponentModel.DataAnnotations;

namespace JwtApi.Users;

/// <summary>A user as the API shows it: never the password hash.</summary>
/// <param name="Id">The user's id (the 'sub' of their tokens).</param>
/// <param name="Username">As given at creation.</param>
/// <param name="Roles">The user's roles.</param>
/// <param name="Disabled">True when the user can no longer log in.</param>
/// <param name="CreatedAt">When the account was created.</param>
/// <param name="UpdatedAt">When the account last changed.</param>
/// <param name="Email">The user's email address, or null.</param>
/// <param name="EmailVerified">True once a verification mail sent to the address was followed.</param>
public sealed record UserResponse(
    Guid Id, string Username, IReadOnlyList<string> Roles, bool Disabled, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    string? Email, bool EmailVerified)
{
    public static UserResponse From(User user) =>
        new(user.Id, user.Username, user.Roles, user.Disabled, user.CreatedAt, user.UpdatedAt, user.Email, user.EmailVerified);
}

/// <summary>The caller, as the access token describes them, and the account's email address.</summary>
/// <param name="Id">The token's 'sub'.</param>
/// <param name="Username">The token's 'name'.</param>
/// <param name="Roles">The token's 'role' values.</param>
/// <param name="ExpiresAt">When the token expires ('exp').</param>
/// <param name="Email">The account's email address, or null (read from the account: addresses are kept out of tokens).</param>
/// <param name="EmailVerified">True once a verification mail sent to the address was followed; null (as the address) while the database does not answer.</param>
public sealed record MeResponse(string Id, string Username, IReadOnlyList<string> Roles, DateTimeOffset ExpiresAt, string? Email, bool? EmailVerified);

/// <summary>One page of users, ordered by username.</summary>
public sealed record UserPage(IReadOnlyList<UserResponse> Items, int Page, int PageSize, int Total);

/// <summary>A user made by an admin.</summary>
/// <param name="Username">3-64 letters, digits, '.', '_' or '-'; unique regardless of case.</param>
/// <param name="Password">8-128 characters and at most 72 bytes in UTF-8.</param>
/// <param name="Roles">Defaults to ["user"].</param>
/// <param name="Email">Optional; unverified until the user follows the mail sent to it.</param>
public sealed record CreateUserRequest(
    [property: Required, Display(Name = "username"),
     StringLength(User.UsernameMaxLength, MinimumLength = User.UsernameMinLength),
     RegularExpression(User.UsernamePattern, ErrorMessage = "The username may hold only letters, digits, '.', '_' and '-'.")]
    string Username,
    [property: Required, MaxLength(1024), Display(Name = "password")]
    string Password,
    List<string>? Roles,
    [property: MaxLength(EmailAddress.MaxLength), Display(Name = "email")] string? Email = null);

/// <summary>The complete new set of roles of a user.</summary>
public sealed record SetRolesRequest(List<string>? Roles);

/// <summary>A password change for the caller.</summary>
/// <param name="CurrentPassword">The password in use now.</param>
/// <param name="NewPassword">8-128 characters and at most 72 bytes in UTF-8.</param>
/// <param name="RefreshCookie">Browsers: true puts the new login's refresh token in the refresh cookie, as at /login.</param>
public sealed record ChangePasswordRequest(
    [property: Required, MaxLength(1024), Display(Name = "current_password")] string CurrentPassword,
    [property: Required, MaxLength(1024), Display(Name = "new_password")] string NewPassword,
    [property: Display(Name = "refresh_cookie")] bool RefreshCookie = false);
