using System.Text;
using JwtApi.Tokens;
using Microsoft.IdentityModel.JsonWebTokens;

namespace JwtApi.Hosting;

/// <summary>
/// The security events, as structured log records under one category (<c>JwtApi.Audit</c>) so they can be
/// routed and kept apart from the rest: who, from which client address, what, and why. Never a password,
/// never a token: only names, ids, addresses and reason codes.
/// </summary>
/// <param name="loggers">Where the records go.</param>
/// <param name="http">The request an event happens in: its caller, address and path.</param>
/// <param name="origin">Who acts where no request does: registered by the operator CLI alone (Users/UsersCommand.cs).</param>
public sealed partial class AuditLog(ILoggerFactory loggers, IHttpContextAccessor http, AuditOrigin? origin = null)
{
    public const string Category = "JwtApi.Audit";

    private readonly ILogger _logger = loggers.CreateLogger(Category);

    private string ClientAddress => origin?.ClientAddress ?? http.HttpContext?.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private string Endpoint => origin?.Endpoint ?? http.HttpContext?.Request.Path.Value ?? "";

    private string Actor => origin?.Actor ?? http.HttpContext?.User.FindFirst(JwtRegisteredClaimNames.Sub)?.Value ?? "anonymous";

    public void LoginSucceeded(string username, Guid userId, string familyId) =>
        LogLoginSucceeded(Printable(username), userId, familyId, ClientAddress, Endpoint);

    /// <summary>The password was right; the login waits for a second factor (or its enrolment).</summary>
    public void SecondFactorRequired(string username, Guid userId) =>
        LogSecondFactorRequired(Printable(username), userId, ClientAddress, Endpoint);

    /// <summary>A user's second factor changed: enrollment_started, enabled, disabled, recovery_codes_regenerated, or reset (by an admin).</summary>
    public void SecondFactorChanged(Guid userId, string change) => LogSecondFactorChanged(userId, change, Actor, ClientAddress, Endpoint);

    /// <param name="username">As the client sent it.</param>
    /// <param name="reason">unknown_user, wrong_password, account_disabled, throttled, or a second-factor reason (wrong_code, code_replayed, wrong_recovery_code, invalid_mfa_token, mfa_token_exhausted).</param>
    public void LoginFailed(string username, string reason) => LogLoginFailed(Printable(username), reason, ClientAddress, Endpoint);

    /// <param name="clientId">As the client sent it (cut and made printable).</param>
    /// <param name="reason">unknown_client, wrong_secret, client_disabled or throttled.</param>
    public void ClientAuthenticationFailed(string clientId, string reason) =>
        LogClientAuthenticationFailed(Printable(clientId), reason, ClientAddress, Endpoint);

    /// <param name="clientId">The registered client.</param>
    /// <param name="change">registered or secret_rotated (disabling, enabling, changing and deleting a client end its
    /// tokens and are logged as <c>Revoked</c> with its id).</param>
    public void ClientChanged(string clientId, string change) => LogClientChanged(clientId, change, Actor, ClientAddress, Endpoint);

    public void ClientTokenIssued(string clientId, string audience) =>
        LogClientTokenIssued(clientId, Printable(audience), ClientAddress, Endpoint);

    /// <summary>A password set through a reset link (every login of the user ended).</summary>
    public void PasswordReset(Guid userId) => LogPasswordReset(userId, ClientAddress, Endpoint);

    /// <summary>A reset link refused: forged, expired, used, or of an account gone or disabled. Never the token.</summary>
    public void PasswordResetRefused(Guid? userId) => LogPasswordResetRefused(userId?.ToString() ?? "unknown", ClientAddress, Endpoint);

    /// <summary>The user set a new email address (never logged: the user id says whose).</summary>
    public void EmailChanged(Guid userId) => LogEmailChanged(userId, Actor, ClientAddress, Endpoint);

    public void EmailVerified(Guid userId) => LogEmailVerified(userId, ClientAddress, Endpoint);

    public void RefreshSucceeded(Guid userId, string familyId) => LogRefreshSucceeded(userId, familyId, ClientAddress, Endpoint);

    /// <param name="userId">The refresh token's subject, when it was ours to read.</param>
    /// <param name="reason">invalid_refresh_token, user_deleted, user_disabled, token_version_changed, login_revoked,
    /// or for a refresh by cookie csrf_header_missing or origin_not_allowed.</param>
    public void RefreshRefused(Guid? userId, string reason) => LogRefreshRefused(userId?.ToString() ?? "unknown", reason, ClientAddress, Endpoint);

    /// <summary>An account changed by an admin, the operator, or (a password) its user.</summary>
    /// <param name="userId">The account.</param>
    /// <param name="change">created, disabled, enabled, roles_changed, deleted, password_changed (by the user) or password_reset.</param>
    public void AccountChanged(Guid userId, string change) => LogAccountChanged(userId, change, Actor, ClientAddress, Endpoint);

    public void Revoked(Revocation revocation) => LogRevoked(revocation.Kind.Code(), revocation.Key, Actor, ClientAddress, Endpoint);

    /// <summary>A registered client asked whether a token is active (RFC 7662): the client and the answer, never the token.</summary>
    public void Introspected(string clientId, bool active) => LogIntrospected(clientId, active, ClientAddress);

    /// <param name="reason">The stable reason code of the 401 (token_expired, bad_signature, ...).</param>
    public void TokenRejected(string reason) => LogTokenRejected(reason, ClientAddress, Endpoint);

    /// <summary>
    /// A username is client input: at most 64 characters, control characters replaced, so it cannot forge log
    /// lines; longer input (a password typed in the wrong field, or an attack) is cut.
    /// </summary>
    internal static string Printable(string value)
    {
        var builder = new StringBuilder(Math.Min(value.Length, 64));
        foreach (var c in value.AsSpan(0, Math.Min(value.Length, 64)))
        {
            builder.Append(char.IsControl(c) ? '?' : c);
        }
        return value.Length > 64 ? builder.Append('…').ToString() : builder.ToString();
    }

    [LoggerMessage(EventId = 2001, EventName = "LoginSucceeded", Level = LogLevel.Information,
        Message = "Login succeeded for {Username} ({UserId}), login {FamilyId}, from {ClientAddress} at {Endpoint}")]
    private partial void LogLoginSucceeded(string username, Guid userId, string familyId, string clientAddress, string endpoint);

    [LoggerMessage(EventId = 2010, EventName = "SecondFactorRequired", Level = LogLevel.Information,
        Message = "Password verified for {Username} ({UserId}), second factor required, from {ClientAddress} at {Endpoint}")]
    private partial void LogSecondFactorRequired(string username, Guid userId, string clientAddress, string endpoint);

    [LoggerMessage(EventId = 2011, EventName = "SecondFactorChanged", Level = LogLevel.Information,
        Message = "Second factor of user {UserId}: {Change}, by {Actor} from {ClientAddress} at {Endpoint}")]
    private partial void LogSecondFactorChanged(Guid userId, string change, string actor, string clientAddress, string endpoint);

    [LoggerMessage(EventId = 2012, EventName = "AccountChanged", Level = LogLevel.Information,
        Message = "Account {UserId} {Change} by {Actor} from {ClientAddress} at {Endpoint}")]
    private partial void LogAccountChanged(Guid userId, string change, string actor, string clientAddress, string endpoint);
    [LoggerMessage(EventId = 2030, EventName = "PasswordReset", Level = LogLevel.Information,
        Message = "Password of user {UserId} reset through a mailed link, from {ClientAddress} at {Endpoint}")]
    private partial void LogPasswordReset(Guid userId, string clientAddress, string endpoint);

    [LoggerMessage(EventId = 2031, EventName = "PasswordResetRefused", Level = LogLevel.Warning,
        Message = "Password reset refused for user {UserId} from {ClientAddress} at {Endpoint}: invalid, expired or used link")]
    private partial void LogPasswordResetRefused(string userId, string clientAddress, string endpoint);

    [LoggerMessage(EventId = 2032, EventName = "EmailChanged", Level = LogLevel.Information,
        Message = "Email address of user {UserId} changed by {Actor} from {ClientAddress} at {Endpoint}")]
    private partial void LogEmailChanged(Guid userId, string actor, string clientAddress, string endpoint);

    [LoggerMessage(EventId = 2033, EventName = "EmailVerified", Level = LogLevel.Information,
        Message = "Email address of user {UserId} verified, from {ClientAddress} at {Endpoint}")]
    private partial void LogEmailVerified(Guid userId, string clientAddress, string endpoint);

    [LoggerMessage(EventId = 2002, EventName = "LoginFailed", Level = LogLevel.Warning,
        Message = "Login failed for {Username} from {ClientAddress} at {Endpoint}: {Reason}")]
    private partial void LogLoginFailed(string username, string reason, string clientAddress, string endpoint);

    [LoggerMessage(EventId = 2003, EventName = "RefreshSucceeded", Level = LogLevel.Information,
        Message = "Refresh for user {UserId}, login {FamilyId}, from {ClientAddress} at {Endpoint}")]
    private partial void LogRefreshSucceeded(Guid userId, string familyId, string clientAddress, string endpoint);

    [LoggerMessage(EventId = 2004, EventName = "RefreshRefused", Level = LogLevel.Warning,
        Message = "Refresh refused for user {UserId} from {ClientAddress} at {Endpoint}: {Reason}")]
    private partial void LogRefreshRefused(string userId, string reason, string clientAddress, string endpoint);

    [LoggerMessage(EventId = 2005, EventName = "Revoked", Level = LogLevel.Information,
        Message = "Revoked {Kind} {Id} by {Actor} from {ClientAddress} at {Endpoint}")]
    private partial void LogRevoked(string kind, string id, string actor, string clientAddress, string endpoint);

    // Debug: a resource server may introspect on every request it serves; the answers are no security event.
    [LoggerMessage(EventId = 2020, EventName = "Introspected", Level = LogLevel.Debug,
        Message = "Introspection by client {ClientId} from {ClientAddress}: active {Active}")]
    private partial void LogIntrospected(string clientId, bool active, string clientAddress);

    [LoggerMessage(EventId = 2007, EventName = "ClientAuthenticationFailed", Level = LogLevel.Warning,
        Message = "Client authentication failed for {ClientId} from {ClientAddress} at {Endpoint}: {Reason}")]
    private partial void LogClientAuthenticationFailed(string clientId, string reason, string clientAddress, string endpoint);

    [LoggerMessage(EventId = 2009, EventName = "ClientChanged", Level = LogLevel.Information,
        Message = "Client {ClientId} {Change} by {Actor} from {ClientAddress} at {Endpoint}")]
    private partial void LogClientChanged(string clientId, string change, string actor, string clientAddress, string endpoint);

    [LoggerMessage(EventId = 2008, EventName = "ClientTokenIssued", Level = LogLevel.Information,
        Message = "Client token issued to {ClientId} for {Audience} from {ClientAddress} at {Endpoint}")]
    private partial void LogClientTokenIssued(string clientId, string audience, string clientAddress, string endpoint);

    [LoggerMessage(EventId = 2006, EventName = "TokenRejected", Level = LogLevel.Information,
        Message = "Bearer token rejected from {ClientAddress} at {Endpoint}: {Reason}")]
    private partial void LogTokenRejected(string reason, string clientAddress, string endpoint);
}

/// <summary>
/// The actor, address and endpoint of audit events where no HTTP request happens: the operator CLI's
/// (<c>cli</c>, <c>local</c>, the command such as <c>users disable</c>).
/// </summary>
public sealed record AuditOrigin(string Actor, string ClientAddress, string Endpoint);
