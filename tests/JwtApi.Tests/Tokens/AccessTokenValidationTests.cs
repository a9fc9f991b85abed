using JwtApi.Tests.Support;
using JwtApi.Tokens;

namespace JwtApi.Tests.Tokens;

/// <summary>The rules of <see cref="AccessTokenValidation"/> that read the token as sent, one spelling at a time.</summary>
public sealed class AccessTokenValidationTests
{
    [Theory]
    // 43 characters (32 bytes, HS256): the last holds 4 bits and 2 spare
    [InlineData("h.p.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false)]
    [InlineData("h.p.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE", false)]
    [InlineData("h.p.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", true)]
    [InlineData("h.p.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAC", true)]
    [InlineData("h.p.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", true)]
    // 86 characters (64 bytes, ES256): the last holds 2 bits and 4 spare
    [InlineData("h.p.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQ", false)]
    [InlineData("h.p.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAI", true)]
    [InlineData("h.p.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQ==", true)]
    [InlineData("h.p.AAAA", false)]                 // whole bytes: no spare bits
    [InlineData("h.p.", false)]                     // unsigned: refused elsewhere (wrong_algorithm)
    [InlineData("h.p.AAAAB", false)]                // 4n + 1 characters decode to nothing: IdentityModel refuses it
    [InlineData("h.p.AA B", false)]                 // not base64url: IdentityModel refuses it
    [InlineData("h.p.x.y.AB", false)]               // a JWE has no signature to judge
    [InlineData("no dots at all", false)]
    public void FindsNonCanonicalSignatureSpelling(string token, bool nonCanonical)
    {
        AccessTokenValidation.HasNonCanonicalSignature(token).Should().Be(nonCanonical);
    }

    [Theory]
    [InlineData("""{"iat":1,"nbf":1,"exp":2}""", null)]
    [InlineData("""{"exp":1.5e9}""", null)]
    [InlineData("""{"sub":"x"}""", null)]
    [InlineData("""{"exp":"1900000000"}""", "exp")]
    [InlineData("""{"iat":1,"nbf":"1","exp":2}""", "nbf")]
    [InlineData("""{"iat":null}""", "iat")]
    [InlineData("""{"iat":[1]}""", "iat")]
    [InlineData("""{"other":{"exp":"nested, not a claim"},"exp":2}""", null)]
    public void FindsTimeClaimsThatAreNotJsonNumbers(string payload, string? claim)
    {
        AccessTokenValidation.NonNumericDate(TokenMinter.B64(payload)).Should().Be(claim);
    }
}
