using System.Text.RegularExpressions;

namespace JwtApi.Tests.Docs;

/// <summary>Every relative link of README.md and docs/ leads somewhere: the file exists, and so does the heading it names.</summary>
public sealed partial class LinksTests
{
    public static TheoryData<string> Documents() => [.. Markdown.Documents()];

    [Theory]
    [MemberData(nameof(Documents))]
    public void ResolvesEveryRelativeLinkAndAnchor(string document)
    {
        var text = Markdown.Read(document);
        var folder = Path.GetDirectoryName(Path.Combine(Markdown.Root, document))!;
        var broken = new List<string>();
        var checkedLinks = 0;
        foreach (Match link in Link().Matches(InlineCode().Replace(Markdown.Prose(text), "")))
        {
            var target = link.Groups["target"].Value;
            if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
            {
                continue;
            }
            checkedLinks++;
            var hash = target.IndexOf('#', StringComparison.Ordinal);
            var path = hash < 0 ? target : target[..hash];
            var anchor = hash < 0 ? null : target[(hash + 1)..];
            var file = path.Length == 0 ? Path.Combine(Markdown.Root, document) : Path.GetFullPath(Path.Combine(folder, Uri.UnescapeDataString(path)));
            if (!File.Exists(file) && !Directory.Exists(file))
            {
                broken.Add($"{target}: no such file");
            }
            else if (anchor is not null && file.EndsWith(".md", StringComparison.Ordinal) &&
                     !Markdown.Anchors(File.ReadAllText(file).ReplaceLineEndings("\n")).Contains(anchor))
            {
                broken.Add($"{target}: no heading makes #{anchor}");
            }
        }

        broken.Should().BeEmpty($"every relative link of {document} must resolve ({checkedLinks} checked)");
    }

    [Fact]
    public void MakesGitHubAnchors()
    {
        Markdown.Anchor("Browser apps: the refresh cookie").Should().Be("browser-apps-the-refresh-cookie");
        Markdown.Anchor("Use it from an OAuth client").Should().Be("use-it-from-an-oauth-client");
        Markdown.Anchor("`Jwt:SigningKeys` and rotation").Should().Be("jwtsigningkeys-and-rotation");
        Markdown.Anchors("# A\n## A\n```\n# not a heading\n```\n").Should().BeEquivalentTo(["a", "a-1"]);
    }

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)(?:\s+""[^""]*"")?\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"`[^`\n]*`")]
    private static partial Regex InlineCode();
}
