using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using JwtApi.Hosting;
using JwtApi.Tests.Support;
using JwtApi.Users;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace JwtApi.Tests.Hosting;

/// <summary>The source-generated bodies (<see cref="ApiJson"/>) are written as the reflection serializer writes them.</summary>
public sealed class ApiJsonTests
{
    public static TheoryData<MeResponse> Bodies() =>
    [
        new MeResponse("5b0d…", "alice", ["user", "admin"], new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero), "alice@example.com", true),
        new MeResponse("5b0d…", "bob", [], new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.FromHours(2)), null, null),
    ];

    [Theory]
    [MemberData(nameof(Bodies))]
    public void WritesMeAsTheReflectionSerializerDoesWithTheGeneratedCode(MeResponse body)
    {
        using var app = new JwtApiFactory();
        var options = app.Services.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        var reflection = new JsonSerializerOptions(options) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };

        options.GetTypeInfo(typeof(MeResponse)).OriginatingResolver.Should().BeSameAs(ApiJson.Default);
        JsonSerializer.Serialize(body, options).Should().Be(JsonSerializer.Serialize(body, reflection))
            .And.Contain("\"expires_at\":").And.Contain("\"email_verified\":");
    }
}
