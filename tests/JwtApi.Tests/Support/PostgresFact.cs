namespace JwtApi.Tests.Support;

/// <summary>
/// A test of what only PostgreSQL has (LISTEN/NOTIFY): skipped, with the reason, unless the suite runs against
/// PostgreSQL (<see cref="TestStorage.PostgresVariable"/>, as CI's second run and tests/postgres/start.sh set it).
/// </summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (TestStorage.PostgresAdmin is null)
        {
            Skip = $"PostgreSQL only: set {TestStorage.PostgresVariable} (eval \"$(bash tests/postgres/start.sh)\") to run it.";
        }
    }
}
