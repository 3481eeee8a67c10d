namespace FastGate.Gateway.Traffic;

/// <summary>
/// The answer of a rate limiter for one request: everything the caller needs to let it through or to
/// answer 429 with `Retry-After`, `RateLimit-Policy` and `RateLimit` (<see cref="RateLimitHeaders"/>).
/// </summary>
/// <remarks>
/// A local decision keeps GCRA's raw clock distances and the policy, and converts them to tokens and
/// seconds only when a property is read: the 64-bit divisions that takes are a large share of a decision
/// that is otherwise a hash, a CAS and a few compares, and a caller that only needs <see cref="Allowed"/>
/// (most requests, when the RateLimit field is sent on 429 only) never pays them. Redis and fallback
/// decisions carry their final numbers.
/// </remarks>
internal readonly struct RateLimitDecision
{
    private readonly RateLimitPolicy? _policy;

    /// <summary>With a policy: allowed → TAT - now; denied → ticks until a token. Without: remaining or retry seconds.</summary>
    private readonly long _first;

    /// <summary>With a policy, denied: ticks until full. Without: reset seconds.</summary>
    private readonly long _second;

    private RateLimitDecision(RateLimitPolicy? policy, bool allowed, long first, long second, bool storeUnavailable)
    {
        _policy = policy;
        Allowed = allowed;
        _first = first;
        _second = second;
        StoreUnavailable = storeUnavailable;
    }

    public bool Allowed { get; }

    /// <summary>
    /// The shared store could not be asked and this is the configured fallback
    /// (<see cref="StoreFailureMode"/>): the counters are not the key's real state, so a caller may leave
    /// the RateLimit field out.
    /// </summary>
    public bool StoreUnavailable { get; }

    /// <summary>Whole tokens left after this request (the RateLimit field's "r"); 0 when denied.</summary>
    public long Remaining => !Allowed ? 0
        : _policy is null ? _first
        : (_policy.BurstTolerance - _first) / _policy.EmissionInterval;

    /// <summary>When denied: seconds until one token is available (Retry-After, at least 1); 0 when allowed.</summary>
    public int RetryAfterSeconds => Allowed ? 0
        : _policy is null ? (int)_first
        : Math.Max(1, _policy.CeilSeconds(_first));

    /// <summary>Seconds until the bucket is full again (the RateLimit field's "t").</summary>
    public int ResetSeconds => _policy is null ? (int)_second
        : Allowed ? _policy.CeilSeconds(_first)
        : Math.Max(1, _policy.CeilSeconds(_second));

    /// <summary>A local GCRA grant: the key's TAT is <paramref name="aheadTicks"/> past now.</summary>
    public static RateLimitDecision Allow(RateLimitPolicy policy, long aheadTicks) => new(policy, true, aheadTicks, 0, false);

    /// <summary>A local GCRA denial: a token in <paramref name="waitTicks"/>, full in <paramref name="fullTicks"/>.</summary>
    public static RateLimitDecision Deny(RateLimitPolicy policy, long waitTicks, long fullTicks) => new(policy, false, waitTicks, fullTicks, false);

    public static RateLimitDecision Allow(long remaining, int resetSeconds) => new(null, true, remaining, resetSeconds, false);

    public static RateLimitDecision Deny(int retryAfterSeconds, int resetSeconds) =>
        new(null, false, Math.Max(1, retryAfterSeconds), Math.Max(1, resetSeconds), false);

    public static RateLimitDecision Fallback(bool allowed, long remaining, int retryAfterSeconds) =>
        allowed ? new(null, true, remaining, 0, true) : new(null, false, Math.Max(1, retryAfterSeconds), Math.Max(1, retryAfterSeconds), true);
}
