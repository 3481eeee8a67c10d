using System.Runtime.CompilerServices;
using System.Text;
using FastGate.Gateway.Async;
using StackExchange.Redis;

namespace FastGate.Gateway.Traffic;

/// <summary>
/// A policy whose buckets live in Redis (`store = "redis"`), so every gateway instance draws on the same
/// budget: one atomic script run per decision (<see cref="RedisRateLimitStore.GcraScript"/>), the same GCRA
/// as <see cref="LocalRateLimiter"/>. The Redis key is prefix + policy name + ':' + the caller's key bytes.
/// When the store is unreachable (or its circuit is open) the decision is the policy's
/// <see cref="StoreFailureMode"/>: open allows, closed denies with Retry-After = the rest of the break.
/// </summary>
/// <remarks>
/// Costs a network round trip and, unlike the local store, a few allocations per decision (the key
/// bytes, StackExchange.Redis's message and task); the benchmark measures both.
/// </remarks>
internal sealed class RedisRateLimiter : RateLimiter
{
    private readonly RedisRateLimitStore _store;
    private readonly byte[] _keyPrefix;
    private readonly RedisValue[] _arguments;

    public RedisRateLimiter(RateLimitPolicy policy, RedisRateLimitStore store)
        : base(policy)
    {
        _store = store;
        _keyPrefix = [.. store.KeyPrefix, .. Encoding.UTF8.GetBytes(policy.Name), (byte)':'];
        // Shared by every call: StackExchange.Redis only reads the argument array.
        _arguments = [policy.EmissionIntervalMicroseconds, policy.EmissionIntervalMicroseconds * policy.Burst];
    }

    public override ValueTask<RateLimitDecision> AcquireAsync(ReadOnlySpan<byte> key, long nowTicks)
    {
        if (!_store.ShouldTry(nowTicks))
        {
            return new(Fallback(nowTicks));
        }

        var redisKey = new byte[_keyPrefix.Length + key.Length];
        _keyPrefix.CopyTo(redisKey, 0);
        key.CopyTo(redisKey.AsSpan(_keyPrefix.Length));
        return AcquireFromRedisAsync(redisKey, nowTicks);
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<RateLimitDecision> AcquireFromRedisAsync(byte[] redisKey, long nowTicks)
    {
        RedisResult result;
        try
        {
            result = await _store.EvaluateAsync(redisKey, _arguments).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            _store.ReportFailure(nowTicks, e);
            return Fallback(nowTicks);
        }

        _store.ReportSuccess();
        var values = (RedisResult[])result!;
        bool allowed = (long)values[0] == 1;
        long second = (long)values[1];
        int resetSeconds = MicrosecondsToCeilSeconds((long)values[2]);
        return allowed
            ? RateLimitDecision.Allow(second, resetSeconds)
            : RateLimitDecision.Deny(MicrosecondsToCeilSeconds(second), resetSeconds);
    }

    private RateLimitDecision Fallback(long nowTicks) => Policy.OnStoreFailure == StoreFailureMode.Open
        ? RateLimitDecision.Fallback(allowed: true, Policy.Burst, 0)
        : RateLimitDecision.Fallback(allowed: false, 0, Policy.CeilSeconds(_store.BreakRemaining(nowTicks) * Policy.TicksPerSecond / System.Diagnostics.Stopwatch.Frequency));

    private static int MicrosecondsToCeilSeconds(long microseconds) =>
        microseconds <= 0 ? 0 : (int)Math.Min(int.MaxValue, (microseconds + 999_999) / 1_000_000);
}
