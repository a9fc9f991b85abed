using JwtApi.Tokens;

namespace JwtApi.Tests.Tokens;

public sealed class KeyCommandTests
{
    [Theory]
    [InlineData("RS256")]
    [InlineData("ES256")]
    [InlineData("HS256")]
    public void PrintsMaterialThatLoadsUnderThePrintedKid(string algorithm)
    {
        var output = new StringWriter();

        var exit = KeyCommand.Run(["keys", "generate", "--alg", algorithm], output, TextWriter.Null);

        exit.Should().Be(0);
        var lines = output.ToString().Split('\n');
        var kid = lines[0].Replace("# kid: ", "", StringComparison.Ordinal).Trim();
        var material = string.Join('\n', lines.Where(l => !l.StartsWith('#'))).Trim();
        SigningKey? key;
        var loaded = algorithm == "HS256"
            ? SigningKeys.TryHmac(material, "printed", "hs-", out key, out _)
            : SigningKeys.TryAsymmetric(algorithm, material, "printed", requirePrivate: true, out key, out _);
        loaded.Should().BeTrue();
        key!.KeyId.Should().Be(kid);
    }

    [Theory]
    [InlineData("keys")]
    [InlineData("keys generate --alg HS512")]
    [InlineData("keys generate")]
    public void Returns2WithUsageGivenBadArguments(string args)
    {
        var error = new StringWriter();

        KeyCommand.Run(args.Split(' '), TextWriter.Null, error).Should().Be(2);
        error.ToString().Should().Contain("usage");
    }
}
