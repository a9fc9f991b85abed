namespace JwtApi.Hosting;

/// <summary>
/// The stable code of every refusal, in one place: the <c>reason</c> of a problem body, the reason of an audit
/// event, and the reason tag of a metric all come from here, so a dashboard, a log query and a client's error
/// handling match on the same words.
/// </summary>
public static class Reasons
{
    // A bearer token refused (401 invalid_token), or a caller lacking a role (403 insufficient_scope).
    public const string TokenRevoked = "token_revoked";
    public const string MissingClaims = "missing_claims";
    public const string TokenTooLarge = "token_too_large";
    public const string NonCanonicalSignature = "non_canonical_signature";
    public const string InvalidNumericDate = "invalid_numeric_date";
    public const string LifetimeTooLong = "lifetime_too_long";
    public const string TokenExpired = "token_expired";
    public const string TokenNotYetValid = "token_not_yet_valid";
    public const string UnsupportedCriticalHeader = "unsupported_critical_header";
    public const string IssuedInFuture = "issued_in_future";
    public const string NoExpiry = "no_expiry";
    public const string InvalidLifetime = "invalid_lifetime";
    public const string WrongAudience = "wrong_audience";
    public const string WrongIssuer = "wrong_issuer";
    public const string WrongType = "wrong_type";
    public const string WrongAlgorithm = "wrong_algorithm";
    public const string UnknownKey = "unknown_key";
    public const string BadSignature = "bad_signature";
    public const string Malformed = "malformed";
    public const string InvalidToken = "invalid_token";
    public const string MissingRole = "missing_role";

    // A valid token refused by the second-factor policy (403 insufficient_user_authentication).
    public const string MfaRequired = "mfa_required";
    public const string MfaEnrollmentRequired = "mfa_enrollment_required";

    // A refresh refused (one answer to the client; the reason goes to the audit log and the metrics).
    public const string InvalidRefreshToken = "invalid_refresh_token";
    public const string UserDeleted = "user_deleted";
    public const string UserDisabled = "user_disabled";
    public const string TokenVersionChanged = "token_version_changed";
    public const string LoginRevoked = "login_revoked";
    public const string CsrfHeaderMissing = "csrf_header_missing";
    public const string OriginNotAllowed = "origin_not_allowed";
    public const string RefreshCookieDuplicated = "refresh_cookie_duplicated";

    // A password refused (one answer to the client; the reason goes to the audit log).
    public const string UnknownUser = "unknown_user";
    public const string WrongPassword = "wrong_password";
    public const string AccountDisabled = "account_disabled";
    public const string Throttled = "throttled";

    // A second-factor code refused (at /login/mfa, the MFA grants of /token and the /me/mfa endpoints).
    public const string WrongCode = "wrong_code";
    public const string CodeReplayed = "code_replayed";
    public const string WrongRecoveryCode = "wrong_recovery_code";
    public const string InvalidMfaToken = "invalid_mfa_token";
    public const string MfaTokenExhausted = "mfa_token_exhausted";

    // A registered client's authentication refused (one invalid_client answer; the reason goes to the audit log).
    public const string UnknownClient = "unknown_client";
    public const string WrongSecret = "wrong_secret";
    public const string ClientDisabled = "client_disabled";
}
