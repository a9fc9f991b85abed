using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using JwtApi.Storage;
using JwtApi.Tests.Support;
using JwtApi.Users;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace JwtApi.Tests.Users;

/// <summary>
/// Races lost at the database, made deterministic: another writer commits between a request's checks and its
/// save. The loser gets a 409 and changes nothing, on SQLite and on PostgreSQL alike.
/// </summary>
public sealed class ConflictTests : IDisposable
{
    private readonly JwtApiFactory _app = new();

    public void Dispose() => _app.Dispose();

    /// <summary>Runs <paramref name="write"/> (in a scope of its own) just before the first save that <paramref name="when"/> picks.</summary>
    private sealed class Interloper(IServiceScopeFactory scopes, Func<DbContext, bool> when, Func<AppDb, Task> write) : SaveChangesInterceptor
    {
        private int _done;

        public override async ValueTask<InterceptionResult<int>> SavingChangesAsync(
            DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
        {
            if (eventData.Context is { } context && when(context) && Interlocked.Exchange(ref _done, 1) == 0)
            {
                await using var scope = scopes.CreateAsyncScope();
                await write(scope.ServiceProvider.GetRequiredService<AppDb>());
            }
            return result;
        }
    }

    /// <summary>A second instance on the same database, whose saves meet the interloper.</summary>
    private WebApplicationFactory<Program> WithInterloper(Func<DbContext, bool> when, Func<AppDb, Task> write) =>
        _app.WithWebHostBuilder(web => web.ConfigureTestServices(services =>
        {
            services.AddSingleton(provider => new Interloper(provider.GetRequiredService<IServiceScopeFactory>(), when, write));
            Action<IServiceProvider, DbContextOptionsBuilder> intercept = (provider, options) =>
                options.AddInterceptors(provider.GetRequiredService<Interloper>());
            if (_app.Storage.IsPostgres)
            {
                services.ConfigureDbContext<PostgresAppDb>(intercept, ServiceLifetime.Singleton);
            }
            else
            {
                services.ConfigureDbContext<SqliteAppDb>(intercept, ServiceLifetime.Singleton);
            }
        }));

    [Fact]
    public async Task Returns409GivenNameTakenBetweenCheckAndInsert()
    {
        var name = $"racer-{Guid.NewGuid():N}"[..14];
        using var server = WithInterloper(
            db => db.ChangeTracker.Entries<User>().Any(e => e.State == EntityState.Added && e.Entity.NormalizedUsername == name),
            db =>
            {
                db.Users.Add(new User
                {
                    Username = name.ToUpperInvariant(),
                    NormalizedUsername = name,
                    PasswordHash = "the-other-request",
                    CreatedAt = DateTimeOffset.UtcNow,
                    UpdatedAt = DateTimeOffset.UtcNow,
                });
                return db.SaveChangesAsync();
            });

        var response = await server.CreateClient().PostAsJsonAsync("/register", new { username = name, password = "correct horse battery" });

        response.Should().HaveStatusCode(HttpStatusCode.Conflict);
        (await response.JsonAsync()).GetProperty("title").GetString().Should().Be("Username taken");
        using var scope = _app.Services.CreateScope();
        (await scope.ServiceProvider.GetRequiredService<AppDb>().Users.SingleAsync(u => u.NormalizedUsername == name))
            .PasswordHash.Should().Be("the-other-request");
    }

    /// <summary>Runs <paramref name="write"/> (in a scope of its own) just before the first transaction a request begins.</summary>
    private sealed class EarlyWriter(IServiceScopeFactory scopes, Func<AppDb, Task> write) : DbTransactionInterceptor
    {
        private int _done;

        public override async ValueTask<InterceptionResult<System.Data.Common.DbTransaction>> TransactionStartingAsync(
            System.Data.Common.DbConnection connection, TransactionStartingEventData eventData,
            InterceptionResult<System.Data.Common.DbTransaction> result, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                await using var scope = scopes.CreateAsyncScope();
                await write(scope.ServiceProvider.GetRequiredService<AppDb>());
            }
            return result;
        }
    }

    [Fact]
    public async Task AppliesBothChangesGivenUserChangedJustBeforeAnAdminWrite()
    {
        var bob = await _app.CreateUserAsync();
        var token = await _app.LoginAsync(await _app.AdminAsync());
        // An account write reads its rows inside its own transaction, which account writes take one at a time:
        // a change committed before it began is what it builds on, never something it overwrites or trips over.
        using var server = _app.WithWebHostBuilder(web => web.ConfigureTestServices(services =>
        {
            services.AddSingleton(provider => new EarlyWriter(provider.GetRequiredService<IServiceScopeFactory>(), async db =>
            {
                var user = await db.Users.SingleAsync(u => u.Id == bob.Id);
                user.BumpTokenVersion(DateTimeOffset.UtcNow);
                await db.SaveChangesAsync();
            }));
            Action<IServiceProvider, DbContextOptionsBuilder> intercept = (provider, options) =>
                options.AddInterceptors(provider.GetRequiredService<EarlyWriter>());
            if (_app.Storage.IsPostgres)
            {
                services.ConfigureDbContext<PostgresAppDb>(intercept, ServiceLifetime.Singleton);
            }
            else
            {
                services.ConfigureDbContext<SqliteAppDb>(intercept, ServiceLifetime.Singleton);
            }
        }));
        using var admin = server.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        var response = await admin.PutAsJsonAsync($"/users/{bob.Id}/roles", new { roles = new[] { "user", "auditor" } });

        response.Should().HaveStatusCode(HttpStatusCode.OK);
        using var scope = _app.Services.CreateScope();
        var stored = await scope.ServiceProvider.GetRequiredService<AppDb>().Users.AsNoTracking().SingleAsync(u => u.Id == bob.Id);
        stored.Roles.Should().Equal("auditor", "user");
        stored.TokenVersion.Should().Be(2, "the earlier bump stands and the role change bumps again");
    }
}
