namespace JwtApi.Auth;

/// <summary>Authorization policy names. Endpoints name a policy; no handler checks a role string itself.</summary>
public static class Policies
{
    public const string Admin = "admin";

    /// <summary>Any signed-in user, enrollment-only tokens included: the endpoints that turn a second factor on.</summary>
    public const string MfaEnrollment = "mfa-enrollment";
}
