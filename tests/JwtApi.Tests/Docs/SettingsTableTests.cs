using System.Text.Json;
using System.Text.RegularExpressions;

namespace JwtApi.Tests.Docs;

/// <summary>
/// docs/configuration.md and appsettings.example.json against the options classes. After changing an option,
/// rewrite the doc's table with <c>JWTAPI_UPDATE_DOCS=1 dotnet test tests/JwtApi.Tests --filter SettingsTable</c>.
/// </summary>
public sealed class SettingsTableTests
{
    private static readonly string Root = Markdown.Root;
    private static readonly string ConfigurationDoc = Path.Combine(Root, "docs", "configuration.md");

    [Fact]
    public void DocsListEverySettingAsGenerated()
    {
        var generated = SettingsTable.Markdown().Trim('\n');
        var document = File.ReadAllText(ConfigurationDoc);
        if (Environment.GetEnvironmentVariable(SettingsTable.UpdateVariable) == "1")
        {
            File.WriteAllText(ConfigurationDoc, SettingsTable.WithRegion(document, generated));
            document = File.ReadAllText(ConfigurationDoc);
        }

        SettingsTable.Region(document).Should().Be(generated,
            $"docs/configuration.md must list the settings as the options classes define them; regenerate the table with " +
            $"{SettingsTable.UpdateVariable}=1 dotnet test tests/JwtApi.Tests --filter SettingsTable");
    }

    [Fact]
    public void ExampleSettingsNameEverySetting()
    {
        var settings = SettingsTable.Rows().Select(r => r.Key).ToHashSet(StringComparer.Ordinal);
        var example = ExampleKeys().Where(k => !k.StartsWith("Logging:", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);

        settings.Except(example).Should().BeEmpty("appsettings.example.json should give every setting a sensible value");
        example.Except(settings).Should().BeEmpty("every key in appsettings.example.json should be a setting the service reads");
    }

    [Fact]
    public void TableCoversEveryOptionsClassBoundFromConfiguration()
    {
        var bound = Directory.EnumerateFiles(Path.Combine(Root, "src", "JwtApi"), "*.cs", SearchOption.AllDirectories)
            .SelectMany(file => Regex.Matches(File.ReadAllText(file), @"AddOptions<(\w+)>\(\)\s*\.BindConfiguration\("))
            .Select(m => m.Groups[1].Value)
            .ToList();

        bound.Should().NotBeEmpty().And.BeEquivalentTo(SettingsTable.OptionsClasses.Select(t => t.Name),
            "a new BindConfiguration needs its options class in SettingsTable's list");
    }

    [Fact]
    public void EverySettingSaysWhatItChanges() =>
        SettingsTable.Rows().Where(r => string.IsNullOrWhiteSpace(r.Description)).Select(r => r.Key)
            .Should().BeEmpty("each setting's property needs a <summary> (or the setting a description in SettingsTable)");

    [Fact]
    public void RowsComeFromTheOptionsClasses()
    {
        var rows = SettingsTable.Rows().ToDictionary(r => r.Key);

        rows["Jwt:AccessTokenLifetime"].Should().BeEquivalentTo(new Setting("Jwt:AccessTokenLifetime", "`00:15:00`",
            "`00:01:00`–`01:00:00`", "How long an access token lives. Short, because a stolen one works until it expires."));
        rows["Jwt:RefreshTokenLifetime"].Default.Should().Be("`14.00:00:00`");
        rows["RateLimits:DeviceTokenLifetime"].Bounds.Should().Be("`1.00:00:00`–`400.00:00:00`");
        rows["RateLimits:PerUsername:PermitLimit"].Should().Match<Setting>(r => r.Default == "`100`" && r.Bounds == "at least `1`");
        rows["Auth:RefreshCookie:Mode"].Bounds.Should().Be("one of `Off`, `OnRequest`, `Always`");
        rows["Auth:AllowRegistration"].Default.Should().Be("`true`");
        // the class leaves it empty (required); the shipped src/JwtApi/appsettings.json sets it
        rows["Jwt:Issuer"].Should().Match<Setting>(r => r.Default == "`jwtapi`" && r.Bounds == "required");
        rows["Jwt:SigningKey"].Default.Should().Be("—");
        rows["Jwt:SigningKeys:N:Active"].Default.Should().Be("`false`");
        rows["Jwt:Algorithm"].Description.Should().Contain("Ignored when `Jwt:SigningKeys` lists keys.");
        rows.Should().ContainKeys("ConnectionStrings:Users", "Cors:AllowedOrigins:N", "Storage:DataDirectory", "AllowedHosts")
            .And.NotContainKey("Database:ConnectionString", "it is bound from ConnectionStrings:Users");
    }

    /// <summary>The example's keys as configuration flattens them, array items as <c>N</c>.</summary>
    private static IEnumerable<string> ExampleKeys()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "appsettings.example.json")),
            new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        return Flatten(json.RootElement, "").Distinct().ToList();
    }

    private static IEnumerable<string> Flatten(JsonElement element, string prefix) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().SelectMany(p => Flatten(p.Value, Key(prefix, p.Name))),
        JsonValueKind.Array => element.EnumerateArray().SelectMany(item => Flatten(item, Key(prefix, "N"))),
        _ => [prefix],
    };

    private static string Key(string prefix, string name) => prefix.Length == 0 ? name : $"{prefix}:{name}";
}
