using System.Security.Claims;
using JwtApi.Hosting;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace JwtApi.Tokens;

/// <summary>A token that validated but was revoked before its expiry.</summary>
public sealed class SecurityTokenRevokedException(string message) : SecurityTokenException(message);

/// <summary>A correctly signed token without a claim every access token carries.</summary>
public sealed class SecurityTokenMissingClaimsException(string message) : SecurityTokenException(message);

/// <summary>A correctly signed token whose <c>iat</c> is later than now, beyond the clock skew.</summary>
public sealed class SecurityTokenIssuedInFutureException(string message) : SecurityTokenException(message);

/// <summary>A correctly signed token with a <c>crit</c> header: it requires extensions the service does not implement.</summary>
public sealed class SecurityTokenUnsupportedCriticalHeaderException(string message) : SecurityTokenException(message);

/// <summary>A correctly signed token whose <c>exp</c>, <c>nbf</c> or <c>iat</c> is not a JSON number (RFC 7519 NumericDate).</summary>
public sealed class SecurityTokenInvalidNumericDateException(string message) : SecurityTokenException(message);

/// <summary>A correctly signed token whose <c>exp</c> − <c>iat</c> exceeds the access-token lifetime plus the clock skew.</summary>
public sealed class SecurityTokenLifetimeTooLongException(string message) : SecurityTokenException(message);

/// <summary>A token whose signature is spelled in non-canonical base64url (padding, or set spare bits).</summary>
public sealed class SecurityTokenNonCanonicalSignatureException(string message) : SecurityTokenException(message);

/// <summary>A bearer token longer than <see cref="BearerEvents.MaxTokenLength"/>, refused unread.</summary>
public sealed class SecurityTokenTooLargeException(string message) : SecurityTokenException(message);

/// <summary>
/// JwtBearer's events: a size limit before a token is parsed; once it validates, the checks its parameters
/// cannot express (<see cref="AccessTokenValidation.Refusal"/>) and revocation; problem+json for its 401 and 403,
/// and a log event (never holding the token) for each token it refuses.
/// Gives JwtBearer's 401 and 403 an RFC 9457 body (it sends none, dotnet/aspnetcore#30918) and an RFC 6750
/// <c>WWW-Authenticate</c> header whose error code the body repeats.
/// </summary>
public static class BearerEvents
{
    /// <summary>
    /// The longest bearer token read, in characters. The service's own are about 1 KB (with 16 roles and an RSA
    /// signature, 1.5 KB); IdentityModel would otherwise decode and parse up to 250 KB per request.
    /// </summary>
    public const int MaxTokenLength = 8192;

    /// <param name="revocations">This instance's revocation list.</param>
    /// <param name="keys">The keys, to name a refused algorithm.</param>
    /// <param name="telemetry">Counts refusals.</param>
    /// <param name="accessTokenLifetime">The longest lifetime a token of ours has.</param>
    /// <param name="cache">
    /// Tokens that passed every check before: a hit is accepted in <c>OnMessageReceived</c>, before JwtBearer clones
    /// its validation parameters and runs its handler, after the same revocation check as a first sighting.
    /// </param>
    public static JwtBearerEvents Create(
        RevocationList revocations, SigningKeys keys, Telemetry telemetry, TimeSpan accessTokenLifetime, ValidatedTokenCache? cache = null) => new()
    {
        OnMessageReceived = context =>
        {
            // Before JwtBearer parses it: base64 decoding and JSON reading of a huge token is work an attacker
            // gets for free, once per request. The token is read as a span of the header, which is what the cache
            // is keyed on: a hit allocates no copy of the token (Kestrel keeps one string for a header value a
            // connection repeats).
            var header = context.Request.Headers.Authorization.ToString();
            if (!TryReadBearer(header, out var token))
            {
                return Task.CompletedTask;
            }
            if (token.Length > MaxTokenLength)
            {
                context.Fail(new SecurityTokenTooLargeException($"The token is longer than {MaxTokenLength} characters."));
            }
            else if (cache is not null && cache.TryGet(header, out var cached, out var identity))
            {
                // Validated before, and unexpired: what is left of OnTokenValidated is the revocation check. The
                // cache holds only header values that passed every check below, the signature's spelling included,
                // so a hit needs none of them again.
                if (revocations.IsRevoked(cached))
                {
                    context.Fail(new SecurityTokenRevokedException("The token has been revoked."));
                }
                else
                {
                    context.Principal = new ClaimsPrincipal(identity);
                    context.Properties.ExpiresUtc = cached.ValidTo;
                    context.Properties.IssuedUtc = cached.ValidFrom;
                    context.Success();
                }
            }
            // Before anything validates it: another spelling of a cached token's signature misses the cache (keyed
            // on the string) and would validate, a second string for one token; it is refused on every request.
            else if (AccessTokenValidation.HasNonCanonicalSignature(token))
            {
                context.Fail(new SecurityTokenNonCanonicalSignatureException("The token's signature is not in canonical base64url."));
            }
            else
            {
                // JwtBearer reads the header again; handing it the token spares it that
                context.Token = token.ToString();
            }
            return Task.CompletedTask;
        },
        OnTokenValidated = context =>
        {
            if (context.SecurityToken is not JsonWebToken token)
            {
                context.Fail(new SecurityTokenMissingClaimsException("The token is not a JWS with claims."));
            }
            // Judged on the clock IdentityModel judges nbf and exp on (8.23 offers no hook for another one).
            else if (AccessTokenValidation.Refusal(token, TimeProvider.System.GetUtcNow(),
                         context.Options.TokenValidationParameters.ClockSkew, accessTokenLifetime) is { } refusal)
            {
                context.Fail(refusal);
            }
            // In memory, O(1): a protected request still does no I/O before its handler.
            else if (revocations.IsRevoked(token))
            {
                context.Fail(new SecurityTokenRevokedException("The token has been revoked."));
            }
            // Only a token that passed every check is remembered (on its second sighting); a revoked one may be
            // later, and is refused then by the check above, which a hit goes through too.
            // keyed on the whole header, as the lookup in OnMessageReceived reads it (when the header holds this token)
            else if (cache is not null && context.Principal?.Identity is ClaimsIdentity identity &&
                     context.Request.Headers.Authorization.ToString() is var header &&
                     TryReadBearer(header, out var bearer) && bearer.SequenceEqual(token.EncodedToken))
            {
                cache.Add(header, token, identity, context.Options.TokenValidationParameters.ClockSkew);
            }
            return Task.CompletedTask;
        },
        OnChallenge = context => WriteChallengeAsync(context, keys, telemetry),
        OnForbidden = WriteForbiddenAsync,
    };

    /// <summary>Why a token was refused: a stable code for programs and a sentence for people.</summary>
    public sealed record Failure(string Reason, string Description);

    public static Failure Describe(Exception? failure) => failure switch
    {
        SecurityTokenRevokedException => new(Reasons.TokenRevoked, "The token has been revoked."),
        SecurityTokenMissingClaimsException => new(Reasons.MissingClaims, "The token lacks a required claim."),
        SecurityTokenTooLargeException => new(Reasons.TokenTooLarge, "The token is larger than 8 KB."),
        SecurityTokenNonCanonicalSignatureException => new(Reasons.NonCanonicalSignature, "The token's signature is not in canonical base64url."),
        SecurityTokenInvalidNumericDateException => new(Reasons.InvalidNumericDate, "The token's exp, nbf or iat is not a JSON number."),
        SecurityTokenLifetimeTooLongException => new(Reasons.LifetimeTooLong, "The token's lifetime is longer than this service issues."),
        SecurityTokenExpiredException => new(Reasons.TokenExpired, "The token has expired."),
        SecurityTokenNotYetValidException => new(Reasons.TokenNotYetValid, "The token is not valid yet."),
        SecurityTokenUnsupportedCriticalHeaderException => new(Reasons.UnsupportedCriticalHeader, "The token requires an extension this service does not support."),
        SecurityTokenIssuedInFutureException => new(Reasons.IssuedInFuture, "The token claims to be issued in the future."),
        SecurityTokenNoExpirationException => new(Reasons.NoExpiry, "The token has no expiry."),
        SecurityTokenInvalidLifetimeException => new(Reasons.InvalidLifetime, "The token's lifetime is invalid."),
        SecurityTokenInvalidAudienceException => new(Reasons.WrongAudience, "The token is meant for another audience."),
        SecurityTokenInvalidIssuerException => new(Reasons.WrongIssuer, "The token was issued by an untrusted issuer."),
        SecurityTokenInvalidTypeException => new(Reasons.WrongType, "The token is not an access token."),
        SecurityTokenInvalidAlgorithmException => WrongAlgorithm,
        SecurityTokenSignatureKeyNotFoundException => new(Reasons.UnknownKey, "The token was signed with an unknown key."),
        SecurityTokenInvalidSignatureException => new(Reasons.BadSignature, "The token's signature is invalid."),
        SecurityTokenMalformedException or ArgumentException => new(Reasons.Malformed, "The token is malformed."),
        _ => new(Reasons.InvalidToken, "The token is invalid."),
    };

    private static async Task WriteChallengeAsync(JwtBearerChallengeContext context, SigningKeys keys, Telemetry telemetry)
    {
        context.HandleResponse();
        var http = context.HttpContext;

        if (context.AuthenticateFailure is null)
        {
            await BearerProblems.WriteAsync(http, BearerProblems.NoToken());
            return;
        }

        var failure = Describe(context.AuthenticateFailure);
        if (failure.Reason == Reasons.BadSignature && SignedWithAnotherAlgorithm(http.Request, keys))
        {
            // IdentityModel reports a refused algorithm (alg:none, HS256 keyed with an RSA public key) as a bad
            // signature; say what actually happened.
            failure = WrongAlgorithm;
        }
        // The reason and where from, never the token or a part of it: a logged token works for whoever reads the
        // log until it expires.
        http.RequestServices.GetRequiredService<AuditLog>().TokenRejected(failure.Reason);
        telemetry.TokenRejected(failure.Reason);
        await BearerProblems.WriteAsync(http, BearerProblems.InvalidToken(failure));
    }

    private static readonly Failure WrongAlgorithm = new(Reasons.WrongAlgorithm, "The token's signing algorithm is not accepted.");

    /// <summary>Reads the header of a token that already failed; the success path never gets here.</summary>
    private static bool SignedWithAnotherAlgorithm(HttpRequest request, SigningKeys keys)
    {
        if (BearerToken(request) is not { } encoded)
        {
            return false;
        }
        try
        {
            var token = new JsonWebToken(encoded);
            return keys.Find(token.Kid) is { } key && key.Algorithm != token.Alg;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The token of an <c>Authorization: Bearer</c> header as JwtBearer reads it (the scheme in any case), or null.</summary>
    private static string? BearerToken(HttpRequest request) =>
        TryReadBearer(request.Headers.Authorization.ToString(), out var token) ? token.ToString() : null;

    /// <summary>The token of an <c>Authorization</c> header value as JwtBearer reads it (the scheme in any case, trimmed).</summary>
    private static bool TryReadBearer(string header, out ReadOnlySpan<char> token)
    {
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            token = header.AsSpan("Bearer ".Length).Trim();
            return true;
        }
        token = default;
        return false;
    }

    private static Task WriteForbiddenAsync(ForbiddenContext context) =>
        BearerProblems.WriteAsync(context.HttpContext, BearerProblems.MissingRole()).AsTask();
}
