using System.Threading.Channels;
using JwtApi.Hosting;
using JwtApi.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace JwtApi.Tokens;

/// <summary>
/// On PostgreSQL, lets another instance's revocation reach this one's list at once, not at the next
/// <see cref="JwtOptions.RevocationSyncInterval"/>: the database notifies <see cref="Channel"/> when a transaction
/// that added revocations commits (a trigger: Storage/Migrations/Postgres/*_RevocationNotify.cs), and each
/// notification runs an incremental <see cref="RevocationSync"/> round. The notification carries nothing; the round
/// reads the rows as the timer's does, so the rules of id order and lookback stay in one place.
/// </summary>
/// <remarks>
/// One connection of its own, outside the EF Core pool (a pooled connection would go back to the pool and lose its
/// LISTEN), with keepalives so that a connection that died silently (a NAT or a failover dropping it) is noticed.
/// While it is down, the timer's rounds go on; once it is back, a round reads whatever was notified meanwhile.
/// Notifications arriving while a round runs lead to one more round, not one each: a burst of logouts costs a few
/// queries, not one per logout.
/// </remarks>
public sealed partial class RevocationNotifications(
    RevocationSync sync, IOptions<DatabaseOptions> database, IOptions<JwtOptions> options, TimeProvider time,
    Telemetry telemetry, ILogger<RevocationNotifications> logger, StorageInitializer? storage = null) : BackgroundService
{
    /// <summary>The channel the trigger notifies (a migration writes it out: change both, in a new migration).</summary>
    public const string Channel = "jwtapi_revocations";

    /// <summary>The connection's <c>application_name</c>, as <c>pg_stat_activity</c> shows it.</summary>
    public const string ApplicationName = "jwtapi-revocations";

    /// <summary>Seconds of silence before Npgsql checks the connection with a query of its own.</summary>
    public const int KeepAliveSeconds = 15;

    /// <summary>The longest wait between attempts to connect again; the first attempt is at once.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    // at most one round waiting: a notification while one waits adds nothing, as that round reads its rows too
    private readonly Channel<bool> _requests = System.Threading.Channels.Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private int _listening;

    /// <summary>The connection string the listener uses: the service's, on a connection of its own with keepalives.</summary>
    internal static string ListenerConnectionString(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString)
        {
            ApplicationName = ApplicationName,
            KeepAlive = KeepAliveSeconds,
            Pooling = false,
        }.ConnectionString;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.RevocationNotifications)
        {
            return;
        }
        try
        {
            // as RevocationSync: the trigger exists only once the migrations have run
            if (storage is not null)
            {
                await storage.ReadyAsync(stoppingToken);
            }
            telemetry.ObserveRevocationListener(() => Volatile.Read(ref _listening));
            await Task.WhenAll(ListenAsync(stoppingToken), RunRoundsAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Asks for an incremental round; one already waiting covers this one.</summary>
    private void RequestRound() => _requests.Writer.TryWrite(true);

    private async Task RunRoundsAsync(CancellationToken ct)
    {
        await foreach (var _ in _requests.Reader.ReadAllAsync(ct))
        {
            try
            {
                await sync.SyncAsync(full: false, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // the timer's rounds still run; the next notification tries again
                LogRoundFailed(e);
            }
        }
    }

    private async Task ListenAsync(CancellationToken ct)
    {
        var connectionString = ListenerConnectionString(database.Value.ConnectionString!);
        var failures = 0;
        var lost = false;
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                connection.Notification += (_, _) =>
                {
                    telemetry.RevocationNotified();
                    RequestRound();
                };
                await connection.OpenAsync(ct);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(ct);
                }
                Volatile.Write(ref _listening, 1);
                if (lost)
                {
                    LogListening();
                }
                failures = 0;
                lost = false;
                // what was committed before LISTEN (while disconnected, or since the start-up reload) notified no one here
                RequestRound();
                while (true)
                {
                    await connection.WaitAsync(ct);
                }
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                Volatile.Write(ref _listening, 0);
                // once per outage, not once per attempt: a database down for an hour is one warning
                if (!lost)
                {
                    LogLost(e, options.Value.RevocationSyncInterval);
                    lost = true;
                }
                var backoff = failures == 0 ? TimeSpan.Zero
                    : TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, failures - 1)));
                failures++;
                await Task.Delay(backoff, time, ct);
            }
        }
    }

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning,
        Message = "Revocation notifications from PostgreSQL stopped; reconnecting, and reading revocations every {Interval} meanwhile")]
    private partial void LogLost(Exception exception, TimeSpan interval);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Information, Message = "Revocation notifications from PostgreSQL resumed")]
    private partial void LogListening();

    [LoggerMessage(EventId = 1203, Level = LogLevel.Warning,
        Message = "Reading revocations after a notification failed; the next notification or timer round reads them")]
    private partial void LogRoundFailed(Exception exception);
}
