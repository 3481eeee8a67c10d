using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace FastGate.Gateway.Traffic;

/// <summary>How the gateway reaches Redis (the `[redis]` table) and how it behaves when Redis is gone.</summary>
internal sealed record RedisStoreOptions
{
    /// <summary>`host:port` (a StackExchange.Redis configuration string is accepted too).</summary>
    public required string Address { get; init; }

    /// <summary>Prefix of every key the gateway writes, so one Redis can serve other tenants.</summary>
    public string KeyPrefix { get; init; } = "fastgate:rl:";

    /// <summary>The longest a decision waits for Redis before it counts as a failure.</summary>
    public TimeSpan OperationTimeout { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>After a failure, how long Redis is skipped (the fallback decides) before one probe.</summary>
    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// The Redis connection shared by every Redis-backed policy: one multiplexed connection, the GCRA script
/// (loaded once, run with EVALSHA), and a circuit so that a dead Redis costs one failed call per
/// <see cref="RedisStoreOptions.BreakDuration"/>, not one timeout per request.
/// </summary>
/// <remarks>
/// Circuit: Closed (every decision asks Redis) → a failure opens it: decisions take the policy's
/// fallback without touching the network until the break ends → the first decision after that is the
/// probe (the others still take the fallback) → success closes the circuit, failure opens it again.
/// Transitions are logged (a warning when Redis is lost, information when it is back).
/// </remarks>
internal sealed class RedisRateLimitStore : IAsyncDisposable
{
    /// <summary>
    /// GCRA over Redis: KEYS[1] holds the key's theoretical arrival time in microseconds of Redis's own
    /// clock (TIME), so gateways with skewed clocks share one timeline. ARGV[1] = emission interval T,
    /// ARGV[2] = burst tolerance (burst × T), both in microseconds. Returns {1, remaining, reset_us} or
    /// {0, retry_after_us, reset_us}. The key expires when its bucket is full again (TAT - now): from then
    /// on its state equals a key never seen, so nothing is lost and idle keys take no memory.
    /// TIME before a write is allowed since Redis 5 (scripts replicate their effects, not the script).
    /// Lua numbers are doubles: microseconds since 1970 (~1.8e15) are exact below 2^53 (~9e15), and Redis
    /// formats numeric arguments with 17 significant digits, so the stored TAT is exact.
    /// </summary>
    internal const string GcraScript = """
        local tat = tonumber(redis.call('GET', KEYS[1]))
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
        local interval = tonumber(ARGV[1])
        local tolerance = tonumber(ARGV[2])
        if tat == nil or tat < now then
          tat = now
        end
        local nextTat = tat + interval
        local allowAt = nextTat - tolerance
        if now < allowAt then
          return {0, allowAt - now, tat - now}
        end
        redis.call('SET', KEYS[1], nextTat, 'PX', math.ceil((nextTat - now) / 1000))
        return {1, math.floor((tolerance - (nextTat - now)) / interval), nextTat - now}
        """;

    private const int Closed = 0;
    private const int Open = 1;
    private const int Probing = 2;

    private readonly ConnectionMultiplexer _connection;
    private readonly IDatabase _database;
    private readonly ILogger _logger;
    private readonly byte[] _scriptSha1;
    private readonly long _breakTicks;
    private int _state;
    private long _openUntil;
    private long _failures;

    private RedisRateLimitStore(ConnectionMultiplexer connection, RedisStoreOptions options, ILogger logger)
    {
        _connection = connection;
        _database = connection.GetDatabase();
        _logger = logger;
        Options = options;
        KeyPrefix = Encoding.UTF8.GetBytes(options.KeyPrefix);
        // EVALSHA names a script by its SHA-1 (the Redis protocol's choice, not a security use).
#pragma warning disable CA5350
        _scriptSha1 = SHA1.HashData(Encoding.UTF8.GetBytes(GcraScript));
#pragma warning restore CA5350
        _breakTicks = (long)(options.BreakDuration.TotalSeconds * Stopwatch.Frequency);
    }

    public RedisStoreOptions Options { get; }

    public byte[] KeyPrefix { get; }

    /// <summary>Whether decisions currently go to Redis (the circuit is closed).</summary>
    public bool IsAvailable => Volatile.Read(ref _state) == Closed;

    /// <summary>Failed Redis calls since start (metrics).</summary>
    public long Failures => Volatile.Read(ref _failures);

    /// <summary>
    /// Connects without waiting for Redis to be up: with AbortOnConnectFail off the multiplexer keeps
    /// reconnecting in the background, and until it succeeds decisions take the fallback.
    /// </summary>
    public static async Task<RedisRateLimitStore> ConnectAsync(RedisStoreOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var configuration = ConfigurationOptions.Parse(options.Address);
        configuration.AbortOnConnectFail = false;
        int timeoutMs = (int)Math.Max(1, options.OperationTimeout.TotalMilliseconds);
        configuration.ConnectTimeout = Math.Max(timeoutMs, 1000);
        configuration.AsyncTimeout = timeoutMs;
        configuration.SyncTimeout = timeoutMs;
        // While disconnected, fail a command at once instead of queueing it until the timeout: the
        // circuit then takes the fallback without holding the request.
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.ReconnectRetryPolicy = new LinearRetry(500);
        configuration.ClientName = "fastgate";

        var connection = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        var store = new RedisRateLimitStore(connection, options, logger ?? NullLogger.Instance);
        await store.TryLoadScriptAsync().ConfigureAwait(false);
        return store;
    }

    /// <summary>Runs the GCRA script for one key; throws on any Redis failure (the limiter handles it).</summary>
    internal async Task<RedisResult> EvaluateAsync(RedisKey key, RedisValue[] arguments)
    {
        RedisKey[] keys = [key];
        try
        {
            return await _database.ScriptEvaluateAsync(_scriptSha1, keys, arguments).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            // A restarted (or flushed) Redis lost its script cache: EVAL sends the text once and caches
            // it again, so the next EVALSHA succeeds.
            return await _database.ScriptEvaluateAsync(GcraScript, keys, arguments).ConfigureAwait(false);
        }
    }

    /// <summary>Whether this decision may ask Redis; false = take the fallback.</summary>
    internal bool ShouldTry(long nowTicks)
    {
        int state = Volatile.Read(ref _state);
        if (state == Closed)
        {
            return true;
        }

        // Race window: several requests may see the break over at once; the CAS lets exactly one probe.
        return state == Open && nowTicks >= Volatile.Read(ref _openUntil)
            && Interlocked.CompareExchange(ref _state, Probing, Open) == Open;
    }

    internal void ReportSuccess()
    {
        if (Volatile.Read(ref _state) != Closed && Interlocked.Exchange(ref _state, Closed) != Closed
            && _logger.IsEnabled(LogLevel.Information))
        {
            _logger.LogInformation("Redis rate-limit store {Address} is reachable again; shared limits are enforced.", Options.Address);
        }
    }

    internal void ReportFailure(long nowTicks, Exception error)
    {
        Interlocked.Increment(ref _failures);
        Volatile.Write(ref _openUntil, nowTicks + _breakTicks);
        int previous = Interlocked.Exchange(ref _state, Open);
        if (previous == Closed && _logger.IsEnabled(LogLevel.Warning))
        {
            _logger.LogWarning(
                "Redis rate-limit store {Address} failed ({Error}); policies use their on_store_failure fallback for {Break} before probing again.",
                Options.Address,
                error.Message,
                Options.BreakDuration);
        }
    }

    /// <summary>Remaining break in ticks (for a fail-closed Retry-After).</summary>
    internal long BreakRemaining(long nowTicks) => Math.Max(0, Volatile.Read(ref _openUntil) - nowTicks);

    private async Task TryLoadScriptAsync()
    {
        foreach (var endpoint in _connection.GetEndPoints())
        {
            try
            {
                await _connection.GetServer(endpoint).ScriptLoadAsync(GcraScript).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                // Redis is not up yet: the first EVALSHA falls back to EVAL, which loads the script.
                if (_logger.IsEnabled(LogLevel.Warning))
                {
                    _logger.LogWarning("Could not load the rate-limit script into Redis {Address} yet ({Error}).", Options.Address, e.Message);
                }
            }
        }
    }

    public async ValueTask DisposeAsync() => await _connection.CloseAsync().ConfigureAwait(false);
}
