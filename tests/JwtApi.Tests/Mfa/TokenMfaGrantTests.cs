using System.Net;
using JwtApi.Tests.Support;

namespace JwtApi.Tests.Mfa;

/// <summary>The OAuth way at <c>/token</c>: the password grant answers mfa_required with an mfa_token; the MFA grants finish the login.</summary>
public sealed class TokenMfaGrantTests(JwtApiFactory app) : IClassFixture<JwtApiFactory>
{
    private const string OtpGrant = "urn:jwtapi:grant-type:mfa-otp";
    private const string RecoveryGrant = "urn:jwtapi:grant-type:mfa-recovery-code";

    private async Task<HttpResponseMessage> TokenAsync(params (string Key, string Value)[] form)
    {
        using var client = app.CreateClient();
        return await client.PostAsync("/token", new FormUrlEncodedContent(form.Select(p => KeyValuePair.Create(p.Key, p.Value))));
    }

    private async Task<string> MfaTokenAsync(TestUser user)
    {
        var response = await TokenAsync(("grant_type", "password"), ("username", user.Username), ("password", user.Password));
        response.Should().HaveStatusCode(HttpStatusCode.Forbidden);
        var body = await response.JsonAsync();
        body.GetProperty("error").GetString().Should().Be("mfa_required");
        return body.GetProperty("mfa_token").GetString()!;
    }

    [Fact]
    public async Task ThePasswordGrantAsksForTheSecondFactorAndTheOtpGrantFinishes()
    {
        var alice = await app.EnrolledAsync();
        var mfaToken = await MfaTokenAsync(alice.User);

        var response = await TokenAsync(("grant_type", OtpGrant), ("mfa_token", mfaToken), ("otp", TotpCodes.At(alice.Secret, app.Time.GetUtcNow())));

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        var tokens = TokenSet.From(await response.JsonAsync());
        MfaUsers.Amr(tokens.Access).Should().Equal("pwd", "otp");
        var refreshed = await TokenAsync(("grant_type", "refresh_token"), ("refresh_token", tokens.Refresh));
        MfaUsers.Amr(TokenSet.From(await refreshed.JsonAsync()).Access).Should().Equal("pwd", "otp");
    }

    [Fact]
    public async Task TheRecoveryCodeGrantFinishesOnce()
    {
        var bob = await app.EnrolledAsync();

        var first = await TokenAsync(("grant_type", RecoveryGrant), ("mfa_token", await MfaTokenAsync(bob.User)), ("recovery_code", bob.RecoveryCodes[0]));
        var again = await TokenAsync(("grant_type", RecoveryGrant), ("mfa_token", await MfaTokenAsync(bob.User)), ("recovery_code", bob.RecoveryCodes[0]));

        first.Should().HaveStatusCode(HttpStatusCode.OK);
        again.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await again.JsonAsync()).GetProperty("error").GetString().Should().Be("invalid_grant");
    }

    [Theory]
    [InlineData(OtpGrant, "mfa_token")]
    [InlineData(OtpGrant, "otp")]
    [InlineData(RecoveryGrant, "recovery_code")]
    public async Task AnMfaGrantWithoutItsParametersIsAnInvalidRequest(string grant, string missing)
    {
        var form = new List<(string, string)> { ("grant_type", grant) };
        form.AddRange(new[] { ("mfa_token", "x"), ("otp", "123456"), ("recovery_code", "abcd-efgh-ijkl-mnop") }.Where(p => p.Item1 != missing));

        var response = await TokenAsync([.. form]);

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await response.JsonAsync()).GetProperty("error").GetString().Should().Be(missing == "mfa_token" || missing == "otp" || missing == "recovery_code" ? "invalid_request" : "invalid_grant");
    }

    [Fact]
    public async Task AForgedOrWrongCodeIsAnInvalidGrant()
    {
        var carol = await app.EnrolledAsync();
        var right = TotpCodes.At(carol.Secret, app.Time.GetUtcNow());

        var forged = await TokenAsync(("grant_type", OtpGrant), ("mfa_token", "e30.e30.x"), ("otp", right));
        var wrong = await TokenAsync(("grant_type", OtpGrant), ("mfa_token", await MfaTokenAsync(carol.User)), ("otp", right == "000000" ? "000001" : "000000"));

        forged.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await forged.JsonAsync()).GetProperty("error").GetString().Should().Be("invalid_grant");
        wrong.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await wrong.JsonAsync()).GetProperty("error").GetString().Should().Be("invalid_grant");
    }
}
