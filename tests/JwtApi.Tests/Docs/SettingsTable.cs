using System.Collections;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Xml.Linq;
using JwtApi.Auth;
using JwtApi.Hosting;
using JwtApi.Mail;
using JwtApi.Storage;
using JwtApi.Tokens;
using JwtApi.Users;

namespace JwtApi.Tests.Docs;

/// <summary>One row of the settings table: what a user can set, as the table shows it (markdown cells).</summary>
public sealed record Setting(string Key, string Default, string Bounds, string Description);

/// <summary>
/// The settings table of docs/configuration.md, generated from the options classes: every property the
/// configuration binder sets, its default (from a new instance), its bounds (data annotations, enum values and
/// a few validators' rules) and what it changes (the property's <c>&lt;summary&gt;</c>, read from JwtApi.xml,
/// which the build writes beside JwtApi.dll). <see cref="SettingsTableTests"/> fails when the doc drifts;
/// after changing an option, rewrite the doc with
/// <code>JWTAPI_UPDATE_DOCS=1 dotnet test tests/JwtApi.Tests --filter SettingsTable</code>
/// </summary>
public static class SettingsTable
{
    public const string Begin = "<!-- settings:begin -->";
    public const string End = "<!-- settings:end -->";
    public const string UpdateVariable = "JWTAPI_UPDATE_DOCS";
    private const string None = "—";

    /// <summary>Every options class bound from configuration (each <c>BindConfiguration</c> in src/JwtApi), by section.</summary>
    private static readonly (string Section, Type Options)[] Bound =
    [
        (AuthOptions.Section, typeof(AuthOptions)),
        (JwtApi.Clients.ClientsOptions.Section, typeof(JwtApi.Clients.ClientsOptions)),
        (RefreshCookieOptions.Section, typeof(RefreshCookieOptions)),
        (CrossOriginOptions.Section, typeof(CrossOriginOptions)),
        (DatabaseOptions.Section, typeof(DatabaseOptions)),
        (KeyRingOptions.Section, typeof(KeyRingOptions)),
        (ProxyOptions.Section, typeof(ProxyOptions)),
        (PublicOriginOptions.Section, typeof(PublicOriginOptions)),
        (JwtOptions.Section, typeof(JwtOptions)),
        (MailOptions.Section, typeof(MailOptions)),
        (JwtApi.Mfa.MfaOptions.Section, typeof(JwtApi.Mfa.MfaOptions)),
        (PasswordOptions.Section, typeof(PasswordOptions)),
        (RateLimitOptions.Section, typeof(RateLimitOptions)),
        (JwtApi.Recovery.RecoveryOptions.Section, typeof(JwtApi.Recovery.RecoveryOptions)),
        (SeedOptions.Section, typeof(SeedOptions)),
        (TelemetryOptions.Section, typeof(TelemetryOptions)),
    ];

    /// <summary>Properties bound from another key than their own (StorageSetup sets it from the connection string).</summary>
    private static readonly Dictionary<string, string> BoundFrom = new(StringComparer.Ordinal)
    {
        [$"{DatabaseOptions.Section}:{nameof(DatabaseOptions.ConnectionString)}"] = $"ConnectionStrings:{StorageSetup.ConnectionStringName}",
    };

    /// <summary>Settings read outside any options class.</summary>
    private static readonly Setting[] Unbound =
    [
        new(DataDirectory.ConfigKey, Code(DataDirectory.DefaultPath), "", "Where the service keeps its files: the SQLite " +
            "database (unless `ConnectionStrings:Users` names another file) and, in Development, generated keys. A relative " +
            "path is taken from the content root."),
        new("Demo:Enabled", Code("true"), "", $"Serves the demo single-page app at `{Demo.Path}/`; `false` turns it off."),
        new("AllowedHosts", Code("*"), "host names, `;`-separated, no ports", "`Host` headers answered; any other gets 400 " +
            "problem+json. Defaults to the host of `Hosting:PublicOrigin` when that is set and this is `*` or unset."),
    ];

    /// <summary>The leaf values of src/JwtApi/appsettings.json, by configuration key (<c>Jwt:Issuer</c>).</summary>
    private static readonly Lazy<Dictionary<string, string>> Shipped = new(() =>
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        void Walk(System.Text.Json.JsonElement element, string prefix)
        {
            switch (element.ValueKind)
            {
                case System.Text.Json.JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                    {
                        Walk(property.Value, prefix.Length == 0 ? property.Name : $"{prefix}:{property.Name}");
                    }
                    break;
                case System.Text.Json.JsonValueKind.Array:
                    break;   // lists are examples of N entries, not defaults
                default:
                    values[prefix] = element.ValueKind == System.Text.Json.JsonValueKind.String ? element.GetString()! : element.GetRawText();
                    break;
            }
        }
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(global::JwtApi.Tests.Docs.Markdown.Root, "src", "JwtApi", "appsettings.json")));
        Walk(json.RootElement, "");
        return values;
    });

    /// <summary>Defaults applied when the setting is left unset, by code outside the options class's initializers.</summary>
    private static readonly Dictionary<string, string> DefaultWhenUnset = new(StringComparer.Ordinal)
    {
        ["Database:Provider"] = DatabaseOptions.ParseProvider(null)!.Value.ToString(),
        ["Telemetry:ServiceName"] = TelemetryOptions.DefaultServiceName,
        ["Telemetry:Otlp:Protocol"] = OtlpOptions.Grpc,
    };

    /// <summary>Rules of the validators (IValidateOptions) that are easy to state; the rest are in the descriptions.</summary>
    private static readonly Dictionary<string, string> ValidatorBounds = new(StringComparer.Ordinal)
    {
        ["Database:Provider"] = OneOf(Enum.GetNames<DatabaseProvider>()),
        ["Jwt:Algorithm"] = OneOf(SigningAlgorithms.Supported),
        ["Jwt:SigningKeys:N:Algorithm"] = OneOf(SigningAlgorithms.Supported),
        ["Jwt:RefreshTokenAbsoluteLifetime"] = "at least `Jwt:RefreshTokenLifetime`",
        ["Jwt:ValidationCache:Size"] = $"{Code("0")}–{Code(ValidationCacheOptions.MaxSize)}",
        ["Passwords:WorkFactor"] = $"at least {Code(PasswordOptionsValidator.ProductionMinimumWorkFactor)} outside the Testing environment",
        ["Telemetry:Otlp:Protocol"] = OneOf([OtlpOptions.Grpc, OtlpOptions.HttpProtobuf]),
        ["Telemetry:Otlp:Endpoint"] = "an `http` or `https` URL",
        ["Hosting:PublicOrigin"] = "an `http` or `https` origin: scheme, host, port",
        ["Cors:AllowedOrigins:N"] = "an `http` or `https` origin: scheme, host, port",
        ["ForwardedHeaders:KnownProxies:N"] = "an IP address",
        ["ForwardedHeaders:KnownNetworks:N"] = "a network in CIDR form",
        ["Mail:From"] = "one mail address, with an optional display name; outside Development, not `@localhost`",
        ["Mail:Smtp:Host"] = "this or `Mail:PickupDirectory` when `Mail:Enabled` outside Development",
        ["Mail:PickupDirectory"] = "not with `Mail:Smtp:Host`",
        ["Mail:Smtp:Username"] = "set both or neither",
        ["Mail:Smtp:Password"] = "set both or neither",
        ["Mail:Links:ResetUrl"] = "contains `{token}`; an `http` or `https` URL, or a path starting with one `/`",
        ["Mail:Links:VerifyUrl"] = "contains `{token}`; an `http` or `https` URL, or a path starting with one `/`",
        ["Seed:AdminUsername"] = "set both or neither",
        ["Seed:AdminPassword"] = "set both or neither; the password policy",
    };

    /// <summary>The options classes the table is made from.</summary>
    public static IEnumerable<Type> OptionsClasses => Bound.Select(b => b.Options);

    /// <summary>Every setting, grouped by section (alphabetically), in declaration order within one.</summary>
    public static IReadOnlyList<Setting> Rows()
    {
        var docs = new DocComments(typeof(JwtOptions).Assembly);
        var rows = new List<Setting>(Unbound);
        foreach (var (section, type) in Bound)
        {
            AddRows(rows, docs, section, type, Activator.CreateInstance(type)!, groupSummary: null);
        }
        return [.. rows.OrderBy(r => r.Key.Split(':')[0], StringComparer.Ordinal)];
    }

    /// <summary>The markdown table that sits between <see cref="Begin"/> and <see cref="End"/>.</summary>
    public static string Markdown()
    {
        var table = new StringBuilder();
        table.Append("| Setting | Default | Bounds | What it changes |\n");
        table.Append("|---|---|---|---|\n");
        foreach (var row in Rows())
        {
            table.Append(CultureInfo.InvariantCulture,
                $"| `{row.Key}` | {Cell(row.Default)} | {Cell(row.Bounds)} | {Cell(row.Description)} |\n");
        }
        return table.ToString();
    }

    /// <summary>The text between the markers of <paramref name="document"/>, line endings as <c>\n</c>, trimmed.</summary>
    public static string Region(string document)
    {
        var text = document.ReplaceLineEndings("\n");
        var begin = text.IndexOf(Begin, StringComparison.Ordinal);
        var end = text.IndexOf(End, StringComparison.Ordinal);
        if (begin < 0 || end < begin)
        {
            throw new InvalidOperationException($"docs/configuration.md needs the lines {Begin} and {End}, in that order.");
        }
        return text[(begin + Begin.Length)..end].Trim('\n');
    }

    /// <summary><paramref name="document"/> with the region between the markers replaced by <paramref name="table"/>.</summary>
    public static string WithRegion(string document, string table)
    {
        var text = document.ReplaceLineEndings("\n");
        Region(text); // the markers are there
        var begin = text.IndexOf(Begin, StringComparison.Ordinal) + Begin.Length;
        var end = text.IndexOf(End, StringComparison.Ordinal);
        return text[..begin] + "\n" + table.Trim('\n') + "\n" + text[end..];
    }

    private static void AddRows(List<Setting> rows, DocComments docs, string prefix, Type type, object instance, string? groupSummary)
    {
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0) // what the binder sets
            .OrderBy(p => p.MetadataToken);
        foreach (var property in properties)
        {
            var key = $"{prefix}:{property.Name}";
            var summary = docs.Summary(property) ?? docs.Summary(property.PropertyType);
            var value = property.GetValue(instance);
            var valueType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (IsScalar(valueType))
            {
                AddRow(rows, key, Default(key, value), Bounds(key, property, valueType), Join(groupSummary, summary));
            }
            else if (ItemType(valueType) is { } itemType)
            {
                var itemKey = key + ":N";
                if (IsScalar(itemType))
                {
                    AddRow(rows, itemKey, None, Bounds(itemKey, property, itemType), Join(groupSummary, summary));
                }
                else
                {
                    AddRows(rows, docs, itemKey, itemType, Activator.CreateInstance(itemType)!, Join(groupSummary, summary));
                }
            }
            else
            {
                AddRows(rows, docs, key, valueType, value ?? Activator.CreateInstance(valueType)!, Join(groupSummary, summary));
            }
            groupSummary = null; // said once, on the group's first row
        }
    }

    private static void AddRow(List<Setting> rows, string key, string defaultValue, string bounds, string description)
    {
        var shown = BoundFrom.GetValueOrDefault(key, key);
        rows.Add(new Setting(shown, defaultValue, bounds, description));
    }

    private static bool IsScalar(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(TimeSpan) || type == typeof(decimal) || type == typeof(Uri);

    private static Type? ItemType(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type) && type.GetGenericArguments() is [var item] ? item
        : typeof(IEnumerable).IsAssignableFrom(type) ? throw new NotSupportedException($"{type}: teach {nameof(SettingsTable)} this collection.")
        : null;

    /// <summary>As configuration takes it: <c>00:15:00</c>, <c>14.00:00:00</c>, <c>true</c>; nothing set is <c>—</c>.</summary>
    private static string Default(string key, object? value)
    {
        // what a user gets without setting it: src/JwtApi/appsettings.json ships with the service and wins over
        // the class's initializer (Jwt:Issuer is "jwtapi" there, empty in the class)
        if (Shipped.Value.TryGetValue(key, out var shipped))
        {
            return shipped.Length == 0 ? None : Code(shipped);
        }
        if (DefaultWhenUnset.TryGetValue(key, out var unset) && value is null or "")
        {
            return Code(unset);
        }
        return value switch
        {
            null or "" => None,
            bool b => Code(b ? "true" : "false"),
            TimeSpan t => Code(t.ToString("c", CultureInfo.InvariantCulture)),
            IFormattable f => Code(f.ToString(null, CultureInfo.InvariantCulture)),
            _ => Code(value.ToString()!),
        };
    }

    private static string Bounds(string key, PropertyInfo property, Type valueType)
    {
        var bounds = new List<string>();
        if (property.GetCustomAttribute<RequiredAttribute>() is not null)
        {
            bounds.Add("required");
        }
        if (property.GetCustomAttribute<RangeAttribute>() is { } range)
        {
            bounds.Add(Convert.ToString(range.Maximum, CultureInfo.InvariantCulture) == int.MaxValue.ToString(CultureInfo.InvariantCulture)
                ? $"at least {Code(range.Minimum)}"
                : $"{Code(range.Minimum)}–{Code(range.Maximum)}");
        }
        if (property.GetCustomAttribute<StringLengthAttribute>() is { } length)
        {
            bounds.Add($"{length.MinimumLength}–{length.MaximumLength} characters");
        }
        if (property.GetCustomAttribute<MinLengthAttribute>() is { } min)
        {
            bounds.Add($"at least {min.Length} characters");
        }
        if (property.GetCustomAttribute<MaxLengthAttribute>() is { } max)
        {
            bounds.Add($"at most {max.Length} characters");
        }
        var enumType = property.GetCustomAttribute<EnumDataTypeAttribute>()?.EnumType ?? (valueType.IsEnum ? valueType : null);
        if (enumType is not null)
        {
            bounds.Add(OneOf(Enum.GetNames(enumType)));
        }
        if (ValidatorBounds.TryGetValue(key, out var rule))
        {
            bounds.Add(rule);
        }
        return string.Join("; ", bounds);
    }

    private static string OneOf(IEnumerable<string> values) => "one of " + string.Join(", ", values.Select(Code));

    private static string Code(object? value) => $"`{Convert.ToString(value, CultureInfo.InvariantCulture)}`";

    private static string Join(string? group, string? own) =>
        string.Join(" ", new[] { group, own }.Where(s => !string.IsNullOrWhiteSpace(s)));

    private static string Cell(string text) => text.Length == 0 ? "" : text.Replace("|", "\\|", StringComparison.Ordinal);

    /// <summary>The <c>&lt;summary&gt;</c> doc comments of JwtApi, from the XML documentation file beside the assembly.</summary>
    private sealed class DocComments
    {
        private readonly Dictionary<string, XElement> _members;

        public DocComments(Assembly assembly)
        {
            var path = Path.ChangeExtension(assembly.Location, ".xml");
            if (!File.Exists(path))
            {
                throw new FileNotFoundException(
                    $"{Path.GetFileName(path)} is missing: src/JwtApi must keep GenerateDocumentationFile on, the settings' descriptions come from it.", path);
            }
            _members = XDocument.Load(path).Descendants("member")
                .ToDictionary(m => (string)m.Attribute("name")!, StringComparer.Ordinal);
        }

        public string? Summary(PropertyInfo property) => Summary($"P:{Id(property.DeclaringType!)}.{property.Name}");

        public string? Summary(Type type)
        {
            type = Nullable.GetUnderlyingType(type) ?? type;
            return type.Assembly == typeof(JwtOptions).Assembly ? Summary($"T:{Id(type)}") : null;
        }

        private string? Summary(string id) =>
            _members.GetValueOrDefault(id)?.Element("summary") is { } summary ? Collapse(Render(summary)) : null;

        private static string Id(Type type) => type.FullName!.Replace('+', '.');

        private static string Render(XElement element) => string.Concat(element.Nodes().Select(node => node switch
        {
            XText text => text.Value,
            XElement { Name.LocalName: "c" } c => $"`{c.Value}`",
            XElement { Name.LocalName: "see" or "seealso" } see when see.Attribute("langword") is { } word => $"`{word.Value}`",
            XElement { Name.LocalName: "see" or "seealso" } see when see.Value.Length > 0 => Render(see),
            XElement { Name.LocalName: "see" or "seealso" } see => $"`{Name((string?)see.Attribute("cref") ?? "")}`",
            XElement { Name.LocalName: "paramref" or "typeparamref" } p => $"`{(string?)p.Attribute("name")}`",
            XElement other => " " + Render(other) + " ",
            _ => "",
        }));

        /// <summary>
        /// A property of a bound options class by its key (<c>P:JwtApi.Tokens.JwtOptions.SigningKeys</c> is
        /// <c>Jwt:SigningKeys</c>), anything else by its own name; a method loses its parameters.
        /// </summary>
        private static string Name(string cref)
        {
            var name = cref.Split('(')[0];
            var dot = name.LastIndexOf('.');
            var section = name.StartsWith("P:", StringComparison.Ordinal)
                ? Bound.FirstOrDefault(b => "P:" + Id(b.Options) == name[..dot]).Section
                : null;
            return section is null ? name[(dot + 1)..] : $"{section}:{name[(dot + 1)..]}";
        }

        private static string Collapse(string text) =>
            string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
    }
}
