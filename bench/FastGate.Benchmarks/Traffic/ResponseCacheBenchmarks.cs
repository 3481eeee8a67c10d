using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using FastGate.Gateway.Traffic;

namespace FastGate.Benchmarks.Traffic;

/// <summary>
/// A response-cache hit as the request path does it: build the key (method, host, path, query and one
/// vary header) in stack memory, hash it, find and verify the entry. The cache holds 10 000 entries.
/// KeyedHit is the lookup alone with a prebuilt key.
/// </summary>
[MemoryDiagnoser]
public class ResponseCacheBenchmarks
{
    private static readonly CacheRoutePolicy Route = new(TimeSpan.FromMinutes(10), ["Accept"]);

    private ResponseCache _cache = null!;
    private byte[] _key = [];
    private ulong _hash;
    private long _now;

    [GlobalSetup]
    public void Setup()
    {
        _cache = new ResponseCache(64L << 20);
        _now = Stopwatch.GetTimestamp();
        byte[] body = new byte[512];
        Span<byte> buffer = stackalloc byte[1024];
        for (int i = 0; i <= 10_000; i++)
        {
            var builder = new CacheKeyBuilder(buffer);
            builder.Begin("GET"u8, "api.example.com"u8, System.Text.Encoding.ASCII.GetBytes($"/api/users/{i}"), "expand=orders"u8);
            builder.BeginVary();
            builder.AddVaryValue("application/json"u8);
            var key = builder.Build(_cache);
            if (_cache.Lookup(key, _now, out _, out CacheFill? fill) != CacheLookup.Fill)
            {
                throw new InvalidOperationException("setup: expected a miss");
            }

            fill!.SetStatus(200, _now);
            fill.AddHeader("Content-Type"u8, "application/json"u8);
            fill.EndHead(Route, false);
            fill.AppendBody(body);
            fill.Complete(_now);
            if (i == 5_000)
            {
                _key = key.Bytes.ToArray();
                _hash = key.Hash;
            }
        }
    }

    [Benchmark(Baseline = true)]
    public int HitWithKeyBuild()
    {
        Span<byte> buffer = stackalloc byte[256];
        var builder = new CacheKeyBuilder(buffer);
        builder.Begin("GET"u8, "api.example.com"u8, "/api/users/5000"u8, "expand=orders"u8);
        builder.BeginVary();
        builder.AddVaryValue("application/json"u8);
        _cache.Lookup(builder.Build(_cache), _now, out CacheEntry? entry, out _);
        return entry!.StatusCode;
    }

    [Benchmark]
    public int KeyedHit()
    {
        _cache.TryGet(new CacheKey(_key, _hash), _now, out CacheEntry? entry);
        return entry!.StatusCode;
    }
}
