using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using JwtApi.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace JwtApi.Tests.Fuzz;

/// <summary>The service, ready for thousands of requests from one client.</summary>
public sealed class FuzzApiFactory : JwtApiFactory
{
    public FuzzApiFactory()
    {
        // Rate limits are coming to /login, /register, /refresh and /token: a fuzz run is one very busy address.
        Settings["RateLimits:PerAddress:PermitLimit"] = "1000000";
        Settings["RateLimits:PerUsernameAndAddress:PermitLimit"] = "1000000";
        Settings["RateLimits:PerUsername:PermitLimit"] = "1000000";
        // Thousands of refusals: log only warnings and errors.
        Settings["Logging:LogLevel:Default"] = "Warning";
        // the mail endpoints answer only with mail on; nothing valid is sent, so nothing is mailed
        Settings["Mail:Enabled"] = "true";
        Settings["Mail:PickupDirectory"] = Path.Combine(DataPath, "mail");
        Settings["Mail:From"] = MailFrom;
        Settings["Mail:Links:ResetUrl"] = MailLinkOrigin + "/demo/#reset-password?token={token}";
        Settings["Mail:Links:VerifyUrl"] = MailLinkOrigin + "/demo/#verify-email?token={token}";
    }
}

/// <summary>
/// Property tests, seeded and reproducible (see <see cref="FuzzSeed"/>): thousands of hostile bearer tokens and
/// invalid bodies through the real pipeline. Bad input gets a clear application/problem+json answer (RFC 6749
/// JSON at /token), never a 5xx, and never changes stored data.
/// </summary>
public sealed class FuzzTests(FuzzApiFactory app, ITestOutputHelper output) : IClassFixture<FuzzApiFactory>
{
    private const int TokenCases = 4000;
    private const int TokenCasesSent = 3500;   // random bytes hold CR or LF often enough that HttpClient drops a few hundred
    private const int BodyCasesPerEndpoint = 600;

    [Fact]
    public async Task Returns401ProblemGivenRandomOrMutatedBearerTokens()
    {
        var inputs = new TokenInputs(await app.LoginAsync(await app.AdminAsync()), TestKeys.HmacSecret, app.JwtOptions);
        var before = await DatabaseSnapshot.TakeAsync(app.Services);
        using var client = app.CreateClient();
        var report = new FuzzReport("Bearer tokens on GET /me and GET /users");
        var clock = Stopwatch.StartNew();

        foreach (var index in FuzzSeed.Cases(TokenCases))
        {
            var input = inputs.Next(FuzzSeed.ForCase(index));
            // HttpClient refuses CR, LF and NUL in a header value (header injection), and no server passes them on;
            // the test server would. Other controls and non-ASCII are sent (with a RequestHeaderEncodingSelector).
            if (input.Authorization.AsSpan().IndexOfAny("\r\n\0") >= 0)
            {
                report.Skip(input.Generator);
                continue;
            }
            // HttpClient sends a value it can parse in its own spelling ("Bearer\t<token>" as "Bearer <token>"):
            // judge what is actually sent.
            var sent = input.Authorization;
            string? failure = null;
            foreach (var path in (string[])["/me", "/users?pageSize=1"])
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, path);
                request.Headers.TryAddWithoutValidation("Authorization", input.Authorization).Should().BeTrue();
                sent = string.Join(", ", request.Headers.GetValues("Authorization"));
                var verdict = sent == input.Authorization ? input.Verdict : inputs.VerdictOf(sent);
                using var response = await client.SendAsync(request);
                var answer = await Answer.ReadAsync(response);
                report.Tally(verdict == Verdict.Unspecified
                    ? $"{input.Generator} unspecified, answered {answer.Status}"
                    : $"{answer.Status} {(answer.Json?.TryGetProperty("reason", out var reason) == true ? reason.GetString() : "")}".Trim());
                failure ??= BearerFailure(answer, verdict) is { } wrong ? $"GET {path}: {wrong}" : null;
            }
            report.Record(index, input.Generator, "GET /me and /users with Authorization:",
                FuzzReport.Show(sent) + (sent == input.Authorization ? "" : $" (generated as {FuzzReport.Show(input.Authorization)})"),
                failure);
        }

        output.WriteLine($"{report.Summary} in {clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine(string.Join("\n", report.FailureHeadlines));
        report.ShouldHold(minimumSent: FuzzSeed.Expected(TokenCasesSent));
        (await DatabaseSnapshot.TakeAsync(app.Services)).Should().Equal(before);
    }

    [Fact]
    public async Task Returns4xxProblemAndKeepsStoredDataGivenInvalidBodies()
    {
        var user = await app.CreateUserAsync();
        var userTokens = await app.LoginPairAsync(user);
        var adminTokens = await app.LoginPairAsync(await app.AdminAsync());
        using var anonymous = app.CreateClient();
        using var asUser = app.ClientWithToken(userTokens.Access);
        using var asAdmin = app.ClientWithToken(adminTokens.Access);
        var endpoints = BodyEndpoints(user, userTokens, adminTokens, anonymous, asUser, asAdmin);
        // the second step of a login: a real mfa_token and the code of now, each field spoiled in turn
        var enrolled = await JwtApi.Tests.Mfa.MfaUsers.EnrolledAsync(app);
        var mfaToken = await JwtApi.Tests.Mfa.MfaUsers.MfaTokenAsync(app, enrolled.User);
        var code = JwtApi.Tests.Mfa.TotpCodes.At(enrolled.Secret, app.Time.GetUtcNow());
        endpoints.Add(new("login-mfa", anonymous, HttpMethod.Post, "/login/mfa", new JsonBodyInputs([
            new BodyField("mfa_token", JsonText.String(mfaToken), RefusedValues.WrongRefreshTokens(userTokens.Refresh, userTokens.Access).Select(JsonText.String).ToList(), AnyOtherStringRefused: true),
            new BodyField("code", JsonText.String(code), new[] { "000000", "12345", "1234567", "abcdef", "" }.Where(c => c != code).Select(JsonText.String).ToList(), AnyOtherStringRefused: true)]).Next,
            ProblemFailure));

        // the mail endpoints: real reset and verification tokens of a user with an address, each field spoiled in turn
        var withAddress = await app.CreateUserAsync();
        await MailFuzzEndpointsAsync(endpoints, withAddress, userTokens, anonymous);

        var before = await DatabaseSnapshot.TakeAsync(app.Services);
        var report = new FuzzReport("Invalid bodies");
        var clock = Stopwatch.StartNew();
        var count = endpoints.Count * BodyCasesPerEndpoint;
        foreach (var index in FuzzSeed.Cases(count))
        {
            var endpoint = endpoints[index % endpoints.Count];
            var input = endpoint.Next(FuzzSeed.ForCase(index));
            using var request = new HttpRequestMessage(endpoint.Method, endpoint.Path) { Content = new ByteArrayContent(input.Body) };
            if (input.ContentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", input.ContentType).Should().BeTrue();
            }
            using var response = await endpoint.Client.SendAsync(request);
            var answer = await Answer.ReadAsync(response);
            report.Tally($"{endpoint.Name} {answer.Status}");
            report.Record(index, $"{endpoint.Name} {input.Generator}",
                $"{endpoint.Method} {endpoint.Path} Content-Type: {input.ContentType ?? "(none)"}, body", FuzzReport.Show(input.Body),
                endpoint.Check(answer));
        }

        output.WriteLine($"{report.Summary} in {clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine(string.Join("\n", report.FailureHeadlines));
        report.ShouldHold(minimumSent: FuzzSeed.Expected(count));
        var after = await DatabaseSnapshot.TakeAsync(app.Services);
        before.Count(row => row.StartsWith("users: ", StringComparison.Ordinal)).Should().BeGreaterThanOrEqualTo(2, "root and the fuzz user are stored");
        after.Should().Equal(before, "rejected input never changes stored data");
        // and nobody was logged out: both access tokens still work
        (await asUser.GetAsync("/me")).Should().HaveStatusCode(HttpStatusCode.OK);
        (await asAdmin.GetAsync("/users")).Should().HaveStatusCode(HttpStatusCode.OK);
    }

    private async Task MailFuzzEndpointsAsync(List<BodyEndpoint> endpoints, TestUser user, TokenSet userTokens, HttpClient anonymous)
    {
        var userClient = app.ClientWithToken(await app.LoginAsync(user));
        (await userClient.PutAsJsonAsync("/me/email", new { email = "fuzz-owner@example.test", password = user.Password }))
            .Should().HaveStatusCode(HttpStatusCode.OK);
        using var scope = app.Services.CreateScope();
        var stored = await scope.ServiceProvider.GetRequiredService<JwtApi.Storage.AppDb>().Users.SingleAsync(u => u.Id == user.Id);
        var tokens = app.Services.GetRequiredService<JwtApi.Recovery.RecoveryTokens>();
        var reset = tokens.IssueReset(stored);
        var verification = tokens.IssueVerification(stored);
        string[] WrongTokens(string valid, string other) =>
            [.. RefusedValues.WrongRefreshTokens(valid, userTokens.Access), other, userTokens.Refresh];
        var malformedAddresses = RefusedValues.MalformedEmails.Select(JsonText.String).ToList();
        endpoints.AddRange(
        [
            new("reset-password", anonymous, HttpMethod.Post, "/password/reset", new JsonBodyInputs([
                new BodyField("token", JsonText.String(reset), WrongTokens(reset, verification).Select(JsonText.String).ToList()),
                new BodyField("new_password", JsonText.String("another-valid-password"), RefusedValues.NewPasswords.Select(JsonText.String).ToList(), AnyOtherStringRefused: false)]).Next,
                ProblemFailure),
            new("verify-email", anonymous, HttpMethod.Post, "/email/verify", new JsonBodyInputs([
                new BodyField("token", JsonText.String(verification), WrongTokens(verification, reset).Select(JsonText.String).ToList())]).Next,
                ProblemFailure),
            new("forgot-password", anonymous, HttpMethod.Post, "/password/forgot", new JsonBodyInputs([
                new BodyField("email", JsonText.String("someone@example.test"), malformedAddresses, AnyOtherStringRefused: false)]).Next,
                ProblemFailure),
            new("change-email", userClient, HttpMethod.Put, "/me/email", new JsonBodyInputs([
                new BodyField("email", JsonText.String("fuzz-new@example.test"), malformedAddresses, AnyOtherStringRefused: false),
                new BodyField("password", JsonText.String(user.Password), RefusedValues.WrongPasswords(user.Password).Select(JsonText.String).ToList())]).Next,
                ProblemFailure),
        ]);
    }

    private sealed record BodyEndpoint(
        string Name, HttpClient Client, HttpMethod Method, string Path, Func<Random, BodyCase> Next, Func<Answer, string?> Check);

    /// <summary>Every endpoint that reads a body, each with a valid body to spoil and the values that spoil it.</summary>
    private static List<BodyEndpoint> BodyEndpoints(
        TestUser user, TokenSet userTokens, TokenSet adminTokens, HttpClient anonymous, HttpClient asUser, HttpClient asAdmin)
    {
        var wrongPasswords = RefusedValues.WrongPasswords(user.Password);
        var wrongRefreshTokens = RefusedValues.WrongRefreshTokens(userTokens.Refresh, userTokens.Access);
        var newUsername = Text("username", "fuzz-new-user", RefusedValues.NewUsernames(user.Username));
        var newPassword = Text("password", "a-valid-password", RefusedValues.NewPasswords, anyOtherStringRefused: false);
        var roles = (Valid: "[\"fuzz\",\"user\"]", Refused: RefusedValues.RoleLists);
        return
        [
            new("register", anonymous, HttpMethod.Post, "/register", new JsonBodyInputs([newUsername, newPassword]).Next, ProblemFailure),
            new("login", anonymous, HttpMethod.Post, "/login", new JsonBodyInputs([
                Text("username", user.Username, RefusedValues.OtherUsernames(user.Username)),
                Text("password", user.Password, wrongPasswords)]).Next, ProblemFailure),
            new("refresh", anonymous, HttpMethod.Post, "/refresh",
                new JsonBodyInputs([Text("refresh_token", userTokens.Refresh, wrongRefreshTokens)]).Next, ProblemFailure),
            // no body, an empty token, null: all mean "log out this device", a valid request, so none is a defect here
            new("logout", asUser, HttpMethod.Post, "/logout", new JsonBodyInputs([Text("refresh_token", userTokens.Refresh,
                [.. wrongRefreshTokens.Where(t => t != ""), adminTokens.Refresh], optional: true)], bodyOptional: true).Next, ProblemFailure),
            new("change-password", asUser, HttpMethod.Put, "/me/password", new JsonBodyInputs([
                Text("current_password", user.Password, wrongPasswords),
                Text("new_password", "another-valid-password", RefusedValues.NewPasswords, anyOtherStringRefused: false)]).Next, ProblemFailure),
            new("create-user", asAdmin, HttpMethod.Post, "/users", new JsonBodyInputs([newUsername, newPassword,
                new BodyField("roles", roles.Valid, roles.Refused, IsArray: true, Optional: true)]).Next, ProblemFailure),
            new("set-roles", asAdmin, HttpMethod.Put, $"/users/{user.Id}/roles",
                new JsonBodyInputs([new BodyField("roles", roles.Valid, roles.Refused, IsArray: true)]).Next, ProblemFailure),
            new("token", anonymous, HttpMethod.Post, "/token", new FormInputs(user.Username, user.Password,
                RefusedValues.OtherUsernames(user.Username), wrongPasswords, wrongRefreshTokens, userTokens.Refresh).Next, OAuthErrorFailure),
        ];

        static BodyField Text(string name, string valid, IEnumerable<string> refused, bool optional = false, bool anyOtherStringRefused = true) =>
            new(name, JsonText.String(valid), refused.Select(JsonText.String).ToList(), Optional: optional, AnyOtherStringRefused: anyOtherStringRefused);
    }

    /// <summary>Null when the bearer pipeline answered as the verdict says, with a problem body for any refusal.</summary>
    private static string? BearerFailure(Answer answer, Verdict verdict)
    {
        int[] allowed = verdict switch
        {
            Verdict.Accepted => [200],
            Verdict.Refused => [401],
            _ => [200, 401, 403],
        };
        if (!allowed.Contains(answer.Status))
        {
            return $"expected {string.Join(" or ", allowed)}, got {answer}";
        }
        if (answer.Status == 401 && !answer.WwwAuthenticate.StartsWith("Bearer", StringComparison.Ordinal))
        {
            return $"401 without a Bearer challenge: {answer}";
        }
        return answer.Status == 200 ? null : ProblemFailure(answer);
    }

    /// <summary>Null for a 4xx application/problem+json whose body repeats the status; else what is wrong.</summary>
    private static string? ProblemFailure(Answer answer)
    {
        if (answer.Status is < 400 or > 499)
        {
            return $"expected a 4xx, got {answer}";
        }
        if (answer.MediaType != "application/problem+json" || answer.Json is not { ValueKind: JsonValueKind.Object } body ||
            !body.TryGetProperty("status", out var status) || status.ValueKind != JsonValueKind.Number || status.GetInt32() != answer.Status ||
            !body.TryGetProperty("title", out var title) || title.ValueKind != JsonValueKind.String)
        {
            return $"expected an application/problem+json body with status and title, got {answer}";
        }
        // a refusal speaks the client's terms (fields, JSON types), never the service's own .NET types
        if (answer.Body.Contains("JwtApi.", StringComparison.Ordinal) || answer.Body.Contains("System.", StringComparison.Ordinal))
        {
            return $"a problem body naming a .NET type: {answer}";
        }
        return null;
    }

    private static readonly string[] OAuthErrors =
        ["invalid_request", "invalid_grant", "unsupported_grant_type", "invalid_scope", "invalid_client", "unauthorized_client", "invalid_target"];

    /// <summary>
    /// Null for an RFC 6749 §5.2 error: 400 (or 401 for invalid_client, with a Basic challenge), application/json,
    /// a known error code; else what is wrong.
    /// </summary>
    private static string? OAuthErrorFailure(Answer answer) =>
        answer.MediaType == "application/json" && answer.Json is { ValueKind: JsonValueKind.Object } body &&
        body.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String && OAuthErrors.Contains(error.GetString()) &&
        (answer.Status == 400 || (answer.Status == 401 && error.GetString() == "invalid_client" && answer.WwwAuthenticate.StartsWith("Basic", StringComparison.Ordinal)))
            ? null
            : $"expected 400 (or 401 invalid_client) application/json with an RFC 6749 error, got {answer}";

    /// <summary>What came back, read once.</summary>
    private sealed record Answer(int Status, string? MediaType, string WwwAuthenticate, string Body, JsonElement? Json)
    {
        public static async Task<Answer> ReadAsync(HttpResponseMessage response)
        {
            var body = await response.Content.ReadAsStringAsync();
            JsonElement? json;
            try
            {
                using var document = JsonDocument.Parse(body);
                json = document.RootElement.Clone();
            }
            catch (JsonException)
            {
                json = null;
            }
            return new((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType,
                response.Headers.WwwAuthenticate.ToString(), body, json);
        }

        public override string ToString() => $"{Status} {MediaType ?? "(no content type)"} {FuzzReport.Show(Body.Length > 300 ? Body[..300] : Body)}";
    }
}
