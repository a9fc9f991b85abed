namespace JwtApi.Auth;

/// <summary>Authorization policy names. Endpoints name a policy; no handler checks a role string itself.</summary>
public static class Policies
{
    public const string Admin = "admin";
}
