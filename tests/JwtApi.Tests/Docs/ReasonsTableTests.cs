using System.Reflection;
using System.Text.RegularExpressions;
using JwtApi.Hosting;

namespace JwtApi.Tests.Docs;

/// <summary>
/// The error tables of docs/reference.md and the reasons the code sends are one list: a reason added, renamed or
/// dropped in <see cref="Reasons"/> without the docs (or the other way round) fails here.
/// </summary>
public sealed partial class ReasonsTableTests
{
    private const string Document = "docs/reference.md";

    /// <summary>Every value of a constant in <see cref="Reasons"/>.</summary>
    private static IReadOnlySet<string> CodeReasons() => typeof(Reasons)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string))
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>The backticked values in the <c>reason</c> column of every table between the reasons markers.</summary>
    internal static IReadOnlySet<string> DocumentedReasons(string text)
    {
        var begin = text.IndexOf("<!-- reasons:begin -->", StringComparison.Ordinal);
        var end = text.IndexOf("<!-- reasons:end -->", StringComparison.Ordinal);
        if (begin < 0 || end < begin)
        {
            throw new InvalidOperationException($"{Document} has no <!-- reasons:begin --> … <!-- reasons:end --> region.");
        }
        var reasons = new HashSet<string>(StringComparer.Ordinal);
        var column = -1;
        foreach (var line in text[begin..end].Split('\n'))
        {
            if (!line.TrimStart().StartsWith('|'))
            {
                column = -1;   // a table ended
                continue;
            }
            var cells = line.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToList();
            if (column < 0)
            {
                column = cells.FindIndex(c => c == "reason" || c == "`reason`");
                continue;
            }
            if (column < cells.Count && !cells[column].StartsWith("---", StringComparison.Ordinal))
            {
                foreach (Match code in Backticked().Matches(cells[column]))
                {
                    reasons.Add(code.Groups[1].Value);
                }
            }
        }
        return reasons;
    }

    [Fact]
    public void DocumentsEveryReasonTheCodeSendsAndNoOther()
    {
        var documented = DocumentedReasons(Markdown.Read(Document));
        var code = CodeReasons();

        code.Except(documented).Should().BeEmpty($"every reason in Hosting/Reasons.cs belongs in the reason column of {Document}");
        documented.Except(code).Should().BeEmpty($"{Document} names only reasons the code has (Hosting/Reasons.cs)");
    }

    [Fact]
    public void ReadsTheReasonColumnOfEveryTable()
    {
        var text = "<!-- reasons:begin -->\n| Status | `error` | reason | When |\n|---|---|---|---|\n| 401 | `invalid_token` | `a_b` / `c_d` | x |\n\n" +
                   "Other text with `not_a_reason`.\n\n| reason | When |\n|---|---|\n| `e_f` | y |\n<!-- reasons:end -->\n| reason |\n|---|\n| `g_h` |";

        DocumentedReasons(text).Should().BeEquivalentTo(["a_b", "c_d", "e_f"]);
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Backticked();
}
