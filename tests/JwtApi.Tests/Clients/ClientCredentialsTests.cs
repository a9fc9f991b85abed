using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using JwtApi.Clients;
using JwtApi.Storage;
using JwtApi.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;

namespace JwtApi.Tests.Clients;

/// <summary>
/// grant_type=client_credentials at POST /token (RFC 6749 §4.4): a registered client authenticates with its secret
/// (HTTP Basic or the form, not both) and gets an RFC 9068 token for itself, with scopes and for one of its audiences.
/// </summary>
public sealed class ClientCredentialsTests : IDisposable
{
    private readonly JwtApiFactory _app = new();
    private readonly WebApplicationFactory<Program> _server;

    public ClientCredentialsTests()
    {
        _app.Settings["RateLimits:PerUsernameAndAddress:PermitLimit"] = "3";
        _server = _app.WithWebHostBuilder(web => web.ConfigureLogging(logging => logging.AddFakeLogging()));
    }

    public void Dispose()
    {
        _server.Dispose();
        _app.Dispose();
    }

    private sealed record Registered(string Id, string Secret);

    /// <summary>A client stored as the admin API stores one: only the secret's hash.</summary>
    private async Task<Registered> RegisterAsync(
        string[]? grants = null, string[]? scopes = null, string[]? audiences = null, bool disabled = false, Action<Client>? change = null)
    {
        var secret = ClientSecrets.Generate();
        var client = new Client
        {
            Name = "billing job",
            GrantTypes = [.. grants ?? [Client.Grants.ClientCredentials]],
            Scopes = [.. scopes ?? ["reports:read", "reports:write"]],
            Audiences = [.. audiences ?? ["reports-api", "billing-api"]],
            SecretHash = ClientSecrets.Hash(secret),
            Disabled = disabled,
            CreatedAt = _app.Time.GetUtcNow(),
            UpdatedAt = _app.Time.GetUtcNow(),
        };
        change?.Invoke(client);
        using var scope = _server.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDb>();
        db.Clients.Add(client);
        await db.SaveChangesAsync();
        return new Registered(client.Id, secret);
    }

    private async Task<HttpResponseMessage> TokenAsync(Registered? basic, Dictionary<string, string> form)
    {
        using var client = _server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/token") { Content = new FormUrlEncodedContent(form) };
        if (basic is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(basic.Id)}:{Uri.EscapeDataString(basic.Secret)}")));
        }
        return await client.SendAsync(request);
    }

    private static Dictionary<string, string> Grant(params (string Key, string Value)[] extra)
    {
        var form = new Dictionary<string, string> { ["grant_type"] = "client_credentials" };
        foreach (var (key, value) in extra)
        {
            form[key] = value;
        }
        return form;
    }

    private static async Task ShouldBeErrorAsync(HttpResponseMessage response, HttpStatusCode status, string error)
    {
        response.Should().HaveStatusCode(status);
        (await response.JsonAsync()).GetProperty("error").GetString().Should().Be(error);
    }

    [Fact]
    public async Task IssuesAnRfc9068ClientTokenGivenClientSecretBasic()
    {
        var registered = await RegisterAsync();

        var response = await TokenAsync(registered, Grant());

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        response.Headers.CacheControl!.NoStore.Should().BeTrue();
        var body = await response.JsonAsync();
        body.GetProperty("token_type").GetString().Should().Be("Bearer");
        body.GetProperty("expires_in").GetInt32().Should().Be(900);
        body.GetProperty("scope").GetString().Should().Be("reports:read reports:write");
        body.TryGetProperty("refresh_token", out _).Should().BeFalse("the client asks again with its secret");
        var token = new JsonWebToken(body.GetProperty("access_token").GetString());
        token.Typ.Should().Be("at+jwt");
        token.Subject.Should().Be(registered.Id);
        token.GetClaim("client_id").Value.Should().Be(registered.Id);
        token.GetClaim("scope").Value.Should().Be("reports:read reports:write");
        token.Audiences.Should().Equal("reports-api");
        token.Id.Should().NotBeNullOrEmpty();
        (token.ValidTo - token.IssuedAt).Should().Be(TimeSpan.FromMinutes(15));
        token.TryGetClaim("ver", out _).Should().BeTrue();
        foreach (var absent in new[] { "name", "role", "sid" })
        {
            token.TryGetClaim(absent, out _).Should().BeFalse($"a client token has no {absent}");
        }
    }

    [Fact]
    public async Task IssuesATokenGivenClientSecretPost()
    {
        var registered = await RegisterAsync();

        var response = await TokenAsync(null, Grant(("client_id", registered.Id), ("client_secret", registered.Secret)));

        response.Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Returns400InvalidRequestGivenBothAuthenticationMethods()
    {
        var registered = await RegisterAsync();

        var response = await TokenAsync(registered, Grant(("client_id", registered.Id), ("client_secret", registered.Secret)));

        await ShouldBeErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Returns401InvalidClientAlikeGivenWrongSecretUnknownClientDisabledClientOrNone()
    {
        var registered = await RegisterAsync();
        var disabled = await RegisterAsync(disabled: true);

        var answers = new[]
        {
            await TokenAsync(registered with { Secret = ClientSecrets.Generate() }, Grant()),
            await TokenAsync(new Registered(Client.NewId(), registered.Secret), Grant()),
            await TokenAsync(disabled, Grant()),
        };

        foreach (var response in answers)
        {
            await ShouldBeErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_client");
            response.Headers.WwwAuthenticate.ToString().Should().Be("Basic realm=\"jwtapi\"");
        }
        (await Task.WhenAll(answers.Select(a => a.Content.ReadAsStringAsync()))).Distinct().Should().ContainSingle("no hint of which check failed");
        await ShouldBeErrorAsync(await TokenAsync(null, Grant()), HttpStatusCode.Unauthorized, "invalid_client");
    }

    [Fact]
    public async Task Returns400UnauthorizedClientGivenAClientNotAllowedTheGrant()
    {
        var registered = await RegisterAsync(grants: [Client.Grants.Introspection]);

        await ShouldBeErrorAsync(await TokenAsync(registered, Grant()), HttpStatusCode.BadRequest, "unauthorized_client");
    }

    [Theory]
    [InlineData("reports:read", "reports:read")]
    [InlineData("reports:write reports:read", "reports:write reports:read")]
    [InlineData("reports:read reports:read", "reports:read")]
    public async Task GrantsTheScopesAskedForAmongTheClients(string asked, string granted)
    {
        var registered = await RegisterAsync();

        var body = await (await TokenAsync(registered, Grant(("scope", asked)))).JsonAsync();

        body.GetProperty("scope").GetString().Should().Be(granted);
        new JsonWebToken(body.GetProperty("access_token").GetString()).GetClaim("scope").Value.Should().Be(granted);
    }

    [Fact]
    public async Task Returns400InvalidScopeGivenAScopeTheClientDoesNotHave()
    {
        var registered = await RegisterAsync();

        await ShouldBeErrorAsync(await TokenAsync(registered, Grant(("scope", "reports:read admin"))), HttpStatusCode.BadRequest, "invalid_scope");
    }

    [Theory]
    [InlineData("resource", "billing-api")]
    [InlineData("audience", "billing-api")]
    public async Task IssuesTheTokenForTheAudienceAskedFor(string parameter, string audience)
    {
        var registered = await RegisterAsync();

        var body = await (await TokenAsync(registered, Grant((parameter, audience)))).JsonAsync();

        new JsonWebToken(body.GetProperty("access_token").GetString()).Audiences.Should().Equal(audience);
    }

    [Theory]
    [InlineData("resource", "jwtapi")]
    [InlineData("audience", "payroll-api")]
    public async Task Returns400InvalidTargetGivenAnAudienceNotTheClients(string parameter, string audience)
    {
        var registered = await RegisterAsync();

        await ShouldBeErrorAsync(await TokenAsync(registered, Grant((parameter, audience))), HttpStatusCode.BadRequest, "invalid_target");
    }

    [Fact]
    public async Task AcceptsThePreviousSecretUntilItsOverlapEnds()
    {
        var previous = ClientSecrets.Generate();
        var until = _app.Time.GetUtcNow().AddHours(24).ToUnixTimeSeconds();
        var registered = await RegisterAsync(change: c =>
        {
            c.PreviousSecretHash = ClientSecrets.Hash(previous);
            c.PreviousSecretValidUntil = until;
        });

        (await TokenAsync(registered with { Secret = previous }, Grant())).Should().HaveStatusCode(HttpStatusCode.OK);
        _app.Time.Advance(TimeSpan.FromHours(24));

        await ShouldBeErrorAsync(await TokenAsync(registered with { Secret = previous }, Grant()), HttpStatusCode.Unauthorized, "invalid_client");
        (await TokenAsync(registered, Grant())).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ThrottlesWrongSecretsPerClientWithRetryAfter()
    {
        var registered = await RegisterAsync();
        var wrong = registered with { Secret = ClientSecrets.Generate() };
        for (var i = 0; i < 3; i++)
        {
            await ShouldBeErrorAsync(await TokenAsync(wrong, Grant()), HttpStatusCode.Unauthorized, "invalid_client");
        }

        var throttled = await TokenAsync(registered, Grant());

        throttled.Should().HaveStatusCode(HttpStatusCode.TooManyRequests);
        throttled.Headers.RetryAfter!.Delta.Should().BePositive();
    }

    [Fact]
    public async Task RefusesItsTokenAtJwtApisOwnEndpoints()
    {
        var registered = await RegisterAsync();
        var token = (await (await TokenAsync(registered, Grant())).JsonAsync()).GetProperty("access_token").GetString()!;

        var response = await _app.ClientWithToken(token).GetAsync("/me");

        response.Should().HaveStatusCode(HttpStatusCode.Unauthorized);
        (await response.JsonAsync()).GetProperty("reason").GetString().Should().Be("wrong_audience");
    }

    [Fact]
    public async Task LogsIssuesAndFailuresWithoutTheSecret()
    {
        var registered = await RegisterAsync();
        var wrongSecret = ClientSecrets.Generate();
        (await TokenAsync(registered, Grant())).Should().HaveStatusCode(HttpStatusCode.OK);
        (await TokenAsync(registered with { Secret = wrongSecret }, Grant())).Should().HaveStatusCode(HttpStatusCode.Unauthorized);

        var records = _server.Services.GetFakeLogCollector().GetSnapshot();

        records.Should().Contain(r => r.Id.Name == "ClientTokenIssued" && r.Message.Contains(registered.Id));
        records.Should().Contain(r => r.Id.Name == "ClientAuthenticationFailed" && r.Message.Contains("wrong_secret"));
        records.Should().NotContain(r => r.Message.Contains(registered.Secret) || r.Message.Contains(wrongSecret) ||
                                         JsonSerializer.Serialize(r.StructuredState, (JsonSerializerOptions?)null).Contains(registered.Secret));
    }

    [Fact]
    public async Task CountsEveryRequestByOutcome()
    {
        var registered = await RegisterAsync();
        using var collector = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(
            _server.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), JwtApi.Hosting.Telemetry.Name,
            JwtApi.Hosting.Telemetry.Instruments.ClientTokens);

        await TokenAsync(registered, Grant());
        await TokenAsync(registered with { Secret = ClientSecrets.Generate() }, Grant());
        await TokenAsync(registered, Grant(("scope", "admin")));

        collector.GetMeasurementSnapshot().Select(m => m.Tags["jwtapi.client_token.outcome"] as string)
            .Should().Equal("success", "invalid_client", "invalid_scope");
    }
}
