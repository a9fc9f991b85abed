namespace JwtApi.Auth;

public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>When false, <c>POST /register</c> answers 404 and only admins create accounts.</summary>
    public bool AllowRegistration { get; init; } = true;

    /// <summary>
    /// Roles whose endpoints also require a second factor (<c>otp</c> in the token's <c>amr</c>; else 403
    /// <c>mfa_required</c>). A user holding one without two-factor sign-in on gets, at login, a token that can
    /// only turn it on. Empty by default; <c>["admin"]</c> is the usual choice.
    /// </summary>
    public string[] RequireMfaFor { get; init; } = [];
}
