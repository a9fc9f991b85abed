using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using JwtApi.Tokens;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Tests.Fuzz;

/// <summary>What the bearer pipeline must answer a case.</summary>
public enum Verdict
{
    /// <summary>401: not an acceptable token.</summary>
    Refused,

    /// <summary>200: the service's own token, unchanged as JwtBearer reads it.</summary>
    Accepted,

    /// <summary>
    /// 200, 401 or 403, never a 5xx: signed with the service's key around claims it never issues (a number as sub,
    /// an extra header member), or its own signature spelled another way, where the RFCs leave acceptance to the
    /// validator.
    /// </summary>
    Unspecified,
}

/// <summary>An <c>Authorization</c> header value and what the service must answer it.</summary>
public sealed record TokenCase(string Generator, string Authorization, Verdict Verdict);

/// <summary>
/// Authorization header values around one valid access token issued by the service: random bytes, random
/// base64url segments, edits of its characters and segments, and its header and payload re-encoded with
/// mutated members, either with the original signature (so refused) or signed again with the service's key
/// (so every claim check past the signature runs).
/// </summary>
public sealed class TokenInputs
{
    private readonly string _token;
    private readonly string[] _segments;
    private readonly byte[] _serviceSecret;
    private readonly JwtOptions _options;
    private readonly List<(string Name, string Raw)> _header;
    private readonly List<(string Name, string Raw)> _payload;
    private readonly (string Name, int Weight, Func<Random, TokenCase> Make)[] _generators;

    /// <param name="token">An access token the service issued, HS256.</param>
    /// <param name="serviceSecret">The service's HMAC key, to sign mutated tokens again.</param>
    /// <param name="options">The service's issuer and audience.</param>
    public TokenInputs(string token, byte[] serviceSecret, JwtOptions options)
    {
        _token = token;
        _segments = token.Split('.');
        _serviceSecret = serviceSecret;
        _options = options;
        _header = Members(_segments[0]);
        _payload = Members(_segments[1]);
        _generators =
        [
            ("bytes-latin1", 10, rng => Bearer("bytes-latin1", Sendable(rng, Draw.Latin1(rng, Draw.Length(rng, 600))))),
            ("bytes-utf8", 8, rng => Bearer("bytes-utf8", Sendable(rng, Encoding.UTF8.GetString(Draw.Bytes(rng, Draw.Length(rng, 600)))))),
            ("text", 5, rng => Bearer("text", Sendable(rng, Draw.Text(rng, 400)))),
            ("base64url-segments", 10, Base64UrlSegments),
            ("json-segments", 8, JsonSegments),
            ("char-edits", 20, CharEdits),
            ("segment-edits", 10, SegmentEdits),
            ("header-json", 12, HeaderJson),
            ("payload-json", 15, PayloadJson),
            ("scheme", 2, Scheme),
        ];
    }

    public TokenCase Next(Random rng)
    {
        var pick = rng.Next(_generators.Sum(g => g.Weight));
        foreach (var (_, weight, make) in _generators)
        {
            if (pick < weight)
            {
                return make(rng);
            }
            pick -= weight;
        }
        throw new InvalidOperationException("unreachable");
    }

    /// <summary>
    /// What the service must answer an Authorization header as it arrives. JwtBearer takes what follows "Bearer "
    /// (any case), trimmed: the issued token is accepted, anything with other signed bytes or another signature
    /// refused. The issued token with its signature merely spelled another way (padding '=', non-zero pad bits,
    /// '+' for '-') carries the same bytes: RFC 4648 §3.5 leaves such spellings to the decoder, so either answer.
    /// </summary>
    public Verdict VerdictOf(string authorization)
    {
        if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Verdict.Refused;
        }
        var token = authorization["Bearer ".Length..].Trim();
        if (token == _token)
        {
            return Verdict.Accepted;
        }
        var segments = token.Split('.');
        return segments.Length == 3 && segments[0] == _segments[0] && segments[1] == _segments[1] &&
               LenientBase64Url(segments[2]) is { } signature && LenientBase64Url(_segments[2])!.AsSpan().SequenceEqual(signature)
            ? Verdict.Unspecified
            : Verdict.Refused;
    }

    /// <summary>Base64url or base64, padded or not, pad bits ignored; null when it is neither.</summary>
    private static byte[]? LenientBase64Url(string text)
    {
        var base64 = text.TrimEnd('=').Replace('-', '+').Replace('_', '/');
        base64 += new string('=', (4 - (base64.Length % 4)) % 4);
        var bytes = new byte[base64.Length];
        return Convert.TryFromBase64String(base64, bytes, out var written) ? bytes[..written] : null;
    }

    /// <summary>
    /// Mostly without CR, LF and NUL, which HttpClient never sends: a few hundred random bytes nearly always hold
    /// one, and only short values would reach the service. One case in ten keeps them, to count them.
    /// </summary>
    private static string Sendable(Random rng, string text) => rng.Next(10) == 0
        ? text
        : string.Create(text.Length, (text, rng), (span, state) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = state.text[i] is '\r' or '\n' or '\0' ? (char)state.rng.Next(0x0E, 0x100) : state.text[i];
            }
        });

    private TokenCase Bearer(string generator, string token) => new(generator, "Bearer " + token, VerdictOf("Bearer " + token));

    private TokenCase Base64UrlSegments(Random rng)
    {
        var segments = Enumerable.Range(0, rng.Next(1, 7)).Select(_ => Draw.Base64Url(rng, Draw.Length(rng, 400)));
        return Bearer("base64url-segments", string.Join('.', segments));
    }

    /// <summary>Well-encoded segments around arbitrary JSON: arrays, numbers, strings, nesting past every limit.</summary>
    private TokenCase JsonSegments(Random rng)
    {
        string Segment() => rng.Next(4) == 0 ? Encode(JsonText.TooDeep(rng)) : Encode(JsonText.Value(rng));
        var segments = rng.Next(4) == 0 ? [Segment(), Segment(), Segment(), Segment(), Segment()] : new[] { Segment(), Segment(), _segments[2] };
        return Bearer("json-segments", string.Join('.', segments));
    }

    /// <summary>Replacement characters: mostly base64url (plausible corruption), some separators and bytes no token has.</summary>
    private static char TokenChar(Random rng) => rng.Next(10) switch
    {
        < 6 => Draw.Base64UrlAlphabet[rng.Next(Draw.Base64UrlAlphabet.Length)],
        < 8 => Draw.Pick(rng, Separators),
        8 => (char)rng.Next(256),
        _ => Draw.Pick(rng, Foreign),
    };

    private static readonly char[] Separators = [.. ".=+/ \t\0\"{}%,\\"];
    private static readonly char[] Foreign = [.. "é\u202e\u00a0\ufeff\ud800\uffff"];

    /// <summary>1-4 characters replaced, inserted or deleted, each in a segment chosen first (header, payload or signature).</summary>
    private TokenCase CharEdits(Random rng)
    {
        var token = new StringBuilder(_token);
        for (var edits = rng.Next(1, 5); edits > 0; edits--)
        {
            var dots = Enumerable.Range(0, token.Length).Where(i => token[i] == '.').ToList();
            var segment = rng.Next(dots.Count + 1);
            var start = segment == 0 ? 0 : dots[segment - 1] + 1;
            var end = segment == dots.Count ? token.Length : dots[segment];
            var at = rng.Next(start, end + 1);
            switch (rng.Next(3))
            {
                case 0 when at < token.Length:
                    token[at] = TokenChar(rng);
                    break;
                case 1:
                    token.Insert(at, TokenChar(rng));
                    break;
                default:
                    if (at < token.Length)
                    {
                        token.Remove(at, 1);
                    }
                    break;
            }
        }
        return Bearer("char-edits", token.ToString());
    }

    /// <summary>The segments rearranged: swapped, dropped, doubled, emptied, padded, re-encoded, truncated.</summary>
    private TokenCase SegmentEdits(Random rng)
    {
        var (h, p, s) = (_segments[0], _segments[1], _segments[2]);
        string Standard(string segment) => segment.Replace('-', '+').Replace('_', '/');
        var token = rng.Next(18) switch
        {
            0 => $"{p}.{h}.{s}",
            1 => $"{h}.{s}.{p}",
            2 => $"{s}.{p}.{h}",
            3 => $"{h}..{p}.{s}",
            4 => $"{h}.{p}..{s}",
            5 => Draw.Pick(rng, [$"{h}.{p}", $"{p}.{s}", $"{h}.{s}", h, p, s, $"{h}.{p}."]),
            6 => $"{h}.{p}.{s}.{s}",
            7 => $"{h}.{p}.{s}.{Draw.Base64Url(rng, 22)}.{Draw.Base64Url(rng, 22)}",
            8 => Draw.Pick(rng, [$".{_token}", $"{_token}.", $"..{_token}", $"{_token}..", "..", "....", ".", $"{h}...{s}"]),
            9 => _token[..rng.Next(_token.Length)],
            10 => Draw.Pick(rng, [$"{_token}.{_token}", $"{_token} {_token}", $"{_token},{_token}", $"{_token}{_token}"]),
            11 => new string(_token.Reverse().ToArray()),
            12 => rng.Next(2) == 0 ? _token.ToUpperInvariant() : _token.ToLowerInvariant(),
            13 => Draw.Pick(rng, [$"{h}=.{p}.{s}", $"{h}.{p}==.{s}", $"{h}.{p}.{s}=", $"{h}.{p}.{s}=="]),
            14 => $"{Standard(h)}.{Standard(p)}.{Standard(s)}",
            15 => $"{h}.{p}.{Base64UrlEncoder.Encode(Base64UrlEncoder.DecodeBytes(s).Reverse().ToArray())}",
            16 => $"{h}.{p}.{Base64UrlEncoder.Encode(Base64UrlEncoder.DecodeBytes(s)[..^1])}",
            _ => $"{h}.{p}.{Base64UrlEncoder.Encode([.. Base64UrlEncoder.DecodeBytes(s), 0])}",
        };
        return Bearer("segment-edits", token);
    }

    /// <summary>A change to one member of a JSON object: a new value, or removal (null), or a second copy of the name.</summary>
    private sealed record Edit(string Name, string? Raw, bool Duplicate = false);

    private static List<(string Name, string Raw)> Apply(List<(string Name, string Raw)> members, IEnumerable<Edit> edits)
    {
        var result = members.ToList();
        foreach (var edit in edits)
        {
            if (edit.Raw is null)
            {
                result.RemoveAll(m => m.Name == edit.Name);
            }
            else if (edit.Duplicate || result.FindIndex(m => m.Name == edit.Name) is var i && i < 0)
            {
                result.Add((edit.Name, edit.Raw));
            }
            else
            {
                result[i] = (edit.Name, edit.Raw);
            }
        }
        return result;
    }

    /// <summary>A member of the original object, as raw JSON.</summary>
    private static string Original(List<(string Name, string Raw)> members, string name) =>
        members.FirstOrDefault(m => m.Name == name).Raw ?? "";

    private static readonly string[] ProtectedHeaderNames = ["crit", "b64", "jku", "jwk", "x5u", "x5c", "x5t", "zip", "enc", "cty", "epk", "iv", "tag", "p2s"];

    /// <summary>
    /// The header with alg, kid, typ or another member changed. With the original signature it must be refused;
    /// signed again it must still be refused for a wrong alg, kid or typ (RFC 8725 §3.1, §3.11).
    /// </summary>
    private TokenCase HeaderJson(Random rng)
    {
        var kid = Original(_header, "kid");
        var edits = Enumerable.Range(0, rng.Next(1, 3)).Select(_ => rng.Next(5) switch
        {
            0 => new Edit("alg", Draw.Pick(rng, [
                null, "\"none\"", "\"None\"", "\"NONE\"", "\"\"", "\"HS384\"", "\"HS512\"", "\"RS256\"", "\"ES256\"", "\"PS256\"",
                "\"hs256\"", "\"HS256 \"", "\" HS256\"", "\"HS256\\u0000\"", "null", "1", "true", "[]", "{}", "[\"HS256\"]",
                "\"dir\"", "\"A128KW\"", JsonText.String(new string('A', 5000)), JsonText.Value(rng)])),
            1 => new Edit("kid", Draw.Pick(rng, [
                null, "null", "\"\"", "123", $"[{kid}]", "{}", kid.Insert(kid.Length - 1, "x"), kid.ToUpperInvariant(),
                "\"../../../../../dev/null\"", "\"' OR '1'='1\"", "\"rt-0000000000000000\"", "\"\\ud800\"", "\"\\u0000\"",
                JsonText.String(new string('k', 10_000)), JsonText.Value(rng)])),
            2 => new Edit("typ", Draw.Pick(rng, [
                null, "\"JWT\"", "\"jwt\"", "\"at+JWT\"", "\"AT+JWT\"", "\"application/at+jwt\"", "\"rt+jwt\"", "\"at+jwt \"",
                "\"at+jwt\\u0000\"", "null", "123", "[\"at+jwt\"]", "\"\"", JsonText.Value(rng)])),
            3 => new Edit(Draw.Pick(rng, ["alg", "kid", "typ"]), Draw.Pick(rng, ["\"none\"", "\"HS256\"", kid, "\"at+jwt\"", "\"JWT\""]), Duplicate: true),
            _ => new Edit(Draw.Pick(rng, ProtectedHeaderNames), Draw.Pick(rng, [
                "[\"exp\"]", "[]", "\"exp\"", "[1]", "[\"b64\"]", "[\"crit\"]", "false", "\"DEF\"", "\"A128GCM\"", "\"JWT\"",
                "\"http://127.0.0.1:1/jwks.json\"", "{\"kty\":\"oct\",\"k\":\"AAAA\"}", "[\"MIIB\"]", JsonText.Value(rng)])),
        }).ToList();
        var header = Encode(JsonText.Object(Apply(_header, edits)));

        if (rng.Next(2) == 0)
        {
            return Bearer("header-json", $"{header}.{_segments[1]}.{_segments[2]}");
        }
        var token = Signed(header, _segments[1]);
        var members = Apply(_header, edits);
        var refused =
            AllCopies(members, "alg", raw => raw != "\"HS256\"") ||
            AllCopies(members, "kid", raw => raw != kid) ||
            AllCopies(members, "typ", raw => raw is null || !(JsonTextIs(raw, "at+jwt") || JsonTextIs(raw, "application/at+jwt")));
        return new("header-json-signed", "Bearer " + token,
            token == _token ? Verdict.Accepted : refused ? Verdict.Refused : Verdict.Unspecified);
    }

    /// <summary>
    /// Whether every copy of a member (or its absence, as null) fails <paramref name="refuses"/>: then whichever copy
    /// a parser reads, the token is refused. Where copies disagree the outcome is the parser's choice.
    /// </summary>
    private static bool AllCopies(List<(string Name, string Raw)> members, string name, Func<string?, bool> refuses)
    {
        var copies = members.Where(m => m.Name == name).Select(m => m.Raw).ToList();
        return copies.Count == 0 ? refuses(null) : copies.All(refuses);
    }

    /// <summary>
    /// The payload with 1-3 claims removed, duplicated or given values of the wrong type, huge, negative, nested,
    /// unicode or very long. With the original signature it must be refused; signed again it must still be refused
    /// when exp, nbf, iss, aud, sub or jti no longer allow the token (docs/reference.md, Errors).
    /// </summary>
    private TokenCase PayloadJson(Random rng)
    {
        string[] claims = ["exp", "nbf", "iat", "aud", "iss", "sub", "jti", "role", "name", "sid", "ver", "extra"];
        var edits = Enumerable.Range(0, rng.Next(1, 4)).Select(_ => rng.Next(10) switch
        {
            0 or 1 => new Edit(Draw.Pick(rng, claims), null),
            2 => new Edit(Draw.Pick(rng, claims), ClaimValue(rng), Duplicate: true),
            _ => new Edit(Draw.Pick(rng, claims), ClaimValue(rng)),
        }).ToList();
        var members = Apply(_payload, edits);
        var payload = Encode(JsonText.Object(members));

        if (rng.Next(2) == 0)
        {
            return Bearer("payload-json", $"{_segments[0]}.{payload}.{_segments[2]}");
        }
        var token = Signed(_segments[0], payload);
        return new("payload-json-signed", "Bearer " + token,
            token == _token ? Verdict.Accepted : ClaimsRefuse(members) ? Verdict.Refused : Verdict.Unspecified);
    }

    private long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private string ClaimValue(Random rng) => rng.Next(7) switch
    {
        0 => Draw.Pick(rng, JsonText.Numbers),
        1 or 2 => Time(rng),
        3 => Draw.Pick(rng, [
            "null", "true", "false", "\"\"", "\"abc\"", $"\"{Now + 3600}\"", JsonText.String(_options.Audience), $"[{JsonText.String(_options.Audience)}]",
            $"[{JsonText.String(_options.Audience)},\"other\"]", "\"admin\"", "[\"admin\"]", "[\"admin\",1,null,{}]", "[]", "{}",
            "{\"a\":{\"b\":[1,{\"c\":null}]}}", "\"\\ud800\"", "\"\\u0000\"", "\"\\u202eadmin\"", "\"\\uffff\"", "\"😀\"",
            "\"00000000-0000-0000-0000-000000000000\"", "\"' OR 1=1 --\""]),
        4 => JsonText.String(new string('x', rng.Next(1000, 20_000))),
        5 => JsonText.TooDeep(rng),
        _ => JsonText.Value(rng),
    };

    /// <summary>A NumericDate near now, or at the edges of what DateTime, DateTimeOffset and long can hold; sometimes with a fraction.</summary>
    private string Time(Random rng)
    {
        long[] times =
        [
            Now - 86_400, Now - 3600, Now - 31, Now + 600, Now + 3600, Now + (86_400 * 3650L), 0, -1, 4_102_444_800,
            253_402_300_799, 253_402_300_800, -62_135_596_800, -62_135_596_801, long.MaxValue, long.MinValue,
        ];
        return Draw.Pick(rng, times).ToString(CultureInfo.InvariantCulture) + (rng.Next(5) == 0 ? ".5" : "");
    }

    /// <summary>Whether the claims leave a correctly signed token unacceptable to the service (docs/reference.md, Errors).</summary>
    private bool ClaimsRefuse(List<(string Name, string Raw)> claims)
    {
        static double? Number(string raw) =>
            double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? n : null;
        // a number in a string is not a NumericDate (RFC 7519 §2), but whether a parser reads it is its choice
        static bool NumberInString(string raw) => raw.StartsWith('"') && Number(raw.Trim('"')) is not null;

        return AllCopies(claims, "exp", raw => raw is null || (Number(raw) is { } exp ? exp <= Now - 31 : !NumberInString(raw))) ||
               AllCopies(claims, "nbf", raw => raw is not null && Number(raw) > Now + 3600) ||
               AllCopies(claims, "aud", raw => raw is null || !raw.Contains(JsonText.String(_options.Audience), StringComparison.Ordinal)) ||
               AllCopies(claims, "iss", raw => raw is null || !raw.Contains(JsonText.String(_options.Issuer), StringComparison.Ordinal)) ||
               AllCopies(claims, "sub", raw => raw is null or "null" or "\"\"") ||
               AllCopies(claims, "jti", raw => raw is null or "null" or "\"\"");
    }

    /// <summary>Other schemes, spacing and duplicates around the valid token: only "Bearer " in any case, then the token trimmed, is it.</summary>
    private TokenCase Scheme(Random rng)
    {
        var t = _token;
        var authorization = Draw.Pick(rng, [
            $"bearer {t}", $"BEARER {t}", $"Bearer  {t}", $"Bearer {t} ", $"Bearer \u00a0{t}", $"Bearer {t}\t",
            $"Bearer\t{t}", $"Bearer{t}", $"Basic {t}", $"Token {t}", t, "Bearer", "Bearer ", "Bearer  ", $"Bearer\u00a0{t}",
            $"Bearer {t},Bearer {t}", $"Bearer {t} {t}", $"Bearer {t}\0", $"Bearer \"{t}\"", $"Bearer <{t}>", $"Bearer={t}",
        ]);
        return new("scheme", authorization, VerdictOf(authorization));
    }

    private string Signed(string header, string payload) =>
        $"{header}.{payload}.{Base64UrlEncoder.Encode(HMACSHA256.HashData(_serviceSecret, Encoding.ASCII.GetBytes($"{header}.{payload}")))}";

    private static string Encode(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));

    private static bool JsonTextIs(string raw, string value) => raw.Equals(JsonText.String(value), StringComparison.OrdinalIgnoreCase);

    private static List<(string Name, string Raw)> Members(string segment)
    {
        using var json = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(segment));
        return json.RootElement.EnumerateObject().Select(m => (m.Name, m.Value.GetRawText())).ToList();
    }
}
