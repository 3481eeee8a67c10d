using System.Net;
using System.Runtime.CompilerServices;
using FastGate.Gateway.Async;
using FastGate.Gateway.Pipeline;
using FastGate.Gateway.Security;
using FastGate.Gateway.Traffic;
using FastGate.Protocols.Text;

namespace FastGate.Gateway.Server;

/// <summary>Whether a request goes on after its phases, or the problem a refusing phase answers.</summary>
internal readonly record struct PhaseOutcome(bool Proceed, GatewayProblem Problem)
{
    public static PhaseOutcome Continue => new(true, default);

    public static PhaseOutcome Refuse(GatewayProblem problem) => new(false, problem);
}

/// <summary>
/// The request phases a route's policy asks for, in order, each answering early when it refuses:
/// IP filter, rate limit (client, header or route keyed), authentication (JWT bearer token),
/// authorization (scopes, roles, claims), and rate limits keyed by a claim (they need the token).
/// Protocol-neutral: one instance per HTTP/1.1 connection or per HTTP/2 stream, reused request
/// after request; nothing is allocated per request.
/// </summary>
internal sealed class RequestPhases(GatewayRuntime runtime)
{
    // "Name: value\r\n" lines for the answer of a refusing phase (WWW-Authenticate, Retry-After,
    // RateLimit-Policy, RateLimit); sized for the longest of them together. This and the scratch
    // buffers below are made on first use, once per connection or stream: most connections never
    // reach a phase that needs them, and an idle connection should not carry ~800 B for them.
    private const int FieldsSize = 512;
    private byte[]? _fields;
    private int _fieldsLength;
    private JwtValidationContext? _jwt;
    private byte[]? _claimScratch;
    private byte[]? _forwardedAddress;

    /// <summary>The claims of the request's validated token, or null when the route has no [auth].</summary>
    public JwtValidationContext? ValidatedClaims { get; private set; }

    /// <summary>The field lines of a refusing phase's answer, "Name: value\r\n" each.</summary>
    public ReadOnlySpan<byte> Fields => _fields.AsSpan(0, _fieldsLength);

    private Span<byte> FreeFields => (_fields ??= new byte[FieldsSize]).AsSpan(_fieldsLength);

    /// <summary>Forgets the previous request's outcome.</summary>
    public void Reset()
    {
        _fieldsLength = 0;
        ValidatedClaims = null;
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    public async ValueTask<PhaseOutcome> RunAsync(RoutePolicy policy, RequestHead request, ClientPeer peer)
    {
        Reset();
        if (policy.IpFilter is { } filter && !filter.IsAllowed(ClientAddressBytes(request, peer)))
        {
            return PhaseOutcome.Refuse(GatewayProblem.AddressForbidden);
        }

        if (policy.RateLimiter is { } limiter && !policy.LimitAfterAuthentication)
        {
            var decision = await limiter.AcquireAsync(RateLimitKey(policy, request, peer), System.Diagnostics.Stopwatch.GetTimestamp()).ConfigureAwait(false);
            if (!Admit(limiter, decision))
            {
                return PhaseOutcome.Refuse(GatewayProblem.TooManyRequests);
            }
        }

        if (policy.Validator is { } validator)
        {
            var problem = Authenticate(validator, policy, request);
            if (problem is { } refused)
            {
                return PhaseOutcome.Refuse(refused);
            }

            if (policy.RateLimiter is { } claimLimiter && policy.LimitAfterAuthentication)
            {
                var decision = await claimLimiter.AcquireAsync(RateLimitKey(policy, request, peer), System.Diagnostics.Stopwatch.GetTimestamp()).ConfigureAwait(false);
                if (!Admit(claimLimiter, decision))
                {
                    return PhaseOutcome.Refuse(GatewayProblem.TooManyRequests);
                }
            }
        }

        return PhaseOutcome.Continue;
    }

    private GatewayProblem? Authenticate(JwtValidator validator, RoutePolicy policy, RequestHead request)
    {
        var authorization = request.Find(KnownHeader.Authorization);
        if (authorization.IsEmpty)
        {
            // RFC 6750 section 3.1: no error code when the request carried no credentials at all.
            AddField("WWW-Authenticate: Bearer\r\n"u8);
            runtime.Metrics.OnAuthenticationFailure(JwtValidationResult.Malformed, missing: true);
            return GatewayProblem.Unauthenticated;
        }

        _jwt ??= new JwtValidationContext();
        _jwt.Reset();
        var result = JwtValidator.TryGetBearerToken(authorization, out var token)
            ? validator.Validate(token, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), _jwt)
            : JwtValidationResult.Malformed;
        if (result != JwtValidationResult.Valid)
        {
            // The reason goes to the metrics only; the client learns that the token is not valid.
            AddField("WWW-Authenticate: Bearer error=\"invalid_token\"\r\n"u8);
            runtime.Metrics.OnAuthenticationFailure(result, missing: false);
            return GatewayProblem.Unauthenticated;
        }

        if (policy.Requirement is { } requirement && !requirement.IsSatisfied(_jwt.Claims))
        {
            AddField("WWW-Authenticate: Bearer error=\"insufficient_scope\"\r\n"u8);
            runtime.Metrics.OnAuthorizationFailure();
            return GatewayProblem.InsufficientPermissions;
        }

        ValidatedClaims = _jwt;
        return null;
    }

    /// <summary>Writes the RateLimit fields on a refusal (they would be informative on success too).</summary>
    private bool Admit(RateLimiter limiter, in RateLimitDecision decision)
    {
        if (decision.Allowed)
        {
            return true;
        }

        runtime.Metrics.OnRateLimited();
        var fields = FreeFields;
        int n = 0;
        n += Put(fields[n..], "Retry-After: "u8);
        if (RateLimitHeaders.TryWriteRetryAfter(decision, fields[n..], out int written))
        {
            n += written;
        }

        n += Put(fields[n..], "\r\nRateLimit-Policy: "u8);
        if (RateLimitHeaders.TryWritePolicy(limiter.Policy, fields[n..], out written))
        {
            n += written;
        }

        n += Put(fields[n..], "\r\nRateLimit: "u8);
        if (RateLimitHeaders.TryWriteRateLimit(limiter.Policy, decision, fields[n..], out written))
        {
            n += written;
        }

        n += Put(fields[n..], "\r\n"u8);
        _fieldsLength += n;
        return false;
    }

    private static int Put(Span<byte> destination, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(destination);
        return bytes.Length;
    }

    private void AddField(ReadOnlySpan<byte> line)
    {
        line.CopyTo(FreeFields);
        _fieldsLength += line.Length;
    }

    /// <summary>The key bytes of the route's rate limit for this request.</summary>
    private ReadOnlySpan<byte> RateLimitKey(RoutePolicy policy, RequestHead request, ClientPeer peer)
    {
        switch (policy.RateLimitKey)
        {
            case Model.RateLimitKeyKind.Route:
                return policy.RouteName;
            case Model.RateLimitKeyKind.Header:
                // Requests without the header share one bucket (the empty key).
                return request.Find(policy.RateLimitKeyName);
            case Model.RateLimitKeyKind.Claim:
                if (ValidatedClaims is { } claims
                    && claims.Claims.TryGetClaim(policy.RateLimitKeyName, out var value)
                    && value.TryWriteHeaderValue(_claimScratch ??= new byte[256], out int written))
                {
                    return _claimScratch.AsSpan(0, written);
                }

                return default;
            default:
                return peer.ClientAddress(request);
        }
    }

    /// <summary>The client's address as 4 or 16 bytes, for the IP filter.</summary>
    private ReadOnlySpan<byte> ClientAddressBytes(RequestHead request, ClientPeer peer)
    {
        if (peer.IsTrustedProxy && request.ForwardedForIndex >= 0)
        {
            var text = peer.ClientAddress(request);
            Span<char> chars = stackalloc char[64];
            int length = Math.Min(text.Length, chars.Length);
            for (int i = 0; i < length; i++)
            {
                chars[i] = (char)text[i];
            }

            // An address a trusted proxy forwarded; an IPAddress is allocated only on this path.
            if (IPAddress.TryParse(chars[..length], out var forwarded))
            {
                if (forwarded.IsIPv4MappedToIPv6)
                {
                    forwarded = forwarded.MapToIPv4();
                }

                if (forwarded.TryWriteBytes(_forwardedAddress ??= new byte[16], out int written))
                {
                    return _forwardedAddress.AsSpan(0, written);
                }
            }

            // An unparsable forwarded address matches no allow list.
            return default;
        }

        return peer.Bytes;
    }
}
