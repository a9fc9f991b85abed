using System.Text;
using System.Text.Json;

namespace JwtApi.Tests.Fuzz;

/// <summary>A request body as sent: its bytes and its Content-Type header (null: none).</summary>
public sealed record BodyCase(string Generator, byte[] Body, string? ContentType);

/// <summary>A member of a JSON body: a valid value, and values the endpoint must refuse.</summary>
/// <param name="Name">As on the wire.</param>
/// <param name="Valid">Raw JSON of a valid value.</param>
/// <param name="Invalid">Raw JSON of refused values of the right type; wrong types are added by <see cref="JsonBodyInputs"/>.</param>
/// <param name="IsArray">An array of strings (roles) rather than a string.</param>
/// <param name="Optional">Absent or null is valid, so neither is a defect here.</param>
/// <param name="AnyOtherStringRefused">
/// Every other string is refused too (a username of the wrong shape, a wrong password): a byte corrupted inside
/// the valid value keeps the body invalid. Not so for a new password, which many strings satisfy.
/// </param>
public sealed record BodyField(
    string Name, string Valid, IReadOnlyList<string> Invalid, bool IsArray = false, bool Optional = false, bool AnyOtherStringRefused = true);

/// <summary>
/// Invalid JSON bodies for one endpoint. Every case is invalid on purpose: a valid body from the endpoint's
/// fields gets exactly one defect (a wrong type, a missing or refused value, a duplicate key whose last copy is
/// refused, invalid UTF-8, a non-JSON Content-Type), and may then get changes that never make a body valid
/// (members no endpoint reads, another order); or the body is not a JSON object at all.
/// </summary>
public sealed class JsonBodyInputs(IReadOnlyList<BodyField> fields, bool bodyOptional = false)
{
    /// <summary>JSON content types (application/json or any +json type), with usual, odd and unknown charsets.</summary>
    private static readonly string[] JsonTypes =
    [
        "application/json; charset=utf-8", "APPLICATION/JSON", "application/problem+json", "application/vnd.jwtapi+json",
        "application/json; charset=utf-16", "application/json; charset=latin1", "application/json; charset=bogus",
        "application/json; charset=\"\"", "application/json; charset=\"utf-8\"", "application/json; charset=UTF-8",
        "application/json; charset=utf8", "application/json;;", "application/json; a=b; c",
    ];

    /// <summary>Content types that are not JSON: the body must be refused whatever it holds.</summary>
    private static readonly string?[] NotJsonTypes =
    [
        null, "text/plain", "text/json", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
        "application/jsonx", "json", "application/*", "*/*", "application/json/x", ";", "", "text/plain; charset=utf-8",
    ];

    /// <summary>Names no endpoint reads (compared without case, as binding does), some of them tempting: mass assignment.</summary>
    private static readonly string[] ExtraNames =
    [
        "x", "extra", "roles", "role", "is_admin", "admin", "id", "password_hash", "token_version", "disabled", "refresh_token",
        "grant_type", "username2", "$type", "$id", "__proto__", "constructor", "", " ", "\u0000", "😀", new string('n', 1000),
    ];

    private static readonly string[] WrongStringTypes = ["123", "-1.5e300", "0", "true", "false", "{}", "{\"a\":1}", "[]", "[\"x\"]", "[[]]"];

    private static readonly string[] WrongArrayTypes = ["123", "true", "\"admin\"", "\"\"", "{}", "{\"0\":\"admin\"}"];

    /// <summary>A stray byte, a broken pair, an overlong '/', an encoded surrogate, past U+10FFFF, a cut sequence, a lone continuation, a BOM-like pair.</summary>
    private static readonly byte[][] InvalidUtf8 = [[0xFF], [0xC3, 0x28], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80], [0xFE, 0xFF]];

    private IEnumerable<(string Name, string Raw)> Template => fields.Select(f => (f.Name, f.Valid));

    public BodyCase Next(Random rng) => rng.Next(100) switch
    {
        < 7 => new("random-bytes", Draw.Bytes(rng, 1 + Draw.Length(rng, 2047)), Json(rng)),
        < 13 => Text("json-soup", Soup(rng), rng),
        < 18 => Text("wrong-top-level", WrongTopLevel(rng), rng),
        < 25 => Truncated(rng),
        < 31 => TooDeep(rng),
        < 42 => Structured("wrong-type", rng, WrongType),
        < 48 => Structured("missing", rng, Missing),
        < 64 => Structured("invalid-value", rng, InvalidValue),
        < 71 => Structured("huge", rng, Huge),
        < 79 => Structured("duplicate-key", rng, DuplicateKey),
        < 88 => InvalidUtf8Inside(rng),
        _ => new("not-json-content-type", Encoding.UTF8.GetBytes(JsonText.Object(Template)), Draw.Pick(rng, NotJsonTypes)),
    };

    private static string Json(Random rng) => Draw.Chance(rng, 0.8) ? "application/json" : Draw.Pick(rng, JsonTypes);

    private static BodyCase Text(string generator, string json, Random rng) => new(generator, Encoding.UTF8.GetBytes(json), Json(rng));

    /// <summary>Random JSON tokens in random order, made unparseable if they happen to parse.</summary>
    private string Soup(Random rng)
    {
        string[] pieces = ["{", "}", "[", "]", ",", ":", "\"", " ", "\n", "null", "true", "1", "-", ".", "e", "\\", "\\u", "'", "/*", "//"];
        var soup = new StringBuilder();
        for (var i = rng.Next(1, 80); i > 0; i--)
        {
            soup.Append(rng.Next(4) switch
            {
                0 => JsonText.String(Draw.Pick(rng, fields).Name),
                1 => Draw.Pick(rng, fields).Valid,
                _ => Draw.Pick(rng, pieces),
            });
        }
        return Parses(soup.ToString()) ? soup + "]" : soup.ToString();
    }

    private static bool Parses(string json)
    {
        try
        {
            using var _ = JsonDocument.Parse(json);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>A JSON value that is not an object (nor null where the body is optional).</summary>
    private string WrongTopLevel(Random rng)
    {
        var value = rng.Next(3) == 0
            ? JsonText.Value(rng)
            : Draw.Pick(rng, ["123", "\"str\"", "true", "false", "[]", "null", "\"{}\"", $"[{JsonText.Object(Template)}]", JsonText.String(JsonText.Object(Template))]);
        return value.StartsWith('{') || (bodyOptional && value == "null") ? "[]" : value;
    }

    /// <summary>A valid body cut short; empty only where a body is required.</summary>
    private BodyCase Truncated(Random rng)
    {
        var json = JsonText.Object(Template);
        return Text("truncated", json[..rng.Next(bodyOptional ? 1 : 0, json.Length)], rng);
    }

    private BodyCase TooDeep(Random rng) => rng.Next(3) switch
    {
        0 => Text("too-deep", JsonText.TooDeep(rng), rng),
        1 => Structured("too-deep", rng, (members, r) => Set(members, Draw.Pick(r, fields).Name, JsonText.TooDeep(r))),
        _ => Structured("too-deep", rng, (members, r) => members.Add(("x", JsonText.TooDeep(r)))),
    };

    /// <summary>One defect on the template, then changes that keep it invalid, then a JSON content type.</summary>
    private BodyCase Structured(string generator, Random rng, Action<List<(string Name, string Raw)>, Random> defect)
    {
        var members = Template.ToList();
        defect(members, rng);
        if (Draw.Chance(rng, 0.3))
        {
            foreach (var name in Enumerable.Range(0, rng.Next(1, 4)).Select(_ => Draw.Pick(rng, ExtraNames))
                         .Where(n => !fields.Any(f => f.Name.Equals(n, StringComparison.OrdinalIgnoreCase))))
            {
                members.Insert(rng.Next(members.Count + 1), (name, JsonText.Value(rng)));
            }
        }
        // another order, unless a name repeats: the last copy is the defect
        if (Draw.Chance(rng, 0.2) && members.DistinctBy(m => m.Name.ToUpperInvariant()).Count() == members.Count)
        {
            members = [.. members.OrderBy(_ => rng.Next())];
        }
        var json = JsonText.Object(members);
        if (Draw.Chance(rng, 0.1))
        {
            json = json.Replace(",", " ,\n\t").Replace(":", " : ");
        }
        return Text(generator, json, rng);
    }

    private static void Set(List<(string Name, string Raw)> members, string name, string raw)
    {
        var i = members.FindIndex(m => m.Name == name);
        members[i] = (name, raw);
    }

    private BodyField Field(Random rng, Func<BodyField, bool>? where = null) =>
        Draw.Pick(rng, fields.Where(where ?? (_ => true)).DefaultIfEmpty(fields[0]).ToList());

    private IReadOnlyList<string> WrongTypes(BodyField field) =>
        [.. field.IsArray ? WrongArrayTypes : WrongStringTypes, .. field.Optional ? [] : new[] { "null" }];

    private void WrongType(List<(string Name, string Raw)> members, Random rng)
    {
        var field = Field(rng);
        Set(members, field.Name, Draw.Pick(rng, WrongTypes(field)));
    }

    /// <summary>A required member left out; where every member is optional, a wrong type instead.</summary>
    private void Missing(List<(string Name, string Raw)> members, Random rng)
    {
        if (!fields.Any(f => !f.Optional))
        {
            WrongType(members, rng);
            return;
        }
        var field = Field(rng, f => !f.Optional);
        members.RemoveAll(m => m.Name == field.Name);
    }

    private void InvalidValue(List<(string Name, string Raw)> members, Random rng)
    {
        var field = Field(rng, f => f.Invalid.Count > 0);
        Set(members, field.Name, Draw.Pick(rng, field.Invalid));
    }

    /// <summary>10-100 KB: past every length limit (the longest, a refresh token, is 8 KB); for roles, thousands of them.</summary>
    private void Huge(List<(string Name, string Raw)> members, Random rng)
    {
        var field = Field(rng);
        var length = rng.Next(10_000, 100_001);
        Set(members, field.Name, field.IsArray
            ? "[" + string.Join(",", Enumerable.Repeat("\"role\"", length / 8)) + "]"
            : JsonText.String(Draw.Chance(rng, 0.5) ? new string('a', length) : Draw.Text(rng, 200) + new string('\u00e9', length)));
    }

    /// <summary>A second copy of a member, refused, after the valid one: the last copy is what binding keeps.</summary>
    private void DuplicateKey(List<(string Name, string Raw)> members, Random rng)
    {
        var field = Field(rng);
        members.Add((field.Name, Draw.Pick(rng, [.. field.Invalid, .. WrongTypes(field)])));
    }

    /// <summary>Bytes that are not UTF-8, inside a value that no other string would make valid, or between tokens.</summary>
    private BodyCase InvalidUtf8Inside(Random rng)
    {
        const char Marker = '\u0001';
        var members = Template.ToList();
        var eligible = fields.Where(f => f.AnyOtherStringRefused).ToList();
        string json;
        if (eligible.Count > 0 && Draw.Chance(rng, 0.7))
        {
            var field = Draw.Pick(rng, eligible);
            var raw = field.Valid;
            var quote = raw.IndexOf('"', StringComparison.Ordinal);
            Set(members, field.Name, raw.Insert(quote + 1 + rng.Next(raw.IndexOf('"', quote + 1) - quote), Marker.ToString()));
            json = JsonText.Object(members);
        }
        else
        {
            json = JsonText.Object(members).Insert(1, Marker.ToString());
        }
        var bytes = Encoding.UTF8.GetBytes(json).ToList();
        var at = bytes.IndexOf((byte)Marker);
        bytes.RemoveAt(at);
        bytes.InsertRange(at, Draw.Pick(rng, InvalidUtf8));
        return new("invalid-utf8", [.. bytes], "application/json");
    }
}

/// <summary>
/// Invalid forms for <c>POST /token</c>: random bytes, a valid password or refresh_token grant with exactly one
/// defect (wrong credentials, a parameter missing, empty, repeated or unknown, scope, too many or too long
/// parameters, broken percent-encoding), and valid forms sent as another media type.
/// </summary>
public sealed class FormInputs(string username, string password, IReadOnlyList<string> wrongUsernames,
    IReadOnlyList<string> wrongPasswords, IReadOnlyList<string> wrongRefreshTokens, string refreshToken)
{
    private const string FormType = "application/x-www-form-urlencoded";

    private static readonly string[] FormTypes =
    [
        FormType + "; charset=utf-8", FormType + "; charset=utf-16", FormType + "; charset=latin1", FormType + "; charset=bogus",
        FormType + "; charset=\"\"", FormType + "; charset=\"utf-8\"", FormType + ";;", FormType + "; a=b; c",
    ];

    private static readonly string?[] NotFormTypes =
    [
        null, "application/json", "text/plain", "multipart/form-data; boundary=x", FormType + "x", "application/x-www-form",
        "form", "*/*", "application/*", "", ";",
    ];

    private List<(string Key, string Value)> PasswordGrant => [("grant_type", "password"), ("username", username), ("password", password)];

    private List<(string Key, string Value)> RefreshGrant => [("grant_type", "refresh_token"), ("refresh_token", refreshToken)];

    public BodyCase Next(Random rng) => rng.Next(100) switch
    {
        < 8 => new("random-bytes", Draw.Bytes(rng, Draw.Length(rng, 2048)), Form(rng)),
        < 14 => new("form-soup", Encoding.UTF8.GetBytes(Soup(rng)), Form(rng)),
        < 30 => Defect("wrong-credentials", rng, PasswordGrant, (p, r) =>
        {
            if (r.Next(2) == 0)
            {
                p[1] = ("username", Draw.Pick(r, wrongUsernames));
            }
            else
            {
                p[2] = ("password", Draw.Pick(r, wrongPasswords));
            }
        }),
        < 40 => Defect("wrong-refresh-token", rng, RefreshGrant, (p, r) => p[1] = ("refresh_token", Draw.Pick(r, wrongRefreshTokens))),
        < 48 => Defect("missing-or-empty", rng, Grant(rng), (p, r) =>
        {
            var i = r.Next(p.Count);
            if (r.Next(2) == 0)
            {
                p.RemoveAt(i);
            }
            else
            {
                p[i] = (p[i].Key, "");
            }
        }),
        < 56 => Defect("grant-type", rng, Grant(rng), (p, r) => p[0] = ("grant_type", Draw.Pick(r, [
            "PASSWORD", "Password", "client_credentials", "authorization_code", "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "password ", " password", "password\0", "refresh_token\n", "implicit", "*", "' OR 1=1", new string('g', 5000), "пароль"]))),
        < 62 => Defect("repeated", rng, Grant(rng), (p, r) =>
        {
            var (key, value) = Draw.Pick(r, p);
            p.Insert(r.Next(p.Count + 1), (key, r.Next(2) == 0 ? value : "other"));
        }),
        < 67 => Defect("scope", rng, Grant(rng), (p, r) => p.Insert(r.Next(p.Count + 1), ("scope", Draw.Pick(r, ["openid", "admin", " ", "a b", "\0"])))),
        < 74 => Defect("limits", rng, Grant(rng), (p, r) =>
        {
            switch (r.Next(3))
            {
                case 0:   // more than 16 parameters
                    p.AddRange(Enumerable.Range(0, r.Next(14, 200)).Select(i => ($"x{i}", "1")));
                    break;
                case 1:   // a value over 8,192 characters
                    var i = r.Next(p.Count);
                    p[i] = (p[i].Key, p[i].Value + new string('v', r.Next(8193, 100_000)));
                    break;
                default:  // a name over 64 characters
                    p.Add((new string('k', r.Next(65, 5000)), "1"));
                    break;
            }
        }),
        < 82 => BadEncoding(rng),
        < 92 => new("not-form-content-type", Encoding.UTF8.GetBytes(Encode(Grant(rng))), Draw.Pick(rng, NotFormTypes)),
        _ => new("json-body", Encoding.UTF8.GetBytes(JsonText.Object(Grant(rng).Select(p => (p.Key, JsonText.String(p.Value))))),
            rng.Next(2) == 0 ? "application/json" : FormType),
    };

    private List<(string Key, string Value)> Grant(Random rng) => rng.Next(2) == 0 ? PasswordGrant : RefreshGrant;

    private static string Form(Random rng) => Draw.Chance(rng, 0.8) ? FormType : Draw.Pick(rng, FormTypes);

    /// <summary>One defect on a valid form, maybe a few ignored parameters, then a form content type.</summary>
    private static BodyCase Defect(string generator, Random rng, List<(string Key, string Value)> form, Action<List<(string Key, string Value)>, Random> defect)
    {
        defect(form, rng);
        if (Draw.Chance(rng, 0.3) && form.Count <= 8)
        {
            form.Insert(rng.Next(form.Count + 1), Draw.Pick(rng, [("client_id", "x"), ("client_secret", "y"), ("state", "z"), ("", "v"), ("k", "")]));
        }
        return new(generator, Encoding.UTF8.GetBytes(Encode(form)), Form(rng));
    }

    /// <summary>Percent-escapes that decode to nothing valid, glued to a value so that it no longer matches.</summary>
    private BodyCase BadEncoding(Random rng)
    {
        var form = Encode(Grant(rng));
        var bad = Draw.Pick(rng, ["%", "%z", "%zz", "%E9", "%00", "%C0%AF", "%ED%A0%80", "%FF%FE", "%%", "%u0041", "+%2"]);
        // after a value (so it is wrong) or inside a name (so the parameter is missing)
        var at = rng.Next(2) == 0 ? form.Length : form.IndexOf('=', StringComparison.Ordinal) - 1;
        return new("bad-encoding", Encoding.UTF8.GetBytes(form.Insert(at, bad)), Form(rng));
    }

    /// <summary>Random parameters, never with the right password or a usable refresh token.</summary>
    private string Soup(Random rng)
    {
        string[] keys = ["grant_type", "username", "password", "refresh_token", "scope", "client_id", "", "%", "a"];
        string[] values = ["password", "refresh_token", username, "", "%zz", "=", "&", "\0", ..wrongPasswords.Take(3)];
        return string.Join(Draw.Pick(rng, ["&", "&&", ";", "&amp;"]), Enumerable.Range(0, rng.Next(1, 12)).Select(_ =>
            $"{Draw.Pick(rng, keys)}{Draw.Pick(rng, ["=", "", "=="])}{Draw.Pick(rng, values)}"));
    }

    /// <summary>application/x-www-form-urlencoded, percent-encoding every byte outside the unreserved set.</summary>
    public static string Encode(IEnumerable<(string Key, string Value)> form) =>
        string.Join("&", form.Select(p => $"{Escape(p.Key)}={Escape(p.Value)}"));

    private static string Escape(string text) => string.Concat(Encoding.UTF8.GetBytes(text).Select(b =>
        b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~'
            ? ((char)b).ToString()
            : $"%{b:X2}"));
}

/// <summary>Values of the right type that the endpoints must refuse, as plain strings (or raw JSON for role lists).</summary>
public static class RefusedValues
{
    private static readonly string[] Malformed =
    [
        "", "a b", "a/b", "a\\b", "../../etc/passwd", "root' OR '1'='1", "'; DROP TABLE users;--", "\" OR \"\"=\"", "%", "_", "*",
        "<script>alert(1)</script>", "abc\0", "\0abc", "abc\ud800", "\udc00abc", "\u202eabc", "abc\u200f", "r\u043e\u043et",
        "\u00e4dmin", "x\U0001F600x", " abc", "abc ", "a\tb", "a\nb", "abc\n", "abc\r\n", "%2e%2e%2f", "a@b.c", "\uffff\ufffe",
    ];

    /// <summary>Usernames registration refuses: the wrong length or characters, or taken (in any case).</summary>
    public static string[] NewUsernames(string taken) =>
        [.. Malformed, "ab", new string('a', 65), "root", "ROOT", taken.ToUpperInvariant()];

    /// <summary>Anything but <paramref name="username"/> in some case: with its password, a failed login.</summary>
    public static string[] OtherUsernames(string username) =>
        [.. Malformed, "root", "nobody", username + " ", " " + username, username + "\0", username[..^1], username + "%"];

    /// <summary>Too short, too long in characters or in UTF-8 bytes (BCrypt's 72).</summary>
    public static readonly string[] NewPasswords =
    [
        "", "short", "1234567", "       ", "\0", "\ud800\ud800", new string('p', 129), string.Concat(Enumerable.Repeat("\u00e9", 40)),
        string.Concat(Enumerable.Repeat("\U0001F600", 19)),
    ];

    /// <summary>Near misses of <paramref name="password"/>, including what a truncating or NUL-terminating hash would accept.</summary>
    public static string[] WrongPasswords(string password) =>
    [
        "", password + "x", password.ToUpperInvariant(), password + "\0", password + "\0x", password[..^1], " " + password,
        password + " ", "\ud800", password + "\ud800", password + new string('x', 80), "x" + password[1..], "' OR '1'='1",
    ];

    /// <summary>Near misses of a refresh token: cut, extended, re-signed as none, the access token, another header.</summary>
    public static string[] WrongRefreshTokens(string refresh, string access)
    {
        var dots = (First: refresh.IndexOf('.', StringComparison.Ordinal), Last: refresh.LastIndexOf('.'));
        var middle = (dots.First + dots.Last) / 2;
        var flipped = refresh[..middle] + (refresh[middle] == 'A' ? 'B' : 'A') + refresh[(middle + 1)..];
        var unsigned = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode("{\"alg\":\"none\",\"typ\":\"rt+jwt\"}") +
                       refresh[dots.First..(dots.Last + 1)];
        return
        [
            "", "garbage", "null", access, refresh[..^2], refresh + "x", refresh[..dots.Last], refresh + ".", flipped, unsigned,
            access[..access.IndexOf('.', StringComparison.Ordinal)] + refresh[dots.First..], " " + refresh, refresh + " ",
            refresh + "\0", refresh.ToUpperInvariant(), new string('a', 5000), "\ud800",
        ];
    }

    /// <summary>Strings that are no address an account can have.</summary>
    public static readonly string[] MalformedEmails =
    [
        "", " ", "no-at-sign", "two@@example.com", "a b@example.com", "name@nodot", "<name@example.com>", "name@example.com\0",
        "nul\u0000@example.com", "\ud800@example.com", ".dot@example.com", "name@-bad-.com", "\"quoted\"@example.com",
        "name@example.com\r\nBcc: x@example.com", new string('a', 65) + "@example.com", "a@" + new string('b', 250) + ".com",
    ];

    /// <summary>Role lists with a refused name, a non-string, or more than 16 roles; raw JSON.</summary>
    public static readonly string[] RoleLists =
    [
        "[null]", "[1]", "[true]", "[\"\"]", "[\"Admin\"]", "[\"1role\"]", "[\"a b\"]", "[\"a/b\"]", $"[\"{new string('a', 33)}\"]",
        "[\"r\\u00f4le\"]", "[\"admin\\u0000\"]", "[\"\\u202eadmin\"]", "[\"admin\\ud800\"]", "[\"user\\n\"]", "[\"admin\\r\\n\"]",
        "[[\"admin\"]]", "[{}]", "[\"user\",\"Admin\"]", "[\"user\",null]", "[\"' OR 1=1\"]", "[\" admin\"]",
        "[" + string.Join(",", Enumerable.Range(0, 17).Select(i => $"\"r{i}\"")) + "]",
    ];
}
