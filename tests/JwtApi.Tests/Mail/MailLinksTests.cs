using System.Net;
using JwtApi.Mail;
using JwtApi.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace JwtApi.Tests.Mail;

/// <summary>Links in mails are absolute, from configuration or the server's own address, never from a request's Host.</summary>
public sealed class MailLinksTests
{
    private static JwtApiFactory Factory(string environment = "Testing", params (string Key, string? Value)[] settings)
    {
        var factory = new JwtApiFactory { Environment = environment };
        factory.Settings["Passwords:WorkFactor"] = environment == "Testing" ? "4" : "10";
        foreach (var (key, value) in settings)
        {
            factory.Settings[key] = value;
        }
        return factory;
    }

    [Fact]
    public void KeepsAnAbsoluteTemplateAndEscapesTheToken()
    {
        using var app = Factory(settings: ("Mail:Links:ResetUrl", "https://app.example.com/account#reset?token={token}&x=1"));
        var links = app.Services.GetRequiredService<MailLinks>();

        links.Reset("a b/c+d=").Should().Be("https://app.example.com/account#reset?token=a%20b%2Fc%2Bd%3D&x=1");
    }

    [Fact]
    public void ResolvesAPathAgainstThePublicOrigin()
    {
        using var app = Factory("Production", ("Hosting:PublicOrigin", "https://auth.example.com/"));
        var links = app.Services.GetRequiredService<MailLinks>();

        links.Reset("t1").Should().Be("https://auth.example.com/demo/#reset-password?token=t1");
        links.Verify("t2").Should().Be("https://auth.example.com/demo/#verify-email?token=t2");
    }

    [Fact]
    public async Task ResolvesAPathAgainstTheServersOwnAddressInDevelopmentNeverTheRequestHost()
    {
        using var app = new LinkEchoFactory();
        app.Settings["Passwords:WorkFactor"] = "10";
        using var server = app.StartOnKestrel();
        var own = server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var client = server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, LinkEchoFactory.Path);
        request.Headers.Host = "evil.example";
        request.Headers.Add("X-Forwarded-Host", "evil.example");

        using var response = await client.SendAsync(request);

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        own.Should().StartWith("http://127.0.0.1:");
        (await response.Content.ReadAsStringAsync()).Should().Be(own + "/demo/#reset-password?token=t");
    }

    /// <summary>Development, with an endpoint that answers the reset link of token <c>t</c>, as a mail composed during that request would carry.</summary>
    private sealed class LinkEchoFactory : JwtApiFactory
    {
        public const string Path = "/test/mail-link";

        public LinkEchoFactory() => Environment = "Development";

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddSingleton<IStartupFilter>(new Echo()));
        }

        private sealed class Echo : IStartupFilter
        {
            public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
            {
                app.Map(Path, branch => branch.Run(context =>
                    context.Response.WriteAsync(context.RequestServices.GetRequiredService<MailLinks>().Reset("t"))));
                next(app);
            };
        }
    }
}
