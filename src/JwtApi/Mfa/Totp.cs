using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using OtpNet;
using QRCoder;

namespace JwtApi.Mfa;

/// <summary>
/// RFC 6238 time-based codes with the authenticator-app defaults (SHA-1, 6 digits, 30-second steps), by Otp.NET:
/// new secrets, their otpauth:// URI and QR code, and which time step a code belongs to. Secrets are kept
/// encrypted with Data Protection, whose key ring is in the database and itself encrypted.
/// </summary>
public sealed class Totp(IDataProtectionProvider dataProtection, IOptions<MfaOptions> options, TimeProvider time)
{
    public const int Digits = 6;
    public const int StepSeconds = 30;

    /// <summary>160 bits, the HMAC-SHA-1 block the RFC recommends (RFC 4226 §4).</summary>
    private const int SecretBytes = 20;

    // Versioned purpose: another use of Data Protection can never unprotect a TOTP secret, nor this one another's data.
    private readonly IDataProtector _protector = dataProtection.CreateProtector("JwtApi.Mfa.TotpSecret.v1");

    public static byte[] NewSecret() => KeyGeneration.GenerateRandomKey(SecretBytes);

    public string Protect(byte[] secret) => _protector.Protect(Convert.ToBase64String(secret));

    public byte[] Unprotect(string protectedSecret) => Convert.FromBase64String(_protector.Unprotect(protectedSecret));

    public static string Base32(byte[] secret) => Base32Encoding.ToString(secret).TrimEnd('=');

    /// <summary>The otpauth:// URI authenticator apps read from the QR code (Key Uri Format).</summary>
    public string Uri(byte[] secret, string username) =>
        new OtpUri(OtpType.Totp, Base32(secret), username, options.Value.Issuer, OtpHashMode.Sha1, Digits, StepSeconds).ToString();

    /// <summary>The URI as an SVG QR code, medium error correction.</summary>
    public static string QrSvg(string uri)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(uri, QRCodeGenerator.ECCLevel.M);
        return new SvgQRCode(data).GetGraphic(4);
    }

    /// <summary>
    /// The time step <paramref name="code"/> is the code of, for now, one step before or one after (a phone's clock
    /// a little off, a code typed as it changed); null for any other code. Whether that step was already used is
    /// the caller's to check.
    /// </summary>
    public long? MatchStep(byte[] secret, string code)
    {
        if (!IsWellFormed(code))
        {
            return null;
        }
        var totp = new OtpNet.Totp(secret, StepSeconds, OtpHashMode.Sha1, Digits);
        return totp.VerifyTotp(time.GetUtcNow().UtcDateTime, code, out var step, new VerificationWindow(previous: 1, future: 1))
            ? step
            : null;
    }

    /// <summary>Six ASCII digits, nothing else.</summary>
    public static bool IsWellFormed(string? code) => code is { Length: Digits } && code.All(char.IsAsciiDigit);
}
