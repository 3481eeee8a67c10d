namespace FastGate.Gateway.Traffic;

/// <summary>
/// The answer of a rate limiter for one request: everything the caller needs to let it through or to
/// answer 429 with `Retry-After`, `RateLimit-Policy` and `RateLimit` (<see cref="RateLimitHeaders"/>).
/// </summary>
internal readonly struct RateLimitDecision
{
    private RateLimitDecision(bool allowed, long remaining, int retryAfterSeconds, int resetSeconds, bool storeUnavailable)
    {
        Allowed = allowed;
        Remaining = remaining;
        RetryAfterSeconds = retryAfterSeconds;
        ResetSeconds = resetSeconds;
        StoreUnavailable = storeUnavailable;
    }

    public bool Allowed { get; }

    /// <summary>Whole tokens left after this request (the RateLimit field's "r"); 0 when denied.</summary>
    public long Remaining { get; }

    /// <summary>When denied: seconds until one token is available (Retry-After, at least 1); 0 when allowed.</summary>
    public int RetryAfterSeconds { get; }

    /// <summary>Seconds until the bucket is full again (the RateLimit field's "t").</summary>
    public int ResetSeconds { get; }

    /// <summary>
    /// The shared store could not be asked and this is the configured fallback
    /// (<see cref="StoreFailureMode"/>): the counters above are not the key's real state, so a caller may
    /// leave the RateLimit field out.
    /// </summary>
    public bool StoreUnavailable { get; }

    public static RateLimitDecision Allow(long remaining, int resetSeconds) => new(true, remaining, 0, resetSeconds, false);

    public static RateLimitDecision Deny(int retryAfterSeconds, int resetSeconds) =>
        new(false, 0, Math.Max(1, retryAfterSeconds), Math.Max(1, resetSeconds), false);

    public static RateLimitDecision Fallback(bool allowed, long remaining, int retryAfterSeconds) =>
        allowed ? new(true, remaining, 0, 0, true) : new(false, 0, Math.Max(1, retryAfterSeconds), Math.Max(1, retryAfterSeconds), true);
}
