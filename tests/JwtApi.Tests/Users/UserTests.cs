using JwtApi.Users;

namespace JwtApi.Tests.Users;

public sealed class UserTests
{
    [Theory]
    [InlineData("alice", true)]
    [InlineData("a.b_c-9", true)]
    [InlineData("ab", false)]
    [InlineData("alice\n", false)]
    [InlineData("alice smith", false)]
    [InlineData("аlice", false)]
    [InlineData(null, false)]
    public void ChecksUsernamesToTheirVeryEnd(string? username, bool valid)
    {
        // '$' in a .NET regex also matches before a final newline
        User.IsValidUsername(username).Should().Be(valid);
    }
}
