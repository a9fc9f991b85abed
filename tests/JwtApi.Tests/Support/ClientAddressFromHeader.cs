using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace JwtApi.Tests.Support;

/// <summary>
/// TestServer has no client address: this sets it from a request header, as a proxy's forwarded address
/// would be. Register with <c>services.AddSingleton&lt;IStartupFilter&gt;(new ClientAddressFromHeader())</c>.
/// </summary>
public sealed class ClientAddressFromHeader : IStartupFilter
{
    public const string Header = "X-Test-Client-Address";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((http, nextMiddleware) =>
        {
            if (IPAddress.TryParse(http.Request.Headers[Header], out var address))
            {
                http.Connection.RemoteIpAddress = address;
            }
            return nextMiddleware(http);
        });
        next(app);
    };
}
