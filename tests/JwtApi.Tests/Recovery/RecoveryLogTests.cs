using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace JwtApi.Tests.Recovery;

/// <summary>What the logs keep of getting back in: never a reset or verification token, never an address nobody has.</summary>
public sealed class RecoveryLogTests : IDisposable
{
    private readonly RecoveryApp _app = new();
    private readonly WebApplicationFactory<Program> _server;

    public RecoveryLogTests()
    {
        _server = _app.WithWebHostBuilder(web => web.ConfigureLogging(logging =>
            logging.SetMinimumLevel(LogLevel.Trace).AddFakeLogging()));
    }

    public void Dispose()
    {
        _server.Dispose();
        _app.Dispose();
    }

    [Fact]
    public async Task LogNoTokenAndNoAddressOfAnAccountThatDoesNotExist()
    {
        using var client = _server.CreateClient();
        var email = RecoveryApp.NewAddress("logged");
        var username = $"log{Guid.NewGuid():N}"[..12];
        (await client.PostAsJsonAsync("/register", new { username, password = "pw-long-enough-1", email }))
            .Should().HaveStatusCode(HttpStatusCode.Created);
        var verification = RecoveryApp.TokenIn(await _app.MailToAsync(email, "Confirm your email address"));
        (await client.PostAsJsonAsync("/email/verify", new { token = verification })).Should().HaveStatusCode(HttpStatusCode.OK);
        var nobody = RecoveryApp.NewAddress("nobody");
        (await client.PostAsJsonAsync("/password/forgot", new { email = nobody })).Should().HaveStatusCode(HttpStatusCode.Accepted);
        (await client.PostAsJsonAsync("/password/forgot", new { email })).Should().HaveStatusCode(HttpStatusCode.Accepted);
        var reset = RecoveryApp.TokenIn(await _app.MailToAsync(email, "Reset your password"));
        (await client.PostAsJsonAsync("/password/reset", new { token = reset, new_password = "pw-reset-by-mail" }))
            .Should().HaveStatusCode(HttpStatusCode.NoContent);
        (await client.PostAsJsonAsync("/password/reset", new { token = reset, new_password = "pw-reset-again-1" }))
            .Should().HaveStatusCode(HttpStatusCode.BadRequest);
        await _app.MailToAsync(email, "Your password was changed");

        var records = _server.Services.GetFakeLogCollector().GetSnapshot();
        records.Should().Contain(r => r.Id.Name == "PasswordReset", "the reset itself is audited");
        foreach (var secret in new[] { verification, reset, nobody })
        {
            records.Should().NotContain(r => r.Message.Contains(secret, StringComparison.OrdinalIgnoreCase) ||
                (r.StructuredState ?? Array.Empty<KeyValuePair<string, string?>>()).Any(kv => kv.Value != null && kv.Value.Contains(secret, StringComparison.OrdinalIgnoreCase)));
        }
    }
}
