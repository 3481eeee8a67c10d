namespace FastGate.Gateway.Traffic;

/// <summary>
/// A rate limiter for one policy: <see cref="LocalRateLimiter"/> (in-process buckets) or
/// <see cref="RedisRateLimiter"/> (buckets shared by every gateway through Redis).
/// </summary>
internal abstract class RateLimiter
{
    protected RateLimiter(RateLimitPolicy policy) => Policy = policy;

    public RateLimitPolicy Policy { get; }

    /// <summary>
    /// Takes one token for <paramref name="key"/> (the bytes of the client IP, claim, header value or route
    /// name; the policy name keeps two policies apart). <paramref name="nowTicks"/> is
    /// <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>. The key is read before this returns.
    /// </summary>
    public abstract ValueTask<RateLimitDecision> AcquireAsync(ReadOnlySpan<byte> key, long nowTicks);
}
