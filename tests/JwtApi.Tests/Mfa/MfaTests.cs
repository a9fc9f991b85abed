using System.Net;
using System.Net.Http.Json;
using JwtApi.Tests.Support;
using Microsoft.IdentityModel.JsonWebTokens;

namespace JwtApi.Tests.Mfa;

/// <summary>Two-factor sign-in through the real endpoints: enrolment, the second step of a login, recovery codes, turning it off.</summary>
public sealed class MfaTests(JwtApiFactory app) : IClassFixture<JwtApiFactory>
{
    private DateTimeOffset Now => app.Time.GetUtcNow();

    [Fact]
    public async Task StartGivesASecretItsOtpauthUriAndAQrCode()
    {
        var alice = await app.CreateUserAsync();
        using var client = app.ClientWithToken(await app.LoginAsync(alice));

        var response = await client.PostAsync("/me/mfa/totp", null);

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        response.Headers.CacheControl!.NoStore.Should().BeTrue("the body holds the secret");
        var body = await response.JsonAsync();
        var secret = body.GetProperty("secret").GetString()!;
        TotpCodes.Base32(secret).Should().HaveCount(20, "160 bits, RFC 4226's recommendation");
        // the URI as an authenticator app reads it (Key Uri Format)
        var uri = new Uri(body.GetProperty("otpauth_uri").GetString()!);
        uri.Scheme.Should().Be("otpauth");
        uri.Host.Should().Be("totp");
        Uri.UnescapeDataString(uri.AbsolutePath).Should().Be($"/JwtApi:{alice.Username}");
        var query = System.Web.HttpUtility.ParseQueryString(uri.Query);
        query["secret"].Should().Be(secret);
        query["issuer"].Should().Be("JwtApi");
        query["algorithm"].Should().BeOneOf("SHA1", null);
        query["digits"].Should().BeOneOf("6", null);
        query["period"].Should().BeOneOf("30", null);
        body.GetProperty("qr_svg").GetString().Should().Contain("<svg");

        var status = await (await client.GetAsync("/me/mfa")).JsonAsync();
        status.GetProperty("enabled").GetBoolean().Should().BeFalse();
        status.GetProperty("enrollment_pending").GetBoolean().Should().BeTrue();
    }

    [Fact]
    public async Task ConfirmTurnsItOnWithTenRecoveryCodesAndEndsEveryOtherLogin()
    {
        var alice = await app.CreateUserAsync();
        var otherDevice = await app.LoginPairAsync(alice);

        var enrolled = await app.EnrolledAsync(alice);

        enrolled.RecoveryCodes.Should().HaveCount(10).And.OnlyHaveUniqueItems();
        enrolled.RecoveryCodes.Should().AllSatisfy(c => c.Should().MatchRegex("^[a-z2-7]{4}(-[a-z2-7]{4}){3}$"));
        var access = enrolled.Tokens.GetProperty("access_token").GetString()!;
        MfaUsers.Amr(access).Should().Equal("pwd", "otp");
        (await app.RefreshAsync(otherDevice.Refresh)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        using (var stale = app.ClientWithToken(otherDevice.Access))
        {
            (await stale.GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        }
        using var client = app.ClientWithToken(access);
        var status = await (await client.GetAsync("/me/mfa")).JsonAsync();
        status.GetProperty("enabled").GetBoolean().Should().BeTrue();
        status.GetProperty("recovery_codes_left").GetInt32().Should().Be(10);
        // a password alone no longer signs in
        await app.MfaTokenAsync(alice);
    }

    [Theory]
    [InlineData("wrong password", "000000")]
    [InlineData(null, "wrong code")]
    public async Task ConfirmRefusesAWrongPasswordOrCodeAndStoresNothing(string? password, string? code)
    {
        var alice = await app.CreateUserAsync();
        using var client = app.ClientWithToken(await app.LoginAsync(alice));
        var secret = await MfaUsers.StartAsync(client);
        var goodCode = TotpCodes.At(secret, Now);
        var sent = code == "wrong code" ? (goodCode == "000000" ? "000001" : "000000") : goodCode;

        var response = await client.PostAsJsonAsync("/me/mfa/totp/confirm", new { password = password ?? alice.Password, code = sent });

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await response.JsonAsync()).GetProperty("errors").TryGetProperty(password is null ? "code" : "password", out _).Should().BeTrue();
        var status = await (await client.GetAsync("/me/mfa")).JsonAsync();
        status.GetProperty("enabled").GetBoolean().Should().BeFalse();
        status.GetProperty("recovery_codes_left").GetInt32().Should().Be(0);
        (await app.LoginPairAsync(alice)).Access.Should().NotBeEmpty("the password alone still signs in");
    }

    [Fact]
    public async Task LoginNeedsACodeAfterThePasswordAndTheTokensSayHowThroughRefreshes()
    {
        var bob = await app.EnrolledAsync();

        var mfaToken = await app.MfaTokenAsync(bob.User);
        var response = await app.SecondStepAsync(mfaToken, TotpCodes.At(bob.Secret, Now));

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        var tokens = TokenSet.From(await response.JsonAsync());
        MfaUsers.Amr(tokens.Access).Should().Equal("pwd", "otp");
        var refreshed = await app.RefreshAsync(tokens.Refresh);
        refreshed.Should().HaveStatusCode(HttpStatusCode.OK);
        MfaUsers.Amr(TokenSet.From(await refreshed.JsonAsync()).Access).Should().Equal("pwd", "otp");
    }

    [Fact]
    public async Task APasswordChangeKeepsHowTheLoginWasSignedIn()
    {
        var nora = await app.EnrolledAsync();
        using var client = app.ClientWithToken(nora.Tokens.GetProperty("access_token").GetString()!);

        var response = await client.PutAsJsonAsync("/me/password", new { current_password = nora.User.Password, new_password = "a-new-and-long-password" });

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        MfaUsers.Amr(TokenSet.From(await response.JsonAsync()).Access).Should().Equal("pwd", "otp");
        (await app.CreateClient().LoginAsync(nora.User.Username, "a-new-and-long-password")).Should().HaveStatusCode(HttpStatusCode.Unauthorized,
            "the second factor is still asked for");
    }

    [Fact]
    public async Task APasswordOnlyLoginSaysPwd()
    {
        var token = await app.LoginAsync(await app.CreateUserAsync());

        MfaUsers.Amr(token).Should().Equal("pwd");
    }

    [Fact]
    public async Task ACodeIsAcceptedOnce()
    {
        var carol = await app.EnrolledAsync();
        var code = TotpCodes.At(carol.Secret, Now);
        (await app.SecondStepAsync(await app.MfaTokenAsync(carol.User), code)).Should().HaveStatusCode(HttpStatusCode.OK);

        var replay = await app.SecondStepAsync(await app.MfaTokenAsync(carol.User), code);
        var older = await app.SecondStepAsync(await app.MfaTokenAsync(carol.User), TotpCodes.At(carol.Secret, Now, -1));

        replay.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await replay.JsonAsync()).GetProperty("error").GetString().Should().Be("invalid_code");
        older.Should().HaveStatusCode(HttpStatusCode.Unauthorized, "a code older than the last one used is refused too");
        (await app.SecondStepAsync(await app.MfaTokenAsync(carol.User), TotpCodes.At(carol.Secret, Now, 1)))
            .Should().HaveStatusCode(HttpStatusCode.OK, "the next step's code is still good");
    }

    [Fact]
    public async Task ConcurrentUsesOfOneCodeLetOnlyOneIn()
    {
        var dave = await app.EnrolledAsync();
        var code = TotpCodes.At(dave.Secret, Now);
        var tokens = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => app.MfaTokenAsync(dave.User)));

        var answers = await Task.WhenAll(tokens.Select(t => app.SecondStepAsync(t, code)));

        answers.Count(a => a.StatusCode == HttpStatusCode.OK).Should().Be(1);
        answers.Where(a => a.StatusCode != HttpStatusCode.OK).Should().AllSatisfy(a => a.Should().HaveStatusCode(HttpStatusCode.Unauthorized));
    }

    [Fact]
    public async Task ARecoveryCodeWorksOnceInAnySpelling()
    {
        var erin = await app.EnrolledAsync();
        var code = erin.RecoveryCodes[3];

        var first = await app.SecondStepAsync(await app.MfaTokenAsync(erin.User), recoveryCode: code.ToUpperInvariant().Replace("-", " "));
        var again = await app.SecondStepAsync(await app.MfaTokenAsync(erin.User), recoveryCode: code);

        first.Should().HaveStatusCode(HttpStatusCode.OK);
        var access = TokenSet.From(await first.JsonAsync()).Access;
        MfaUsers.Amr(access).Should().Equal("pwd", "otp");
        again.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        using var client = app.ClientWithToken(access);
        (await (await client.GetAsync("/me/mfa")).JsonAsync()).GetProperty("recovery_codes_left").GetInt32().Should().Be(9);
    }

    [Fact]
    public async Task TheMfaTokenIsNeitherABearerNorARefreshToken()
    {
        var frank = await app.EnrolledAsync();
        var mfaToken = await app.MfaTokenAsync(frank.User);
        new JsonWebToken(mfaToken).Typ.Should().Be("mfa+jwt");

        using var bearer = app.ClientWithToken(mfaToken);
        var asBearer = await bearer.GetAsync("/me");
        var asRefresh = await app.RefreshAsync(mfaToken);

        asBearer.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        asBearer.Headers.WwwAuthenticate.ToString().Should().Contain("invalid_token");
        asRefresh.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        // nor is an access token or a refresh token an mfa_token
        var pair = (await app.SecondStepAsync(mfaToken, TotpCodes.At(frank.Secret, Now)));
        var tokens = TokenSet.From(await pair.JsonAsync());
        (await app.SecondStepAsync(tokens.Access, TotpCodes.At(frank.Secret, Now, 1))).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await app.SecondStepAsync(tokens.Refresh, TotpCodes.At(frank.Secret, Now, 1))).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task FiveWrongCodesEndTheMfaToken()
    {
        var gina = await app.EnrolledAsync();
        var mfaToken = await app.MfaTokenAsync(gina.User);
        var right = TotpCodes.At(gina.Secret, Now);
        var wrong = right == "123456" ? "654321" : "123456";
        for (var i = 0; i < 5; i++)
        {
            (await (await app.SecondStepAsync(mfaToken, wrong)).JsonAsync()).GetProperty("error").GetString().Should().Be("invalid_code");
        }

        var sixth = await app.SecondStepAsync(mfaToken, right);

        sixth.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await sixth.JsonAsync()).GetProperty("error").GetString().Should().Be("invalid_mfa_token");
        (await app.SecondStepAsync(await app.MfaTokenAsync(gina.User), right)).Should().HaveStatusCode(HttpStatusCode.OK,
            "a new login with the password gets a new mfa_token");
    }

    [Fact]
    public async Task AnAccountDisabledAfterThePasswordCannotFinishTheLogin()
    {
        var hank = await app.EnrolledAsync();
        var mfaToken = await app.MfaTokenAsync(hank.User);
        using var admin = await app.ClientForAsync(await app.AdminAsync());
        (await admin.PostAsync($"/users/{hank.User.Id}/disable", null)).Should().HaveStatusCode(HttpStatusCode.OK);

        var response = await app.SecondStepAsync(mfaToken, TotpCodes.At(hank.Secret, Now));

        response.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await response.JsonAsync()).GetProperty("error").GetString().Should().Be("invalid_mfa_token");
    }

    [Fact]
    public async Task RegeneratingRecoveryCodesReplacesTheOldOnes()
    {
        var ivy = await app.EnrolledAsync();
        using var client = app.ClientWithToken(ivy.Tokens.GetProperty("access_token").GetString()!);

        var response = await client.PostAsJsonAsync("/me/mfa/recovery-codes", new { code = TotpCodes.At(ivy.Secret, Now) });

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        var fresh = (await response.JsonAsync()).GetProperty("recovery_codes").EnumerateArray().Select(c => c.GetString()!).ToList();
        fresh.Should().HaveCount(10).And.NotIntersectWith(ivy.RecoveryCodes);
        (await app.SecondStepAsync(await app.MfaTokenAsync(ivy.User), recoveryCode: ivy.RecoveryCodes[0])).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await app.SecondStepAsync(await app.MfaTokenAsync(ivy.User), recoveryCode: fresh[0])).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task TurningItOffNeedsThePasswordAndACodeAndEndsEveryOtherLogin()
    {
        var jack = await app.EnrolledAsync();
        var access = jack.Tokens.GetProperty("access_token").GetString()!;
        using var client = app.ClientWithToken(access);
        var otherDevice = TokenSet.From(await (await app.SecondStepAsync(await app.MfaTokenAsync(jack.User), TotpCodes.At(jack.Secret, Now))).JsonAsync());

        var wrongPassword = await client.PostAsJsonAsync("/me/mfa/disable", new { password = "not-it-at-all", code = TotpCodes.At(jack.Secret, Now, 1) });
        wrongPassword.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        (await (await client.GetAsync("/me/mfa")).JsonAsync()).GetProperty("enabled").GetBoolean().Should().BeTrue();

        var response = await client.PostAsJsonAsync("/me/mfa/disable", new { password = jack.User.Password, recovery_code = jack.RecoveryCodes[0] });

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        MfaUsers.Amr(TokenSet.From(await response.JsonAsync()).Access).Should().Equal("pwd");
        (await app.RefreshAsync(otherDevice.Refresh)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await client.GetAsync("/me/mfa")).Should().HaveStatusCode(HttpStatusCode.Unauthorized, "this access token ended too");
        (await app.LoginPairAsync(jack.User)).Access.Should().NotBeEmpty("the password alone signs in again");
    }

    [Fact]
    public async Task OfTwoDisablesAtOnceOneTurnsItOffAndItsNewLoginSurvives()
    {
        var pat = await app.EnrolledAsync();
        using var client = app.ClientWithToken(pat.Tokens.GetProperty("access_token").GetString()!);

        var answers = await Task.WhenAll(pat.RecoveryCodes.Take(2).Select(code =>
            client.PostAsJsonAsync("/me/mfa/disable", new { password = pat.User.Password, recovery_code = code })));

        // the second is refused, wherever it is when the first commits: 409 (off), 400 (its recovery code went with
        // the rest) or 401 at its write (the first ended this token)
        answers.Count(a => a.StatusCode == HttpStatusCode.OK).Should().Be(1);
        answers.Where(a => a.StatusCode != HttpStatusCode.OK).Should().AllSatisfy(a =>
            a.StatusCode.Should().BeOneOf(HttpStatusCode.Conflict, HttpStatusCode.BadRequest, HttpStatusCode.Unauthorized));
        var survivor = TokenSet.From(await answers.Single(a => a.StatusCode == HttpStatusCode.OK).JsonAsync());
        (await app.RefreshAsync(survivor.Refresh)).Should().HaveStatusCode(HttpStatusCode.OK, "the other disable ended nothing");
    }

    [Fact]
    public async Task AnAdminResetsALostSecondFactorAndEndsTheUsersLogins()
    {
        var kim = await app.EnrolledAsync();
        var session = TokenSet.From(await (await app.SecondStepAsync(await app.MfaTokenAsync(kim.User), TotpCodes.At(kim.Secret, Now))).JsonAsync());
        using var admin = await app.ClientForAsync(await app.AdminAsync());
        using var user = app.ClientWithToken(session.Access);
        (await user.PostAsync($"/users/{kim.User.Id}/mfa/reset", null)).Should().HaveStatusCode(HttpStatusCode.Forbidden, "only admins reset");

        var response = await admin.PostAsync($"/users/{kim.User.Id}/mfa/reset", null);

        response.Should().HaveStatusCode(HttpStatusCode.NoContent);
        (await app.RefreshAsync(session.Refresh)).Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await app.LoginPairAsync(kim.User)).Access.Should().NotBeEmpty("the password alone signs in again");
        (await admin.PostAsync($"/users/{Guid.NewGuid()}/mfa/reset", null)).Should().HaveStatusCode(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("""{"mfa_token":"x"}""")]
    [InlineData("""{"mfa_token":"x","code":"12345"}""")]
    [InlineData("""{"mfa_token":"x","code":"12345a"}""")]
    [InlineData("""{"mfa_token":"x","code":"123456","recovery_code":"abcd-efgh-ijkl-mnop"}""")]
    [InlineData("""{"code":"123456"}""")]
    public async Task TheSecondStepAnswers400GivenAMalformedBody(string json)
    {
        using var client = app.CreateClient();

        var response = await client.PostAsync("/login/mfa", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        response.Should().HaveStatusCode(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
    }

    [Fact]
    public async Task ConfirmWithoutAStartedEnrolmentAnswers409()
    {
        var lea = await app.CreateUserAsync();
        using var client = app.ClientWithToken(await app.LoginAsync(lea));

        var response = await client.PostAsJsonAsync("/me/mfa/totp/confirm", new { password = lea.Password, code = "123456" });

        response.Should().HaveStatusCode(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task StartingAgainWhileOnAnswers409()
    {
        var max = await app.EnrolledAsync();
        using var client = app.ClientWithToken(max.Tokens.GetProperty("access_token").GetString()!);

        (await client.PostAsync("/me/mfa/totp", null)).Should().HaveStatusCode(HttpStatusCode.Conflict);
    }
}
