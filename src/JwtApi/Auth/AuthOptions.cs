namespace JwtApi.Auth;

public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>When false, <c>POST /register</c> answers 404 and only admins create accounts.</summary>
    public bool AllowRegistration { get; init; } = true;
}
