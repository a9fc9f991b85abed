namespace JwtApi.Tests.Support;

/// <summary>
/// Logins all at once against a service that runs one BCrypt check at a time (about 250 ms each) and lets none
/// wait: some get through, the rest are refused busy (503).
/// </summary>
public static class LoginFlood
{
    public static JwtApiFactory Service()
    {
        var app = new JwtApiFactory();
        app.Settings["Passwords:WorkFactor"] = "12";
        app.Settings["Passwords:MaxConcurrentHashes"] = "1";
        app.Settings["Passwords:MaxQueuedHashes"] = "0";
        return app;
    }

    public static Task<HttpResponseMessage[]> SendAsync(JwtApiFactory app, TestUser user, int logins = 6) =>
        Task.WhenAll(Enumerable.Range(0, logins).Select(_ => Task.Run(async () =>
        {
            using var client = app.CreateClient();
            return await client.LoginAsync(user.Username, user.Password);
        })));
}
