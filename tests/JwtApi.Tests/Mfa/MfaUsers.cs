using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using JwtApi.Tests.Support;

namespace JwtApi.Tests.Mfa;

/// <summary>A user who turned two-factor sign-in on through the real endpoints.</summary>
public sealed record EnrolledUser(TestUser User, string Secret, IReadOnlyList<string> RecoveryCodes, JsonElement Tokens);

/// <summary>Enrolment and sign-in through the real endpoints, as a client does them.</summary>
public static class MfaUsers
{
    /// <summary>Enrols <paramref name="user"/> (a new user with <paramref name="roles"/> when null), confirming with the code of the step before now.</summary>
    public static async Task<EnrolledUser> EnrolledAsync(this JwtApiFactory app, TestUser? user = null, params string[] roles)
    {
        user ??= await app.CreateUserAsync(roles);
        using var client = app.ClientWithToken(await app.LoginAsync(user));
        var secret = await StartAsync(client);
        var confirmed = await client.PostAsJsonAsync("/me/mfa/totp/confirm",
            new { password = user.Password, code = TotpCodes.At(secret, app.Time.GetUtcNow(), -1) });
        confirmed.Should().HaveStatusCode(HttpStatusCode.OK);
        var body = await confirmed.JsonAsync();
        return new EnrolledUser(user, secret,
            body.GetProperty("recovery_codes").EnumerateArray().Select(c => c.GetString()!).ToList(), body.GetProperty("tokens"));
    }

    /// <summary>POST /me/mfa/totp: the base32 secret.</summary>
    public static async Task<string> StartAsync(HttpClient client)
    {
        var started = await client.PostAsync("/me/mfa/totp", null);
        started.Should().HaveStatusCode(HttpStatusCode.OK);
        return (await started.JsonAsync()).GetProperty("secret").GetString()!;
    }

    /// <summary>The first step: the password; returns the mfa_token of the 401 mfa_required answer.</summary>
    public static async Task<string> MfaTokenAsync(this JwtApiFactory app, TestUser user)
    {
        using var client = app.CreateClient();
        var response = await client.LoginAsync(user.Username, user.Password);
        response.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        var body = await response.JsonAsync();
        body.GetProperty("error").GetString().Should().Be("mfa_required");
        return body.GetProperty("mfa_token").GetString()!;
    }

    public static async Task<HttpResponseMessage> SecondStepAsync(this JwtApiFactory app, string mfaToken, string? code = null, string? recoveryCode = null)
    {
        using var client = app.CreateClient();
        return await client.PostAsJsonAsync("/login/mfa", new { mfa_token = mfaToken, code, recovery_code = recoveryCode });
    }

    /// <summary>The amr of a JWT, read from its payload.</summary>
    public static IReadOnlyList<string> Amr(string jwt) =>
        new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(jwt).Claims.Where(c => c.Type == "amr").Select(c => c.Value).ToList();
}
