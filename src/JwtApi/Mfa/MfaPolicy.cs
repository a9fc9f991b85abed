using JwtApi.Auth;
using JwtApi.Hosting;
using JwtApi.Tokens;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace JwtApi.Mfa;

/// <summary>Which roles need a second factor (<c>Auth:RequireMfaFor</c>).</summary>
public sealed class MfaPolicy(IOptions<AuthOptions> auth)
{
    public bool RequiredFor(IEnumerable<string> roles) => roles.Any(auth.Value.RequireMfaFor.Contains);
}

/// <summary>
/// Part of every policy but the enrolment endpoints': the token must not be an enrollment-only token, and when the
/// policy requires a role listed in <c>Auth:RequireMfaFor</c>, the token's <c>amr</c> must hold <c>otp</c>.
/// </summary>
/// <param name="Roles">The roles the policy requires.</param>
public sealed record SecondFactorRequirement(IReadOnlyList<string> Roles) : IAuthorizationRequirement;

/// <summary>Judges <see cref="SecondFactorRequirement"/> from the token alone: no I/O on the protected path.</summary>
public sealed class SecondFactorHandler(MfaPolicy policy, IOptions<JwtOptions> jwt) : AuthorizationHandler<SecondFactorRequirement>
{
    private readonly string _enrollmentAudience = TokenIssuer.EnrollmentAudience(jwt.Value);

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, SecondFactorRequirement requirement)
    {
        var caller = context.User;
        if (caller.HasClaim(JwtRegisteredClaimNames.Aud, _enrollmentAudience))
        {
            context.Fail(new AuthorizationFailureReason(this, Reasons.MfaEnrollmentRequired));
        }
        else if (requirement.Roles.Count > 0 && policy.RequiredFor(requirement.Roles) &&
                 !caller.HasClaim(JwtClaimTypes.AuthenticationMethods, AuthenticationMethods.Otp))
        {
            // A caller without the role is told the role is what they lack: left pending, the refusal is the role
            // requirement's (a Fail here would hide which requirements failed).
            if (requirement.Roles.Any(caller.IsInRole))
            {
                context.Fail(new AuthorizationFailureReason(this, Reasons.MfaRequired));
            }
        }
        else
        {
            context.Succeed(requirement);
        }
        return Task.CompletedTask;
    }
}

/// <summary>
/// Answers a refusal of <see cref="SecondFactorHandler"/> with its own 403 (RFC 9470's
/// <c>insufficient_user_authentication</c>) rather than the "missing role" one; every other outcome goes to the
/// framework's handler (and so to JwtBearer's challenge and forbid events).
/// </summary>
public sealed class SecondFactorResultHandler(AuditLog audit, Telemetry telemetry) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Forbidden && authorizeResult.AuthorizationFailure is { } failure &&
            Reason(failure) is { } reason)
        {
            audit.TokenRejected(reason);
            telemetry.TokenRejected(reason);
            return BearerProblems.WriteAsync(context, BearerProblems.SecondFactorRequired(reason)).AsTask();
        }
        return _default.HandleAsync(next, context, policy, authorizeResult);
    }

    // An enrollment-only token can do nothing else, whatever else failed.
    private static string? Reason(AuthorizationFailure failure)
    {
        var reasons = failure.FailureReasons.Where(r => r.Handler is SecondFactorHandler).Select(r => r.Message).ToList();
        return reasons.Contains(Reasons.MfaEnrollmentRequired) ? Reasons.MfaEnrollmentRequired
            : reasons.Contains(Reasons.MfaRequired) ? Reasons.MfaRequired
            : null;
    }
}
