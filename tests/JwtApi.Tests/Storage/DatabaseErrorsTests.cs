using JwtApi.Storage;
using JwtApi.Tests.Support;
using JwtApi.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace JwtApi.Tests.Storage;

/// <summary>A failed write is told apart by the error code of the provider in use (SQLite, or PostgreSQL under JWTAPI_TEST_POSTGRES).</summary>
public sealed class DatabaseErrorsTests(JwtApiFactory app) : IClassFixture<JwtApiFactory>
{
    private async Task SaveAsync(User user)
    {
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDb>();
        db.Users.Add(user);
        await db.SaveChangesAsync();
    }

    private static User NewUser(string name) => new()
    {
        Username = name,
        NormalizedUsername = name,
        PasswordHash = "not-a-hash",
        CreatedAt = DateTimeOffset.UtcNow,
        UpdatedAt = DateTimeOffset.UtcNow,
    };

    [Fact]
    public async Task RecognisesUniqueViolationGivenTakenNormalizedUsername()
    {
        var name = $"twin-{Guid.NewGuid():N}"[..16];
        await SaveAsync(NewUser(name));

        var failure = await FluentActions.Awaiting(() => SaveAsync(NewUser(name))).Should().ThrowAsync<DbUpdateException>();

        DatabaseErrors.IsUniqueViolation(failure.Which).Should().BeTrue();
    }

    [Fact]
    public async Task DoesNotTakeOtherConstraintsForUniqueViolation()
    {
        var failure = await FluentActions.Awaiting(() => SaveAsync(NewUser(null!))).Should().ThrowAsync<DbUpdateException>();

        DatabaseErrors.IsUniqueViolation(failure.Which).Should().BeFalse();
    }
}
