using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using FastGate.Gateway.Traffic;

namespace FastGate.Benchmarks.Traffic;

/// <summary>
/// One local rate-limit decision for a key already in the table (the steady state): a short key (an IPv4
/// address) and a key longer than the inline capacity (stored by digest). The table holds 10 000 other
/// keys so the probe is not alone in its set. KeyHashOnly is the floor (the key's hash alone).
/// </summary>
[MemoryDiagnoser]
public class LocalRateLimiterBenchmarks
{
    private LocalRateLimiter _limiter = null!;
    private byte[] _ipKey = [];
    private byte[] _longKey = [];
    private long _now;

    [GlobalSetup]
    public void Setup()
    {
        var policy = new RateLimitPolicy("bench", 1_000_000_000, TimeSpan.FromSeconds(1), 1_000_000_000, RateLimitKeyKind.ClientIp);
        _limiter = new LocalRateLimiter(policy, maxKeys: 65_536);
        _now = Stopwatch.GetTimestamp();
        for (int i = 0; i < 10_000; i++)
        {
            _limiter.Acquire(System.Text.Encoding.ASCII.GetBytes($"10.0.{i / 256}.{i % 256}"), _now);
        }

        _ipKey = "192.168.100.200"u8.ToArray();
        _longKey = System.Text.Encoding.ASCII.GetBytes("user:" + new string('x', 90));
        _limiter.Acquire(_ipKey, _now);
        _limiter.Acquire(_longKey, _now);
    }

    [Benchmark(Baseline = true)]
    public bool DecisionIpKey() => _limiter.Acquire(_ipKey, _now).Allowed;

    [Benchmark]
    public bool DecisionLongKey() => _limiter.Acquire(_longKey, _now).Allowed;

    /// <summary>The floor: hashing the IP key alone (the decision's first step), to read the table cost off a loaded machine.</summary>
    [Benchmark]
    public ulong KeyHashOnly() => System.IO.Hashing.XxHash3.HashToUInt64(_ipKey, 42);
}

/// <summary>
/// One Redis-backed decision (EVALSHA of the GCRA script over loopback) against the local store. Needs a
/// redis-server at FASTGATE_BENCH_REDIS (default 127.0.0.1:6379); without one the setup fails with a
/// message and BenchmarkDotNet skips the class.
/// </summary>
[MemoryDiagnoser]
public class RedisRateLimiterBenchmarks
{
    private RedisRateLimitStore _store = null!;
    private RedisRateLimiter _redis = null!;
    private LocalRateLimiter _local = null!;
    private byte[] _key = [];

    [GlobalSetup]
    public void Setup()
    {
        string address = Environment.GetEnvironmentVariable("FASTGATE_BENCH_REDIS") ?? "127.0.0.1:6379";
        _store = RedisRateLimitStore.ConnectAsync(new RedisStoreOptions { Address = address, OperationTimeout = TimeSpan.FromSeconds(1) })
            .GetAwaiter().GetResult();
        var policy = new RateLimitPolicy("bench", 1_000_000, TimeSpan.FromSeconds(1), 1_000_000_000, RateLimitKeyKind.ClientIp, store: RateLimitStoreKind.Redis);
        _redis = new RedisRateLimiter(policy, _store);
        _local = new LocalRateLimiter(policy);
        _key = "192.168.100.200"u8.ToArray();
        var probe = _redis.AcquireAsync(_key, Stopwatch.GetTimestamp()).AsTask().GetAwaiter().GetResult();
        if (probe.StoreUnavailable)
        {
            throw new InvalidOperationException($"Skipped: no redis-server answers at {address} (set FASTGATE_BENCH_REDIS=host:port).");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _store.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Baseline = true)]
    public bool LocalDecision() => _local.Acquire(_key, Stopwatch.GetTimestamp()).Allowed;

    [Benchmark]
    public async Task<bool> RedisDecision() => (await _redis.AcquireAsync(_key, Stopwatch.GetTimestamp())).Allowed;
}
