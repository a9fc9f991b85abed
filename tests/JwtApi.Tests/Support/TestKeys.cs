using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Tests.Support;

/// <summary>Keys made fresh for each test run: nothing secret is committed, and no key is shared with anything real.</summary>
public static class TestKeys
{
    public static readonly byte[] HmacSecret = RandomNumberGenerator.GetBytes(32);
    public static readonly string HmacBase64 = Convert.ToBase64String(HmacSecret);

    /// <summary>The refresh-token secret.</summary>
    public static readonly byte[] RefreshHmacSecret = RandomNumberGenerator.GetBytes(32);
    public static readonly string RefreshHmacBase64 = Convert.ToBase64String(RefreshHmacSecret);

    /// <summary>Another valid secret the service does not know.</summary>
    public static readonly byte[] OtherHmacSecret = RandomNumberGenerator.GetBytes(32);

    public static readonly RSA Rsa = RSA.Create(2048);
    public static readonly RSA OtherRsa = RSA.Create(2048);

    public static readonly ECDsa Ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    public static readonly string EcPemPath = WritePem(Ec.ExportPkcs8PrivateKeyPem());

    /// <summary>The RFC 7638 thumbprint of <see cref="Ec"/>.</summary>
    public static string EcKeyId => Base64UrlEncoder.Encode(
        JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(ECDsa.Create(Ec.ExportParameters(false)))).ComputeJwkThumbprint());

    /// <summary>The service's RSA key as a PEM file, as <c>Jwt:PrivateKeyPath</c> expects.</summary>
    public static readonly string RsaPemPath = WritePem(Rsa.ExportPkcs8PrivateKeyPem());

    public static string WritePem(string pem)
    {
        var path = Path.Combine(Path.GetTempPath(), $"jwtapi-test-{Guid.NewGuid():N}.pem");
        File.WriteAllText(path, pem);
        return path;
    }

    /// <summary>The kid the service derives for <see cref="HmacSecret"/> (tests check it independently).</summary>
    public static string HmacKeyId => "hs-" + Base64UrlEncoder.Encode(SHA256.HashData(HmacSecret))[..16];

    /// <summary>The RFC 7638 thumbprint of <see cref="Rsa"/>.</summary>
    public static string RsaKeyId => Base64UrlEncoder.Encode(
        JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(Rsa.ExportParameters(false))).ComputeJwkThumbprint());
}
