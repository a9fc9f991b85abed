using System.Diagnostics;
using System.Net;
using JwtApi.Tokens;
using JwtApi.Users;
using Microsoft.Extensions.Options;

namespace JwtApi.Benchmarks;

/// <summary>
/// Tokens for bench/load.sh, minted with the key the servers under test were given (HS256 JWT_KEY, or RS256
/// JWT_PRIVATE_KEY_PATH with JWT_ALGORITHM=RS256): each for a
/// new user id, so every one is distinct.
/// <list type="bullet">
/// <item><c>mint N FILE</c>: N tokens, one per line, for wrk to send.</item>
/// <item><c>send N URL [CONCURRENCY]</c>: mints N tokens and sends each once as GET URL with it, as fast as the
/// server takes them; prints how many answered 200 and how long it took.</item>
/// </list>
/// </summary>
public static class LoadTokens
{
    public static int Run(string[] args)
    {
        // the server's key: JWT_KEY (Jwt:SigningKey, HS256), or with JWT_ALGORITHM=RS256 the PEM at JWT_PRIVATE_KEY_PATH
        var algorithm = Environment.GetEnvironmentVariable("JWT_ALGORITHM") ?? SigningAlgorithms.HS256;
        SigningKey signing;
        if (algorithm == SigningAlgorithms.HS256)
        {
            var key = Environment.GetEnvironmentVariable("JWT_KEY") ?? throw new InvalidOperationException("Set JWT_KEY to the server's Jwt:SigningKey.");
            signing = SigningKeys.Hmac(Convert.FromBase64String(key), "hs-");
        }
        else if (!SigningKeys.TryAsymmetric(algorithm, File.ReadAllText(Environment.GetEnvironmentVariable("JWT_PRIVATE_KEY_PATH")
                     ?? throw new InvalidOperationException("Set JWT_PRIVATE_KEY_PATH to the server's Jwt:PrivateKeyPath.")),
                     "JWT_PRIVATE_KEY_PATH", requirePrivate: true, out var asymmetric, out var error))
        {
            throw new InvalidOperationException(error);
        }
        else
        {
            signing = asymmetric!;
        }
        var options = new JwtOptions { Issuer = "jwtapi", Audience = "jwtapi", Algorithm = algorithm };
        var refresh = new RefreshKey(SigningKeys.Hmac(new byte[32], "rt-"));
        var issuer = new TokenIssuer(new SigningKeys(signing, []), new RefreshTokens(refresh, Options.Create(options), TimeProvider.System),
            Options.Create(options), TimeProvider.System, BenchTelemetry.Create());
        string Mint() => issuer.IssueAccessToken(
            new User { Username = "load", NormalizedUsername = "load", PasswordHash = "-", Roles = ["user"] }, TokenIssuer.NewTokenId()).Token;

        switch (args)
        {
            case ["mint", var count, var file]:
                using (var writer = new StreamWriter(file))
                {
                    for (var i = 0; i < int.Parse(count, System.Globalization.CultureInfo.InvariantCulture); i++)
                    {
                        writer.WriteLine(Mint());
                    }
                }
                return 0;
            case ["send", var count, var url, .. var rest]:
                return SendAsync(int.Parse(count, System.Globalization.CultureInfo.InvariantCulture), new Uri(url),
                    rest is [var c] ? int.Parse(c, System.Globalization.CultureInfo.InvariantCulture) : 32, Mint).GetAwaiter().GetResult();
            default:
                Console.Error.WriteLine("usage: (JWT_KEY=...) mint N FILE | send N URL [CONCURRENCY]");
                return 2;
        }
    }

    private static async Task<int> SendAsync(int count, Uri url, int concurrency, Func<string> mint)
    {
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency });
        var next = -1;
        var ok = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < count)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                request.Headers.Authorization = new("Bearer", mint());
                using var response = await client.SendAsync(request);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref ok);
                }
            }
        }));
        Console.WriteLine($"sent {count} distinct tokens: {ok} answered 200 in {clock.Elapsed.TotalSeconds:F1} s ({count / clock.Elapsed.TotalSeconds:F0}/s)");
        return ok == count ? 0 : 1;
    }
}
