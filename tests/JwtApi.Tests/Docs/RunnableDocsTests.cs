using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using JwtApi.Tests.Support;
using Xunit.Abstractions;

namespace JwtApi.Tests.Docs;

/// <summary>
/// The shell examples of README.md and docs/ that are marked <c>&lt;!-- doc-test: run --&gt;</c> run, in document order
/// and in one bash session, against a freshly started service (real Kestrel, a fresh database, the bootstrap admin
/// of the README's quick start), with <c>http://localhost:5000</c> replaced by its address. The block marked
/// <c>&lt;!-- doc-test: expect --&gt;</c> right after a run block is what the document says it prints: every non-empty
/// line of it must occur in that block's output, <c>…</c> standing for any text. So a documented command or answer
/// that the code no longer gives fails the build.
/// </summary>
public sealed partial class RunnableDocsTests(ITestOutputHelper output)
{
    /// <summary>Tools some walk-throughs use beyond bash, curl and jq.</summary>
    private static readonly string[] OptionalTools = ["oathtool"];

    private static bool UsesTool(string block, string tool) => Regex.IsMatch(block, $@"(^|[\s$(|;&]){Regex.Escape(tool)}\b", RegexOptions.Multiline);

    public const string RequiredVariable = "JWTAPI_DOC_TESTS";

    private static IEnumerable<string> ExampleDocuments() =>
        Markdown.Documents().Where(d => Markdown.Blocks(Markdown.Read(d)).Any(b => b.Marker == "run"));

    public static TheoryData<string> DocumentsWithExamples() => [.. ExampleDocuments()];

    [Fact]
    public void MarksTheReadmeWalkthroughAsRunnable() => ExampleDocuments().Should().Contain("README.md");

    [DocTestTheory]
    [MemberData(nameof(DocumentsWithExamples))]
    public async Task RunsEveryMarkedExampleAndPrintsWhatTheDocumentShows(string document)
    {
        var blocks = Markdown.Blocks(Markdown.Read(document));
        var runs = blocks.Select((block, i) => (Block: block, Expect: i + 1 < blocks.Count && blocks[i + 1].Marker == "expect" ? blocks[i + 1] : null))
            .Where(b => b.Block.Marker == "run").ToList();
        // A walk-through that needs an optional tool (oathtool plays the authenticator app) runs up to the first
        // block that uses a missing one: the blocks after it build on its state. CI installs them and sets
        // JWTAPI_DOC_TESTS=required, so there every block runs.
        var firstUnrunnable = Environment.GetEnvironmentVariable(RequiredVariable) == "required" ? -1
            : runs.FindIndex(r => OptionalTools.Any(tool => UsesTool(r.Block.Text, tool) && !DocTestTheoryAttribute.OnPath(tool)));
        if (firstUnrunnable >= 0)
        {
            var missing = OptionalTools.Where(tool => !DocTestTheoryAttribute.OnPath(tool));
            output.WriteLine($"{document}:{runs[firstUnrunnable].Block.Line} and the {runs.Count - firstUnrunnable - 1} blocks after it not run: {string.Join(", ", missing)} not found (install it, or set {RequiredVariable}=required to fail instead)");
            runs = runs[..firstUnrunnable];
        }
        using var app = new JwtApiFactory { Environment = "Development" };
        app.Settings["Seed:AdminUsername"] = "admin";
        app.Settings["Seed:AdminPassword"] = "admin-dev-password";
        app.Settings["Passwords:WorkFactor"] = "10";
        using var server = app.StartOnKestrel();
        var baseUrl = server.CreateClient().BaseAddress!.ToString().TrimEnd('/');

        var outputs = await RunAsync(runs.Select(r => r.Block.Text.Replace("http://localhost:5000", baseUrl, StringComparison.Ordinal)).ToList());

        var failures = new List<string>();
        for (var i = 0; i < runs.Count; i++)
        {
            var (block, expect) = runs[i];
            var printed = outputs[i];
            foreach (var trouble in new[] { "curl: (", "jq: error", "command not found", "parse error" })
            {
                if (printed.Contains(trouble, StringComparison.Ordinal))
                {
                    failures.Add($"{document}:{block.Line}: the example failed ({trouble}…):\n{printed}");
                }
            }
            foreach (var line in (expect?.Text ?? "").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0))
            {
                if (!Matches(line, printed))
                {
                    failures.Add($"{document}:{expect!.Line}: the example at line {block.Line} does not print\n  {line}\nIt printed:\n{printed}");
                }
            }
        }
        failures.Should().BeEmpty($"every marked example of {document} prints what the document shows ({runs.Count} run)");
    }

    [Fact]
    public void MatchesExpectedLinesWithEllipsisAsAnyText()
    {
        const string output = "HTTP/1.1 401 Unauthorized\nWWW-Authenticate: Bearer\n{\"title\":\"Invalid token\",\"traceId\":\"00-abc-01\"}";

        Matches("HTTP/1.1 401 Unauthorized", output).Should().BeTrue();
        Matches("{\"title\":\"Invalid token\",\"traceId\":\"00-…\"}", output).Should().BeTrue();
        Matches("HTTP/1.1 403 Forbidden", output).Should().BeFalse();
        Matches("{\"title\":\"Forbidden\",…}", output).Should().BeFalse();
    }

    /// <summary>True when one line of <paramref name="output"/> holds <paramref name="expected"/>, '…' matching any text.</summary>
    internal static bool Matches(string expected, string output)
    {
        var pattern = new Regex(string.Join(".*", expected.Split('…').Select(Regex.Escape)), RegexOptions.CultureInvariant);
        return output.Split('\n').Any(line => pattern.IsMatch(line.TrimEnd('\r')));
    }

    /// <summary>Runs the blocks in one bash session in a fresh folder; returns each block's output (stdout and stderr).</summary>
    private static async Task<IReadOnlyList<string>> RunAsync(IReadOnlyList<string> blocks)
    {
        var work = Directory.CreateTempSubdirectory("jwtapi-doc-test-");
        try
        {
            var script = new StringBuilder("exec 2>&1\n");
            for (var i = 0; i < blocks.Count; i++)
            {
                script.Append($"printf '\\n{Separator(i)}\\n'\n").Append(blocks[i]).Append('\n');
            }
            var startInfo = new ProcessStartInfo("bash")
            {
                WorkingDirectory = work.FullName,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            using var bash = Process.Start(startInfo)!;
            await bash.StandardInput.WriteAsync(script.ToString());
            bash.StandardInput.Close();
            var read = bash.StandardOutput.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            try
            {
                await bash.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                bash.Kill(entireProcessTree: true);
                throw new TimeoutException("The documented examples did not finish in two minutes.");
            }
            var output = (await read).ReplaceLineEndings("\n");
            return Enumerable.Range(0, blocks.Count).Select(i =>
            {
                var start = output.IndexOf(Separator(i), StringComparison.Ordinal);
                var end = i + 1 < blocks.Count ? output.IndexOf(Separator(i + 1), StringComparison.Ordinal) : output.Length;
                return start < 0 ? "" : output[(start + Separator(i).Length)..(end < 0 ? output.Length : end)];
            }).ToList();
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static string Separator(int block) => $"@@doc-test block {block}@@";

    /// <summary>The examples need bash, curl and jq; without them the test is skipped, unless JWTAPI_DOC_TESTS=required (as in CI).</summary>
    public sealed class DocTestTheoryAttribute : TheoryAttribute
    {
        public DocTestTheoryAttribute()
        {
            var missing = new[] { "bash", "curl", "jq" }.Where(tool => !OnPath(tool)).ToList();
            if (missing.Count > 0 && Environment.GetEnvironmentVariable(RequiredVariable) != "required")
            {
                Skip = $"{string.Join(", ", missing)} not found: the documented examples use them. Skipped; with {RequiredVariable}=required (as in CI) this fails instead.";
            }
        }

        internal static bool OnPath(string tool) =>
            (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
                .Any(dir => File.Exists(Path.Combine(dir, tool)));
    }
}
