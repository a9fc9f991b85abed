using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using JwtApi.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace JwtApi.Auth;

/// <summary>Throttling of the endpoints that take credentials, bound from <c>RateLimits</c>.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>
    /// Requests to /login, /register, /refresh, /token and PUT /me/password from one client address (an IPv6
    /// client counts by its /64 network), together.
    /// </summary>
    [Required, ValidateObjectMembers]
    public WindowLimit PerAddress { get; init; } = new() { PermitLimit = 60, Window = TimeSpan.FromMinutes(1) };

    /// <summary>
    /// Failed password attempts (at /login, /token and PUT /me/password) for one username from one client
    /// address; also the limit of one device (a login presenting that user's device token).
    /// </summary>
    [Required, ValidateObjectMembers]
    public WindowLimit PerUsernameAndAddress { get; init; } = new() { PermitLimit = 5, Window = TimeSpan.FromMinutes(5) };

    /// <summary>
    /// Failed password attempts for one username from every address together. Past it, only a login presenting
    /// the user's device token is checked; every other one is answered 429, right password or not.
    /// </summary>
    [Required, ValidateObjectMembers]
    public WindowLimit PerUsername { get; init; } = new() { PermitLimit = 100, Window = TimeSpan.FromMinutes(5) };

    /// <summary>How long a device token stays valid; each login with it renews it.</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "400.00:00:00")]
    public TimeSpan DeviceTokenLifetime { get; init; } = TimeSpan.FromDays(90);
}

/// <summary>At most <see cref="PermitLimit"/> requests in a window that opens with the first of them.</summary>
public sealed class WindowLimit
{
    /// <summary>How many are allowed in one window; the next one is answered 429 with <c>Retry-After</c>.</summary>
    [Range(1, int.MaxValue)]
    public int PermitLimit { get; init; }

    /// <summary>How long a window lasts, from the first request it counts.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Window { get; init; }
}

[OptionsValidator]
internal sealed partial class RateLimitOptionsValidator : IValidateOptions<RateLimitOptions>;

public static class RateLimits
{
    public const string PerAddressPolicy = "per-address";

    public static IHostApplicationBuilder AddRateLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<RateLimitOptions>, RateLimitOptionsValidator>();
        builder.Services.AddScoped<LoginThrottle>();
        builder.Services.AddSingleton<FullWindows>();
        builder.Services.AddHostedService<ThrottlePruner>();
        builder.Services.AddSingleton<DeviceTokens>();
        builder.Services.AddSingleton<DeviceCookie>();
        builder.Services.AddRateLimiter(options => options.AddPolicy<string, PerAddressLimitPolicy>(PerAddressPolicy));
        return builder;
    }

    /// <summary>The client's address as the partition key: IPv4 as is, IPv6 by its /64 (one host usually has a whole /64).</summary>
    public static string ClientPartition(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    /// <summary>How long a refused lease says to wait (a second if it does not say).</summary>
    public static TimeSpan RetryAfterOf(RateLimitLease lease) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);

    /// <summary>429 with <c>Retry-After</c> (set on <paramref name="response"/>) in whole seconds, rounded up.</summary>
    public static ProblemHttpResult TooManyRequests(HttpResponse response, TimeSpan retryAfter)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return Problems.TooManyRequests(seconds);
    }
}

/// <summary>The per-address limit of the credential endpoints, answered with a problem and Retry-After.</summary>
internal sealed class PerAddressLimitPolicy(IOptions<RateLimitOptions> options, TimeProvider time) : IRateLimiterPolicy<string>
{
    private readonly WindowLimit _limit = options.Value.PerAddress;

    public RateLimitPartition<string> GetPartition(HttpContext http) =>
        RateLimitPartition.Get(RateLimits.ClientPartition(http.Connection.RemoteIpAddress),
            _ => new FixedWindowLimiter(_limit.PermitLimit, _limit.Window, time));

    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected { get; } = async (context, _) =>
    {
        await RateLimits.TooManyRequests(context.HttpContext.Response, RateLimits.RetryAfterOf(context.Lease)).ExecuteAsync(context.HttpContext);
    };
}

/// <summary>
/// A fixed window on the injected clock. The framework's limiters read the stopwatch (no TimeProvider:
/// dotnet/runtime#106447) and, in .NET 10, FixedWindowRateLimiter reports the whole window as RetryAfter
/// rather than the time left (dotnet/runtime#124478); this one does neither, and never queues.
/// </summary>
internal sealed class FixedWindowLimiter(int permitLimit, TimeSpan window, TimeProvider time) : RateLimiter
{
    private readonly Lock _lock = new();
    private readonly DateTimeOffset _created = time.GetUtcNow();
    private DateTimeOffset _windowEnd = DateTimeOffset.MinValue;
    private int _used;

    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_lock)
            {
                var now = time.GetUtcNow();
                var idleSince = _windowEnd == DateTimeOffset.MinValue ? _created : _windowEnd;
                return now >= idleSince ? now - idleSince : null;
            }
        }
    }

    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_lock)
        {
            return new RateLimiterStatistics { CurrentAvailablePermits = time.GetUtcNow() >= _windowEnd ? permitLimit : permitLimit - _used };
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (now >= _windowEnd)
            {
                if (permitCount == 0)
                {
                    // a question, not a request: it opens no window
                    return Lease.Acquired;
                }
                _windowEnd = now + window;
                _used = 0;
            }
            if (permitCount == 0 ? _used < permitLimit : _used + permitCount <= permitLimit)
            {
                _used += permitCount;
                return Lease.Acquired;
            }
            return new Lease(false, _windowEnd - now);
        }
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(permitCount));

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Acquired = new(true, null);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = metadataName == MetadataName.RetryAfter.Name ? retryAfter : null;
            return metadata is not null;
        }
    }
}
