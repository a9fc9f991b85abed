using System.Net;
using JwtApi.Mfa;
using JwtApi.Tests.Support;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace JwtApi.Tests.Mfa;

/// <summary>Which codes count: the step before now, now and the step after; and agreement with RFC 6238 and an independent implementation.</summary>
public sealed class TotpWindowTests
{
    [Fact]
    public async Task AcceptsOneStepEitherSideAndRefusesTwo()
    {
        // The fake clock moves ahead of the system clock JwtBearer judges iat on: allow for it.
        using var app = new JwtApiFactory();
        app.Settings["Jwt:ClockSkew"] = "00:05:00";
        var alice = await app.EnrolledAsync();   // confirmed with the code of the step before now
        app.Time.Advance(TimeSpan.FromMinutes(2));
        var now = app.Time.GetUtcNow();

        var mfaToken = await app.MfaTokenAsync(alice.User);
        (await app.SecondStepAsync(mfaToken, TotpCodes.At(alice.Secret, now, -2))).Should().HaveStatusCode(HttpStatusCode.Unauthorized, "two steps back");
        (await app.SecondStepAsync(mfaToken, TotpCodes.At(alice.Secret, now, -1))).Should().HaveStatusCode(HttpStatusCode.OK, "one step back");

        mfaToken = await app.MfaTokenAsync(alice.User);
        (await app.SecondStepAsync(mfaToken, TotpCodes.At(alice.Secret, now, 2))).Should().HaveStatusCode(HttpStatusCode.Unauthorized, "two steps ahead");
        (await app.SecondStepAsync(mfaToken, TotpCodes.At(alice.Secret, now, 1))).Should().HaveStatusCode(HttpStatusCode.OK, "one step ahead");
    }

    /// <summary>RFC 6238 Appendix B, SHA-1 at T = 59 s: 94287082, of which an app showing six digits shows 287082.</summary>
    [Theory]
    [InlineData(59, "287082")]
    [InlineData(1111111109, "081804")]
    [InlineData(1234567890, "005924")]
    public void MatchesTheRfc6238TestVectors(long unixSeconds, string code)
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(unixSeconds));
        var totp = new Totp(new EphemeralDataProtectionProvider(), Options.Create(new MfaOptions()), time);
        var secret = "12345678901234567890"u8.ToArray();

        totp.MatchStep(secret, code).Should().Be(unixSeconds / 30);
        TotpCodes.At(Totp.Base32(secret), time.GetUtcNow()).Should().Be(code, "the tests' own implementation agrees");
    }

    /// <summary>
    /// Python's pyotp (Debian's python3-pyotp) reads the otpauth:// URI as an authenticator app does and computes the
    /// code the service accepts. Skipped where python3-pyotp is missing, unless JWTAPI_INTEROP=required (CI).
    /// </summary>
    [Fact]
    public async Task AnIndependentImplementationReadingTheUriComputesAnAcceptedCode()
    {
        using var app = new JwtApiFactory();
        var alice = await app.CreateUserAsync();
        using var client = app.ClientWithToken(await app.LoginAsync(alice));
        var started = await (await client.PostAsync("/me/mfa/totp", null)).JsonAsync();
        var uri = started.GetProperty("otpauth_uri").GetString()!;
        var at = app.Time.GetUtcNow().ToUnixTimeSeconds();

        var code = PyOtp($"import pyotp,sys; print(pyotp.parse_uri(sys.argv[1]).at({at}))", uri);
        if (code is null)
        {
            return;
        }

        var confirmed = await client.PostAsync("/me/mfa/totp/confirm", System.Net.Http.Json.JsonContent.Create(new { password = alice.Password, code }));
        confirmed.Should().HaveStatusCode(HttpStatusCode.OK);
    }

    private static string? PyOtp(string script, string argument)
    {
        var required = Environment.GetEnvironmentVariable("JWTAPI_INTEROP") == "required";
        try
        {
            using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3")
            {
                ArgumentList = { "-c", script, argument },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var output = process.StandardOutput.ReadToEnd().Trim();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode == 0)
            {
                return output;
            }
            if (required || !error.Contains("No module named 'pyotp'", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"pyotp failed: {error}");
            }
            return null;
        }
        catch (System.ComponentModel.Win32Exception) when (!required)
        {
            return null;
        }
    }
}
