using System.Text.RegularExpressions;

namespace JwtApi.Tests.Docs;

/// <summary>A fenced code block of a markdown file: its info string, its text, and the marker comment above it.</summary>
public sealed record FencedBlock(int Line, string Info, string Text, string? Marker);

/// <summary>The documentation as files: README.md and docs/*.md, read from the repository the tests run in.</summary>
public static partial class Markdown
{
    /// <summary>The repository's root: the folder of JwtApi.sln above the test binary.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>README.md and every page under docs/, as paths relative to the root with '/' separators.</summary>
    public static IReadOnlyList<string> Documents() =>
        [
            "README.md",
            .. Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Order(StringComparer.Ordinal)
                .Select(path => Path.GetRelativePath(Root, path).Replace('\\', '/')),
        ];

    public static string Read(string document) => File.ReadAllText(Path.Combine(Root, document)).ReplaceLineEndings("\n");

    /// <summary>
    /// The fenced blocks of <paramref name="text"/>, each with the HTML comment (<c>&lt;!-- doc-test: run --&gt;</c>)
    /// standing on the line right above its opening fence, if any.
    /// </summary>
    public static IReadOnlyList<FencedBlock> Blocks(string text)
    {
        var lines = text.Split('\n');
        var blocks = new List<FencedBlock>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (Fence().Match(lines[i]) is not { Success: true } open)
            {
                continue;
            }
            var fence = open.Groups["fence"].Value;
            var body = new List<string>();
            var start = i;
            for (i++; i < lines.Length && !lines[i].TrimStart().StartsWith(fence, StringComparison.Ordinal); i++)
            {
                body.Add(lines[i]);
            }
            var marker = start > 0 && MarkerLine().Match(lines[start - 1]) is { Success: true } m ? m.Groups["marker"].Value : null;
            blocks.Add(new FencedBlock(start + 1, open.Groups["info"].Value.Trim(), string.Join('\n', body), marker));
        }
        return blocks;
    }

    /// <summary>The text outside fenced blocks: links and anchors in code do not count.</summary>
    public static string Prose(string text) => FencedRegion().Replace(text, "");

    /// <summary>GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'.</summary>
    public static string Anchor(string heading)
    {
        var text = InlineCode().Replace(heading.Trim(), "$1");
        text = LinkText().Replace(text, "$1");
        var chars = text.ToLowerInvariant().Where(c => char.IsLetterOrDigit(c) || c is ' ' or '-' or '_').ToArray();
        return new string(chars).Replace(' ', '-');
    }

    /// <summary>Every anchor the headings of <paramref name="text"/> make, duplicates numbered as GitHub does.</summary>
    public static IReadOnlySet<string> Anchors(string text)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (Match heading in Heading().Matches(Prose(text)))
        {
            var anchor = Anchor(heading.Groups["title"].Value);
            var count = seen.GetValueOrDefault(anchor);
            seen[anchor] = count + 1;
            anchors.Add(count == 0 ? anchor : $"{anchor}-{count}");
        }
        foreach (Match explicitAnchor in HtmlAnchor().Matches(text))
        {
            anchors.Add(explicitAnchor.Groups["id"].Value);
        }
        return anchors;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "JwtApi.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("JwtApi.sln not found above the test binary.");
    }

    [GeneratedRegex(@"^\s*(?<fence>```+|~~~+)(?<info>.*)$")]
    private static partial Regex Fence();

    [GeneratedRegex(@"^\s*<!--\s*doc-test:\s*(?<marker>[a-z]+)\s*-->\s*$")]
    private static partial Regex MarkerLine();

    [GeneratedRegex(@"(?ms)^\s*(```+|~~~+).*?^\s*\1[^\n]*$")]
    private static partial Regex FencedRegion();

    [GeneratedRegex(@"(?m)^#{1,6}\s+(?<title>.+?)\s*#*\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"<a\s+(?:name|id)=""(?<id>[^""]+)""")]
    private static partial Regex HtmlAnchor();

    [GeneratedRegex(@"`([^`]*)`")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"\[([^\]]*)\]\([^)]*\)")]
    private static partial Regex LinkText();
}
