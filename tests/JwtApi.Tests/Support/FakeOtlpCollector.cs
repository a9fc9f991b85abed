using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace JwtApi.Tests.Support;

/// <summary>One export request as the collector received it.</summary>
public sealed record OtlpExport(string Path, string? ContentType, string? Authorization, byte[] Body)
{
    /// <summary>Protobuf keeps strings as UTF-8 bytes: a name or value sent is found as is.</summary>
    public bool Holds(string text) => Body.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;
}

/// <summary>
/// A stand-in for an OpenTelemetry Collector on a loopback port: accepts every OTLP export (http/protobuf over
/// HTTP/1.1, or gRPC over cleartext HTTP/2), answers success, and keeps what it was sent.
/// </summary>
public sealed class FakeOtlpCollector : IAsyncDisposable
{
    private readonly WebApplication _server;
    private readonly ConcurrentQueue<OtlpExport> _received = new();

    private FakeOtlpCollector(bool grpc)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // gRPC without TLS needs an HTTP/2-only endpoint (prior knowledge): there is no ALPN to agree on it
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0,
            listen => listen.Protocols = grpc ? HttpProtocols.Http2 : HttpProtocols.Http1));
        _server = builder.Build();
        _server.Run(async http =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            _received.Enqueue(new OtlpExport(
                http.Request.Path, http.Request.ContentType, http.Request.Headers.Authorization, body.ToArray()));
            if (grpc)
            {
                // an empty Export*ServiceResponse in gRPC framing (no compression, length 0), then status OK
                http.Response.ContentType = "application/grpc";
                await http.Response.Body.WriteAsync(new byte[5]);
                http.Response.AppendTrailer("grpc-status", "0");
            }
            else
            {
                // an empty protobuf message is a full success
                http.Response.ContentType = "application/x-protobuf";
            }
        });
    }

    public static async Task<FakeOtlpCollector> StartAsync(bool grpc = false)
    {
        var collector = new FakeOtlpCollector(grpc);
        await collector._server.StartAsync();
        return collector;
    }

    /// <summary>The base URL, e.g. <c>http://127.0.0.1:40123</c>.</summary>
    public string Address => _server.Urls.Single();

    public IReadOnlyList<OtlpExport> Received => [.. _received];

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();
}
