using System.Text.Json;
using System.Text.Json.Serialization;
using JwtApi.Users;

namespace JwtApi.Hosting;

/// <summary>
/// Source-generated serialization for the bodies of the hottest endpoints (<c>GET /me</c>), written without
/// reflection-built metadata; every other type falls through to the reflection resolver. Its options are the
/// service's (<see cref="HostingSetup.AddHosting"/>): with the same naming, the serializer takes the generated
/// fast path, and the body is the same byte for byte (tested).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DictionaryKeyPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(MeResponse))]
internal sealed partial class ApiJson : JsonSerializerContext;
