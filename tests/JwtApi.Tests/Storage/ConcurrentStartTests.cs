using System.Net;
using JwtApi.Storage;
using JwtApi.Tests.Support;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace JwtApi.Tests.Storage;

/// <summary>
/// Instances of a new deployment start together on an empty database (compose, a scaled-out rollout): they take
/// turns at the migrations, so none finds another's half-applied schema, and make one first key of the Data
/// Protection key ring between them. On SQLite and on PostgreSQL.
/// </summary>
public sealed class ConcurrentStartTests
{
    [Fact]
    public async Task StartsThreeInstancesAtOnceOnAnEmptyDatabase()
    {
        for (var round = 0; round < 3; round++)
        {
            using var storage = new TestStorage();
            var instances = Enumerable.Range(0, 3).Select(_ => new JwtApiFactory { Storage = storage }).ToList();
            try
            {
                // each start migrates the same empty database; a lost race would throw here
                await Task.WhenAll(instances.Select(app => Task.Run(() => app.CreateClient().Dispose())));

                foreach (var app in instances)
                {
                    using var client = app.CreateClient();
                    (await client.GetAsync("/health/ready")).Should().HaveStatusCode(HttpStatusCode.OK, $"round {round}");
                }
                // one first key, made in turn: each instance reads what any other protects from the start
                using var scope = instances[0].Services.CreateScope();
                (await scope.ServiceProvider.GetRequiredService<AppDb>().DataProtectionKeys.CountAsync()).Should().Be(1, $"round {round}");
                var secret = instances[1].Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("test").Protect("s");
                instances[2].Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("test").Unprotect(secret).Should().Be("s");
            }
            finally
            {
                instances.ForEach(app => app.Dispose());
            }
        }
    }
}
