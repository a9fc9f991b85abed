using JwtApi.Tests.Support;

namespace JwtApi.Tests.Mail;

/// <summary>Mail settings that cannot work stop the service at start, saying which keys to set.</summary>
public sealed class MailStartupTests
{
    private const string Absolute = "https://app.example.com/#reset-password?token={token}";

    private static string StartupError(string environment, params (string Key, string? Value)[] settings)
    {
        var factory = new JwtApiFactory { Environment = environment };
        factory.Settings["Passwords:WorkFactor"] = "10";
        foreach (var (key, value) in settings)
        {
            factory.Settings[key] = value;
        }
        return StartupFailure.Of(factory);
    }

    [Theory]
    [InlineData("Production")]
    [InlineData("Staging")]
    public void RefusesToStartEnabledOutsideDevelopmentWithNowhereToSend(string environment)
    {
        var error = StartupError(environment, ("Mail:Enabled", "true"), ("Mail:From", "JwtApi <no-reply@example.com>"),
            ("Mail:Links:ResetUrl", Absolute), ("Mail:Links:VerifyUrl", Absolute));

        error.Should().Contain("Mail:Smtp:Host").And.Contain("Mail__Smtp__Host").And.Contain("Mail:PickupDirectory")
            .And.Contain("Mail:Enabled to false");
    }

    [Fact]
    public void RefusesToStartWithAPathTemplateAndNoPublicOriginOutsideDevelopment()
    {
        var error = StartupError("Production", ("Mail:Enabled", "true"), ("Mail:From", "JwtApi <no-reply@example.com>"),
            ("Mail:Smtp:Host", "smtp.example.com"), ("Mail:Links:VerifyUrl", Absolute));

        error.Should().Contain("Mail:Links:ResetUrl is the path '/demo/#reset-password?token={token}'")
            .And.Contain("Hosting:PublicOrigin").And.Contain("Hosting__PublicOrigin").And.NotContain("Mail:Links:VerifyUrl");
    }

    [Theory]
    [InlineData("https://app.example.com/#reset-password")]                // no {token}
    [InlineData("//evil.example/#reset-password?token={token}")]           // another host once resolved
    [InlineData("/\\evil.example/#reset-password?token={token}")]
    [InlineData("javascript:alert(1)//{token}")]
    [InlineData("ftp://app.example.com/{token}")]
    [InlineData("demo/#reset-password?token={token}")]                     // relative, not a path
    public void RefusesToStartWithALinkTemplateThatIsNotAnHttpUrlWithAToken(string template)
    {
        // checked whether mail is on or not, in any environment
        var error = StartupError("Testing", ("Mail:Links:ResetUrl", template));

        error.Should().Contain($"Mail:Links:ResetUrl is '{template}'").And.Contain("{token}").And.Contain("absolute http(s) URL");
    }

    [Fact]
    public void RefusesToStartWithAUsernameAndNoPassword()
    {
        StartupError("Testing", ("Mail:Smtp:Username", "mailer")).Should().Contain("Mail:Smtp:Username and Mail:Smtp:Password go together");
    }

    [Theory]
    [InlineData("not an address")]
    [InlineData("no-reply")]
    [InlineData("a@example.com, b@example.com")]
    public void RefusesToStartWithAFromThatIsNotOneAddress(string from)
    {
        StartupError("Testing", ("Mail:From", from)).Should().Contain($"Mail:From is '{from}'").And.Contain("Mail__From");
    }

    [Fact]
    public void RefusesToStartWithALocalhostSenderOutsideDevelopment()
    {
        var error = StartupError("Production", ("Mail:Enabled", "true"), ("Mail:Smtp:Host", "smtp.example.com"),
            ("Hosting:PublicOrigin", "https://auth.example.com"));

        error.Should().Contain("Mail:From is 'JwtApi <no-reply@localhost>'").And.Contain("your own domain");
    }

    [Fact]
    public void StartsOutsideDevelopmentWithAnSmtpServerAFromAndAPublicOrigin()
    {
        using var app = new JwtApiFactory { Environment = "Production" };
        app.Settings["Passwords:WorkFactor"] = "10";
        app.Settings["Mail:Enabled"] = "true";
        app.Settings["Mail:From"] = "JwtApi <no-reply@example.com>";
        app.Settings["Mail:Smtp:Host"] = "smtp.example.com";
        app.Settings["Hosting:PublicOrigin"] = "https://auth.example.com";

        app.Services.GetService(typeof(JwtApi.Mail.MailQueue)).Should().BeOfType<JwtApi.Mail.MailQueue>().Which.Enabled.Should().BeTrue();
    }
}
