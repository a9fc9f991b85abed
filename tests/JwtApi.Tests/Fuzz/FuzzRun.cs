using System.Globalization;
using System.Text;

namespace JwtApi.Tests.Fuzz;

/// <summary>
/// The seed of a fuzz run. Every case draws from its own <see cref="Random"/>, seeded from the run's seed and the
/// case's index, so one case replays alone: <c>JWTAPI_FUZZ_SEED=s JWTAPI_FUZZ_CASE=i dotnet test --filter ...</c>.
/// Without <c>JWTAPI_FUZZ_SEED</c> the seed is fixed, so a run is the same run every time.
/// </summary>
public static class FuzzSeed
{
    public const int Default = 20261123;

    public static int Value { get; } = FromEnvironment("JWTAPI_FUZZ_SEED") ?? Default;

    /// <summary>The one case to replay, or null for the whole run.</summary>
    public static int? OnlyCase { get; } = FromEnvironment("JWTAPI_FUZZ_CASE");

    public static IEnumerable<int> Cases(int count) => OnlyCase is { } one ? [one] : Enumerable.Range(0, count);

    /// <summary>How many cases a run of <paramref name="count"/> sends at least (one when replaying).</summary>
    public static int Expected(int count) => OnlyCase is null ? count : 1;

    public static Random ForCase(int index) => new(unchecked((Value * 1_000_003) ^ index));

    private static int? FromEnvironment(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
}

/// <summary>What one property saw over a run: cases sent per generator, cases skipped, and every failure with its replay data.</summary>
public sealed class FuzzReport(string property)
{
    private const int MaxListed = 25;
    private readonly SortedDictionary<string, int> _sent = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, int> _skipped = new(StringComparer.Ordinal);
    private readonly List<string> _failures = [];
    private readonly SortedDictionary<string, int> _tallies = new(StringComparer.Ordinal);

    public int Sent => _sent.Values.Sum();

    public int Skipped => _skipped.Values.Sum();

    public void Skip(string generator) => _skipped[generator] = _skipped.GetValueOrDefault(generator) + 1;

    /// <summary>
    /// Counts a sent case; <paramref name="failure"/> is null when the property held. The input comes as
    /// <see cref="Show(string)"/> or <see cref="Show(byte[])"/> prints it.
    /// </summary>
    public void Record(int index, string generator, string request, string input, string? failure)
    {
        _sent[generator] = _sent.GetValueOrDefault(generator) + 1;
        if (failure is not null)
        {
            _failures.Add($"case {index} [{generator}] {request} {input}\n    -> {failure}");
        }
    }

    /// <summary>A count kept for the summary, such as how often an optional outcome happened.</summary>
    public void Tally(string what) => _tallies[what] = _tallies.GetValueOrDefault(what) + 1;

    /// <summary>Every failure, shortened: the assertion message lists the first few in full.</summary>
    public IEnumerable<string> FailureHeadlines => _failures.Select(failure =>
    {
        var lines = failure.Split('\n');
        return $"{Shorten(lines[0], 200)} {Shorten(lines[1].Trim(), 100)}";
    });

    private static string Shorten(string text, int max) => text.Length > max ? text[..max] + "..." : text;

    public string Summary =>
        $"{property}, seed {FuzzSeed.Value}: {Sent} cases sent ({string.Join(", ", _sent.Select(g => $"{g.Key} {g.Value}"))}), " +
        $"{Skipped} not sendable ({string.Join(", ", _skipped.Select(g => $"{g.Key} {g.Value}"))}), " +
        (_tallies.Count > 0 ? string.Join(", ", _tallies.Select(t => $"{t.Key}: {t.Value}")) + ", " : "") + $"{_failures.Count} failed";

    /// <summary>Fails with the seed, the replay command and the first failures when the property did not hold.</summary>
    public void ShouldHold(int minimumSent)
    {
        if (_failures.Count > 0)
        {
            Assert.Fail($"{Summary}.\nReplay one case: JWTAPI_FUZZ_SEED={FuzzSeed.Value} JWTAPI_FUZZ_CASE=<case> " +
                        $"dotnet test --filter \"FullyQualifiedName~Fuzz\"\n{string.Join("\n", _failures.Take(MaxListed))}");
        }
        Sent.Should().BeGreaterThanOrEqualTo(minimumSent, Summary);
    }

    /// <summary>An input as C#-like escaped text, shortened in the middle past a few thousand characters.</summary>
    public static string Show(string input)
    {
        const int Half = 1000;
        return input.Length <= 2 * Half
            ? $"\"{Escape(input)}\""
            : $"\"{Escape(input[..Half])}\" ...[{input.Length - 2 * Half} more characters]... \"{Escape(input[^Half..])}\"";
    }

    private static string Escape(string text) => string.Concat(text.Select(c => c switch
    {
        '"' => "\\\"",
        '\\' => "\\\\",
        < ' ' or (>= '\u007f' and <= '\u00a0') or > '\u00ff' => $"\\u{(int)c:x4}",
        _ => c.ToString(),
    }));

    /// <summary>Bytes as text: printable ASCII as it is, anything else as \xNN.</summary>
    public static string Show(byte[] input)
    {
        const int Half = 1000;
        static string Escape(IEnumerable<byte> bytes) =>
            string.Concat(bytes.Select(b => b is >= 0x20 and < 0x7f and not (byte)'\\' and not (byte)'"' ? ((char)b).ToString() : $"\\x{b:x2}"));
        return input.Length <= 2 * Half
            ? $"b\"{Escape(input)}\""
            : $"b\"{Escape(input[..Half])}\" ...[{input.Length - 2 * Half} more bytes]... b\"{Escape(input[^Half..])}\"";
    }
}

/// <summary>Random pieces the generators share.</summary>
public static class Draw
{
    /// <summary>Mostly short, sometimes up to <paramref name="max"/>: small inputs find parser edge cases, big ones find limits.</summary>
    public static int Length(Random rng, int max) => rng.Next(4) switch
    {
        0 => rng.Next(0, Math.Min(8, max) + 1),
        1 => rng.Next(0, Math.Min(64, max) + 1),
        _ => rng.Next(0, max + 1),
    };

    public static T Pick<T>(Random rng, IReadOnlyList<T> items) => items[rng.Next(items.Count)];

    public static bool Chance(Random rng, double probability) => rng.NextDouble() < probability;

    public static byte[] Bytes(Random rng, int length)
    {
        var bytes = new byte[length];
        rng.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Each byte as the character of the same code (ISO-8859-1), controls included.</summary>
    public static string Latin1(Random rng, int length) => Encoding.Latin1.GetString(Bytes(rng, length));

    public const string Base64UrlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    public static string Base64Url(Random rng, int length) =>
        string.Create(length, rng, (span, r) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = Base64UrlAlphabet[r.Next(Base64UrlAlphabet.Length)];
            }
        });

    /// <summary>Characters that break parsers: controls, separators, escapes, bidi marks, lone surrogates, emoji halves.</summary>
    private static readonly string[] Awkward =
    [
        "\0", "\t", " ", "\u0085", "\u00a0", "\u00ff", "é", "ß", "\u202e", "\u200f", "\u2028", "\ufeff", "\uffff",
        "\ud800", "\udc00", "😀", "\"", "\\", "/", ".", "=", "+", "%", "'", ";", "{", "}", "[", "]", ",", ":", "<",
    ];

    public static string Text(Random rng, int maxLength)
    {
        var text = new StringBuilder();
        for (var i = Length(rng, maxLength); i > 0; i--)
        {
            text.Append(rng.Next(3) == 0 ? Pick(rng, Awkward) : ((char)rng.Next(0x20, 0x7f)).ToString());
        }
        return text.ToString();
    }
}

/// <summary>
/// JSON text built by hand, so it can hold what a serializer would never write: lone surrogates (as \ud800
/// escapes), duplicate keys, nesting deeper than any parser's limit, numbers beyond every numeric type.
/// </summary>
public static class JsonText
{
    /// <summary>A JSON string literal; controls and surrogates (paired or not) are written as \u escapes.</summary>
    public static string String(string value)
    {
        var json = new StringBuilder("\"");
        foreach (var c in value)
        {
            json.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                < ' ' or (>= '\ud800' and <= '\udfff') => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }
        return json.Append('"').ToString();
    }

    public static string Object(IEnumerable<(string Name, string Raw)> members) =>
        "{" + string.Join(",", members.Select(m => $"{String(m.Name)}:{m.Raw}")) + "}";

    /// <summary><paramref name="depth"/> nested arrays or objects around a value.</summary>
    public static string Nested(Random rng, int depth) => rng.Next(2) == 0
        ? new string('[', depth) + "1" + new string(']', depth)
        : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);

    /// <summary>Deeper than System.Text.Json's default limit of 64, up to a few thousand levels.</summary>
    public static string TooDeep(Random rng) => Nested(rng, rng.Next(65, rng.Next(4) == 0 ? 5000 : 1000));

    public static readonly string[] Numbers =
    [
        "0", "-0", "-1", "1.5", "1e300", "-1e300", "1e-300", "9223372036854775807", "9223372036854775808",
        "-9223372036854775809", "18446744073709551616", "253402300800", "99999999999999999999999999999999999999",
        "2147483648", "-2147483649", "0.000000001", "1E+2",
    ];

    /// <summary>Member names of no endpoint, so a random object never binds to a real field.</summary>
    private static readonly string[] Names = ["a", "x", "0", "", " ", "__proto__", "$id", "$ref", "\u0000", "😀", "ü"];

    /// <summary>Any JSON value, at most a few levels deep unless it is one of the deliberately deep ones.</summary>
    public static string Value(Random rng, int depth = 0) => rng.Next(depth >= 3 ? 5 : 8) switch
    {
        0 => Draw.Pick(rng, ["null", "true", "false"]),
        1 => Draw.Pick(rng, Numbers),
        2 => rng.Next(-1_000_000, 1_000_000).ToString(CultureInfo.InvariantCulture),
        3 or 4 => String(Draw.Text(rng, 60)),
        5 => "[" + string.Join(",", Enumerable.Range(0, rng.Next(5)).Select(_ => Value(rng, depth + 1))) + "]",
        6 => Object(Enumerable.Range(0, rng.Next(5)).Select(_ => (Draw.Pick(rng, Names), Value(rng, depth + 1)))),
        _ => Nested(rng, rng.Next(1, 200)),
    };
}
