using JwtApi.Users;

namespace JwtApi.Tests.Recovery;

public sealed class EmailAddressTests
{
    [Theory]
    [InlineData("Alice@Example.COM", "alice@example.com")]
    [InlineData("  bob@example.com ", "bob@example.com")]
    [InlineData("carol@bücher.example", "carol@xn--bcher-kva.example")]
    [InlineData("dave+tag@sub.example.org", "dave+tag@sub.example.org")]
    public void NormalizesForLookups(string input, string normalized) =>
        EmailAddress.Parse(input, out _)!.Normalized.Should().Be(normalized);

    [Fact]
    public void KeepsTheAddressAsTypedForSending() =>
        EmailAddress.Parse("  Alice@Example.COM ", out _)!.Value.Should().Be("Alice@Example.COM");

    [Theory]
    [InlineData("")]
    [InlineData("@example.com")]
    [InlineData("alice@")]
    [InlineData("alice@example")]
    [InlineData(".alice@example.com")]
    [InlineData("al..ice@example.com")]
    [InlineData("alice@exa mple.com")]
    [InlineData("alice\r\n@example.com")]
    [InlineData("\"alice\"@example.com")]
    [InlineData("alice@-bad-.com")]
    public void RefusesWhatIsNoPlainAddress(string input)
    {
        EmailAddress.Parse(input, out var error).Should().BeNull();
        error.Should().NotBeNullOrEmpty();
    }

    [Fact]
    public void RefusesAnAddressLongerThanSmtpAllows() =>
        EmailAddress.Parse(new string('a', 64) + "@" + new string('b', 186) + ".com", out _).Should().BeNull();
}
