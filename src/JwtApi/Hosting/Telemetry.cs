using System.Diagnostics;
using System.Diagnostics.Metrics;
using JwtApi.Tokens;

namespace JwtApi.Hosting;

/// <summary>
/// JwtApi's own metrics and traces: one <see cref="Meter"/> and one <see cref="ActivitySource"/>, both named
/// <see cref="Name"/>. The instruments always exist (dotnet-counters reads them with no exporter); they leave the
/// process only when TelemetrySetup switches on an exporter. The names are documented in docs/operations.md
/// ("Metrics and traces"): change one there too.
/// </summary>
/// <remarks>
/// Every tag is a code from a short fixed list. Never a username, a token or a part of one, a jti, a user or
/// family id, or a client address: metrics and traces are scraped, shipped and shown far more widely than the
/// audit log (every dashboard, every collector on the way), and one value per user would also make one time
/// series per user. The audit log (<see cref="AuditLog"/>) is where who and from where are kept.
/// </remarks>
public sealed class Telemetry : IDisposable
{
    public const string Name = "JwtApi";

    internal static readonly string? Version = typeof(Telemetry).Assembly.GetName().Version?.ToString();

    private readonly Counter<long> _logins;
    private readonly Counter<long> _tokensIssued;
    private readonly Counter<long> _tokensRejected;
    private readonly Counter<long> _refreshes;
    private readonly Counter<long> _clientTokens;
    private readonly Counter<long> _revocations;
    private readonly Histogram<double> _hashingDuration;
    private readonly Counter<long> _mail;
    private readonly Counter<long> _revocationNotifications;
    private readonly Meter _meter;

    /// <param name="meters">
    /// The host's factory: each host gets its own meter, so tests running side by side in one process each see
    /// only their own measurements.
    /// </param>
    public Telemetry(IMeterFactory meters)
    {
        _meter = meters.Create(new MeterOptions(Name) { Version = Version });
        _logins = _meter.CreateCounter<long>(Instruments.Logins, "{login}",
            "Password sign-ins at /login and /token (grant_type=password), by outcome.");
        _tokensIssued = _meter.CreateCounter<long>(Instruments.TokensIssued, "{token}",
            "Tokens issued, by kind: a login, a refresh or a password change issues one of each.");
        _tokensRejected = _meter.CreateCounter<long>(Instruments.TokensRejected, "{token}",
            "Bearer tokens refused with 401 at a protected endpoint, by the reason the 401 gives.");
        _clientTokens = _meter.CreateCounter<long>(Instruments.ClientTokens, "{request}",
            "Client credentials requests at /token, by outcome: success, or the RFC 6749 error answered (invalid_client, unauthorized_client, invalid_scope, invalid_target, invalid_request) or throttled.");
        _refreshes = _meter.CreateCounter<long>(Instruments.Refreshes, "{refresh}",
            "Refresh-token exchanges at /refresh and /token (grant_type=refresh_token), by outcome.");
        _revocations = _meter.CreateCounter<long>(Instruments.Revocations, "{revocation}",
            "Entries added to the revocation list, by kind.");
        _hashingDuration = _meter.CreateHistogram(Instruments.PasswordHashingDuration, "s",
            "BCrypt work per password hash or check, from getting a turn to the result (the wait for a turn is not counted).",
            tags: null,
            // around BCrypt's range (work factor 10 is about 50 ms, each step doubles it); the default buckets are
            // made for milliseconds
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _mail = _meter.CreateCounter<long>(Instruments.MailMessages, "{message}",
            "Mails by kind and outcome: sent, failed (after its last attempt, or its composing threw), skipped (nothing to send, or Mail:Enabled is false) or dropped (the queue was full).");
        _revocationNotifications = _meter.CreateCounter<long>(Instruments.RevocationNotifications, "{notification}",
            "Notifications from PostgreSQL that another instance (or this one) committed revocations; each leads to a read of the new rows, a burst to one or two.");
        Source = new ActivitySource(Name, Version);
    }

    /// <summary>This host's source of <see cref="Activities"/>.</summary>
    public ActivitySource Source { get; }

    /// <summary>Instrument names: lower-case, dot-separated, in the OpenTelemetry semantic conventions' style.</summary>
    public static class Instruments
    {
        public const string Logins = "jwtapi.logins";
        public const string TokensIssued = "jwtapi.tokens.issued";
        public const string TokensRejected = "jwtapi.tokens.rejected";
        public const string Refreshes = "jwtapi.refreshes";
        public const string ClientTokens = "jwtapi.client_tokens";
        public const string Revocations = "jwtapi.revocations";
        public const string PasswordHashingDuration = "jwtapi.password_hashing.duration";
        public const string PasswordHashingQueueLength = "jwtapi.password_hashing.queue.length";
        public const string MailMessages = "jwtapi.mail.messages";
        public const string MailQueueLength = "jwtapi.mail.queue.length";
        public const string RevocationNotifications = "jwtapi.revocations.notifications";
        public const string RevocationListenerConnected = "jwtapi.revocations.listener.connected";
    }

    /// <summary>Tag (attribute) names, shared by the instruments and the activities.</summary>
    public static class Tags
    {
        public const string LoginOutcome = "jwtapi.login.outcome";
        public const string RefreshOutcome = "jwtapi.refresh.outcome";
        public const string ClientTokenOutcome = "jwtapi.client_token.outcome";
        public const string TokenKind = "jwtapi.token.kind";
        public const string TokenAlgorithm = "jwtapi.token.algorithm";
        public const string RejectionReason = "jwtapi.token.rejection_reason";
        public const string RevocationKind = "jwtapi.revocation.kind";
        public const string HashingOperation = "jwtapi.password_hashing.operation";

        /// <summary>The mail's <c>Kind</c> (password_reset, email_verification, ...): never an address.</summary>
        public const string MailKind = "jwtapi.mail.kind";
        public const string MailOutcome = "jwtapi.mail.outcome";
    }

    /// <summary>Names of the activities (spans) JwtApi starts under the request's.</summary>
    public static class Activities
    {
        public const string SignIn = "jwtapi.sign_in";
        public const string Refresh = "jwtapi.refresh";
        public const string TokenIssue = "jwtapi.token.issue";
        public const string PasswordVerify = "jwtapi.password.verify";
        public const string PasswordHash = "jwtapi.password.hash";
        public const string Revoke = "jwtapi.revoke";
    }

    /// <summary>
    /// Values of <see cref="Tags.LoginOutcome"/>. An unknown user, a wrong password and a disabled account are all
    /// <see cref="InvalidCredentials"/>, as they are one answer on the wire: a metric that told them apart would
    /// let anyone who sees a dashboard learn which usernames exist, and that a disabled account's password was
    /// guessed right (it is checked before the account is refused). The audit log tells them apart.
    /// </summary>
    public static class LoginOutcome
    {
        public const string Success = "success";

        /// <summary>The password was right; a second-factor code (or enrolling one) must follow.</summary>
        public const string SecondFactorRequired = "second_factor_required";
        public const string InvalidCredentials = "invalid_credentials";
        public const string Throttled = Reasons.Throttled;
        public const string Busy = "busy";
    }

    /// <summary>
    /// Values of <see cref="Tags.RefreshOutcome"/>: <see cref="Success"/>, or the refusal reason the audit log
    /// records (invalid_refresh_token, user_deleted, user_disabled, token_version_changed, login_revoked, and for a
    /// refresh by cookie csrf_header_missing, origin_not_allowed). Past
    /// invalid_refresh_token they concern a token JwtApi signed, so they tell a dashboard reader nothing about
    /// which accounts exist.
    /// </summary>
    public static class RefreshOutcome
    {
        public const string Success = "success";
    }

    /// <summary>Values of <see cref="Tags.ClientTokenOutcome"/>: <see cref="Success"/>, the OAuth error answered, or throttled.</summary>
    public static class ClientTokenOutcome
    {
        public const string Success = "success";
    }

    /// <summary>Values of <see cref="Tags.TokenKind"/>.</summary>
    public static class TokenKind
    {
        public const string Access = "access";
        public const string Refresh = "refresh";
    }

    /// <summary>Values of <see cref="Tags.HashingOperation"/>.</summary>
    public static class HashingOperation
    {
        public const string Hash = "hash";
        public const string Verify = "verify";
    }

    /// <summary>Values of <see cref="Tags.MailOutcome"/>: one per mail queued (or refused).</summary>
    public static class MailOutcome
    {
        /// <summary>Handed to the SMTP server (or written to the pickup folder).</summary>
        public const string Sent = "sent";

        /// <summary>Refused for good (an SMTP 5xx), still failing at the last attempt, or its composing threw.</summary>
        public const string Failed = "failed";

        /// <summary>Nothing to send (no such account, no address), or Mail:Enabled is false.</summary>
        public const string Skipped = "skipped";

        /// <summary>Refused at the door: the queue was full.</summary>
        public const string Dropped = "dropped";
    }

    /// <summary>An internal activity, or null (no cost) when nothing listens.</summary>
    public Activity? StartActivity(string name) => Source.StartActivity(name);

    public void LoginEnded(Activity? activity, string outcome)
    {
        _logins.Add(1, new KeyValuePair<string, object?>(Tags.LoginOutcome, outcome));
        activity?.SetTag(Tags.LoginOutcome, outcome);
        if (outcome == LoginOutcome.Busy)
        {
            activity?.SetStatus(ActivityStatusCode.Error, "Too many password checks are waiting.");
        }
    }

    /// <summary>A refresh with its outcome: <c>success</c>, or the refusal reason the audit log records.</summary>
    public void RefreshEnded(Activity? activity, string outcome)
    {
        _refreshes.Add(1, new KeyValuePair<string, object?>(Tags.RefreshOutcome, outcome));
        activity?.SetTag(Tags.RefreshOutcome, outcome);
    }

    /// <summary>A client credentials request with its outcome: <c>success</c>, the OAuth error answered, or <c>throttled</c>.</summary>
    public void ClientTokenRequested(string outcome) =>
        _clientTokens.Add(1, new KeyValuePair<string, object?>(Tags.ClientTokenOutcome, outcome));

    public void TokenIssued(string kind) =>
        _tokensIssued.Add(1, new KeyValuePair<string, object?>(Tags.TokenKind, kind));

    /// <param name="reason">The stable <c>reason</c> of the 401 (<see cref="BearerEvents.Describe"/>).</param>
    public void TokenRejected(string reason) =>
        _tokensRejected.Add(1, new KeyValuePair<string, object?>(Tags.RejectionReason, reason));

    public void Revoked(RevocationKind kind) =>
        _revocations.Add(1, new KeyValuePair<string, object?>(Tags.RevocationKind, kind.Code()));

    public void PasswordHashed(string operation, TimeSpan elapsed) =>
        _hashingDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>(Tags.HashingOperation, operation));

    /// <summary>
    /// Reports <paramref name="queueLength"/> as <see cref="Instruments.PasswordHashingQueueLength"/>; called once by
    /// the password hasher that owns the queue. An up-down counter, as the runtime's own
    /// <c>dotnet.thread_pool.queue.length</c>: the sum over instances is meaningful.
    /// </summary>
    public void ObservePasswordHashingQueue(Func<long> queueLength) =>
        _meter.CreateObservableUpDownCounter(Instruments.PasswordHashingQueueLength, queueLength, "{hash}",
            "Password hashes and checks waiting for a BCrypt turn (beyond Passwords:MaxQueuedHashes they are refused with 503).");

    /// <param name="kind">The job's <c>Kind</c>, a code from a short fixed list.</param>
    /// <param name="outcome">A <see cref="MailOutcome"/>.</param>
    public void MailHandled(string kind, string outcome) =>
        _mail.Add(1, new KeyValuePair<string, object?>(Tags.MailKind, kind), new KeyValuePair<string, object?>(Tags.MailOutcome, outcome));

    /// <summary>
    /// Reports <paramref name="queueLength"/> as <see cref="Instruments.MailQueueLength"/>; called once by the mail
    /// queue. An up-down counter, as <see cref="Instruments.PasswordHashingQueueLength"/>: the sum over instances is meaningful.
    /// </summary>
    public void ObserveMailQueue(Func<long> queueLength) =>
        _meter.CreateObservableUpDownCounter(Instruments.MailQueueLength, queueLength, "{message}",
            "Mails queued and not yet taken by the sender (beyond Mail:QueueCapacity they are dropped).");

    public void RevocationNotified() => _revocationNotifications.Add(1);

    /// <summary>
    /// Reports <paramref name="listening"/> (1 or 0) as <see cref="Instruments.RevocationListenerConnected"/>; called once
    /// by the PostgreSQL listener. 0 while it reconnects: revocations then arrive at the timer's rounds only.
    /// </summary>
    public void ObserveRevocationListener(Func<int> listening) =>
        _meter.CreateObservableUpDownCounter(Instruments.RevocationListenerConnected, listening, "{connection}",
            "1 while this instance listens for PostgreSQL's revocation notifications, 0 while it reconnects (revocations from other instances then take up to Jwt:RevocationSyncInterval).");

    public void Dispose() => Source.Dispose();
}
