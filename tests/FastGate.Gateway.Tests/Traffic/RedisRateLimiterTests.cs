using System.Collections.Concurrent;
using System.Diagnostics;
using FastGate.Gateway.Traffic;
using Microsoft.Extensions.Logging;

namespace FastGate.Gateway.Tests.Traffic;

/// <summary>Against a real redis-server started per test (each test stops or restarts its own).</summary>
public class RedisRateLimiterTests
{
    private static RateLimitPolicy Policy(StoreFailureMode mode, long rate = 1, TimeSpan? per = null, long burst = 5) =>
        new("shared", rate, per ?? TimeSpan.FromMinutes(1), burst, RateLimitKeyKind.ClientIp, store: RateLimitStoreKind.Redis, onStoreFailure: mode);

    private static RedisStoreOptions Options(RedisServerProcess redis) => new()
    {
        Address = redis.Address,
        KeyPrefix = $"test:{Guid.NewGuid():N}:",
        OperationTimeout = TimeSpan.FromMilliseconds(500),
        BreakDuration = TimeSpan.FromMilliseconds(200),
    };

    [Fact]
    public async Task Two_gateways_share_one_budget_through_Redis()
    {
        using var redis = new RedisServerProcess();
        var options = Options(redis);
        await using var storeA = await RedisRateLimitStore.ConnectAsync(options);
        await using var storeB = await RedisRateLimitStore.ConnectAsync(options);
        var policy = Policy(StoreFailureMode.Closed);
        var gatewayA = new RedisRateLimiter(policy, storeA);
        var gatewayB = new RedisRateLimiter(policy, storeB);

        var remaining = new List<long>();
        for (int i = 0; i < 5; i++)
        {
            var limiter = i % 2 == 0 ? gatewayA : gatewayB;
            var decision = await limiter.AcquireAsync("10.1.2.3"u8, Stopwatch.GetTimestamp());
            Assert.True(decision.Allowed);
            Assert.False(decision.StoreUnavailable);
            remaining.Add(decision.Remaining);
        }

        Assert.Equal([4L, 3, 2, 1, 0], remaining);
        var deniedA = await gatewayA.AcquireAsync("10.1.2.3"u8, Stopwatch.GetTimestamp());
        var deniedB = await gatewayB.AcquireAsync("10.1.2.3"u8, Stopwatch.GetTimestamp());
        Assert.False(deniedA.Allowed);
        Assert.False(deniedB.Allowed);
        Assert.False(deniedB.StoreUnavailable);
        Assert.InRange(deniedB.RetryAfterSeconds, 59, 60);
        Assert.InRange(deniedB.ResetSeconds, 299, 300);

        // Another key has its own budget.
        Assert.True((await gatewayB.AcquireAsync("10.1.2.4"u8, Stopwatch.GetTimestamp())).Allowed);
    }

    [Fact]
    public async Task Tokens_refill_on_Redis_time()
    {
        using var redis = new RedisServerProcess();
        await using var store = await RedisRateLimitStore.ConnectAsync(Options(redis));
        var limiter = new RedisRateLimiter(Policy(StoreFailureMode.Closed, rate: 10, per: TimeSpan.FromSeconds(1), burst: 2), store);
        Assert.True((await limiter.AcquireAsync("k"u8, 0)).Allowed);
        Assert.True((await limiter.AcquireAsync("k"u8, 0)).Allowed);
        Assert.False((await limiter.AcquireAsync("k"u8, 0)).Allowed);
        await Task.Delay(250);
        var refilled = await limiter.AcquireAsync("k"u8, 0);
        Assert.True(refilled.Allowed);
    }

    [Fact]
    public async Task Fail_open_allows_while_Redis_is_down_and_recovers()
    {
        using var redis = new RedisServerProcess();
        var logger = new ListLogger();
        await using var store = await RedisRateLimitStore.ConnectAsync(Options(redis), logger);
        var limiter = new RedisRateLimiter(Policy(StoreFailureMode.Open, burst: 1), store);

        Assert.True((await limiter.AcquireAsync("k"u8, Stopwatch.GetTimestamp())).Allowed);
        Assert.False((await limiter.AcquireAsync("k"u8, Stopwatch.GetTimestamp())).Allowed);

        redis.Stop();
        var down = await limiter.AcquireAsync("k"u8, Stopwatch.GetTimestamp());
        Assert.True(down.Allowed);
        Assert.True(down.StoreUnavailable);
        Assert.False(store.IsAvailable);
        Assert.Contains(logger.Messages, m => m.StartsWith("Warning: Redis rate-limit store", StringComparison.Ordinal));

        // While the circuit is open, decisions do not touch Redis: no further failures are recorded.
        long failures = store.Failures;
        for (int i = 0; i < 100; i++)
        {
            Assert.True((await limiter.AcquireAsync("k"u8, Stopwatch.GetTimestamp())).Allowed);
        }

        Assert.Equal(failures, store.Failures);

        // Redis comes back (empty): the limiter enforces the shared budget again.
        redis.Start();
        Assert.True(await EventuallyAsync(async () => !(await limiter.AcquireAsync("other"u8, Stopwatch.GetTimestamp())).StoreUnavailable));
        Assert.True(store.IsAvailable);
        Assert.Contains(logger.Messages, m => m.StartsWith("Information: Redis rate-limit store", StringComparison.Ordinal) && m.Contains("reachable again"));
        var first = await limiter.AcquireAsync("k"u8, Stopwatch.GetTimestamp());
        var second = await limiter.AcquireAsync("k"u8, Stopwatch.GetTimestamp());
        Assert.True(first.Allowed);
        Assert.False(second.Allowed);
        Assert.False(second.StoreUnavailable);
    }

    [Fact]
    public async Task Fail_closed_denies_while_Redis_is_down_and_recovers()
    {
        using var redis = new RedisServerProcess();
        await using var store = await RedisRateLimitStore.ConnectAsync(Options(redis));
        var limiter = new RedisRateLimiter(Policy(StoreFailureMode.Closed, burst: 3), store);
        Assert.True((await limiter.AcquireAsync("k"u8, Stopwatch.GetTimestamp())).Allowed);

        redis.Stop();
        var down = await limiter.AcquireAsync("k"u8, Stopwatch.GetTimestamp());
        Assert.False(down.Allowed);
        Assert.True(down.StoreUnavailable);
        Assert.Equal(1, down.RetryAfterSeconds);
        var stillDown = await limiter.AcquireAsync("fresh-key"u8, Stopwatch.GetTimestamp());
        Assert.False(stillDown.Allowed);

        redis.Start();
        Assert.True(await EventuallyAsync(async () => (await limiter.AcquireAsync("k2"u8, Stopwatch.GetTimestamp())).Allowed));
        var after = await limiter.AcquireAsync("k2"u8, Stopwatch.GetTimestamp());
        Assert.True(after.Allowed);
        Assert.False(after.StoreUnavailable);
        Assert.Equal(1, after.Remaining);
    }

    [Fact]
    public async Task A_store_started_while_Redis_is_down_takes_the_fallback_then_connects()
    {
        using var redis = new RedisServerProcess();
        redis.Stop();
        await using var store = await RedisRateLimitStore.ConnectAsync(Options(redis));
        var limiter = new RedisRateLimiter(Policy(StoreFailureMode.Open, burst: 2), store);
        var down = await limiter.AcquireAsync("k"u8, Stopwatch.GetTimestamp());
        Assert.True(down.Allowed);
        Assert.True(down.StoreUnavailable);

        redis.Start();
        Assert.True(await EventuallyAsync(async () => !(await limiter.AcquireAsync("k"u8, Stopwatch.GetTimestamp())).StoreUnavailable));
    }

    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, int timeoutMs = 15_000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (Environment.TickCount64 < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(50);
        }

        return false;
    }

    private sealed class ListLogger : ILogger
    {
        public ConcurrentQueue<string> Messages { get; } = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Messages.Enqueue($"{logLevel}: {formatter(state, exception)}");
    }
}
