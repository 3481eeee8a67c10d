using System.Diagnostics;
using System.Text;
using FastGate.Gateway.Traffic;

namespace FastGate.Gateway.Tests.Traffic;

public class ResponseCacheTests
{
    private static readonly long Second = Stopwatch.Frequency;
    private static readonly long Start = 5_000 * Stopwatch.Frequency;
    private static readonly CacheRoutePolicy Route = new(TimeSpan.FromSeconds(30), ["Accept"]);

    [Fact]
    public void A_stored_response_is_a_hit_with_its_status_headers_and_body()
    {
        var cache = new ResponseCache(1 << 20, seed: 1);
        var key = Key(cache, "/items/1", accept: "application/json");
        Assert.Equal(CacheLookup.Fill, cache.Lookup(Build(cache, key), Start, out _, out CacheFill? fill));
        var entry = Feed(fill!, 200, [("Content-Type", "application/json"), ("Connection", "keep-alive"), ("Content-Length", "13"), ("ETag", "\"v1\"")], "{\"id\":1,\"a\":2}", Start);
        Assert.NotNull(entry);

        Assert.Equal(CacheLookup.Hit, cache.Lookup(Build(cache, key), Start + Second, out CacheEntry? hit, out CacheFill? none));
        Assert.Null(none);
        Assert.Same(entry, hit);
        Assert.Equal(200, hit!.StatusCode);
        Assert.Equal("Content-Type: application/json\r\nETag: \"v1\"\r\n", Encoding.ASCII.GetString(hit.HeaderLines));
        Assert.Equal("{\"id\":1,\"a\":2}", Encoding.ASCII.GetString(hit.Body));
        Assert.Equal(1, hit.AgeSeconds(Start + Second + 1));
        Assert.Equal(1, cache.Count);
        Assert.Equal(hit.Size, cache.CurrentBytes);

        // Another path is another key.
        Assert.False(cache.TryGet(Build(cache, Key(cache, "/items/2", accept: "application/json")), Start, out _));
    }

    [Fact]
    public void The_route_ttl_bounds_freshness()
    {
        var cache = new ResponseCache(1 << 20, seed: 1);
        var key = Key(cache, "/ttl");
        Store(cache, key, 200, [], "x", Start);
        Assert.True(cache.TryGet(Build(cache, key), Start + (30 * Second) - 1, out _));
        Assert.False(cache.TryGet(Build(cache, key), Start + (30 * Second), out _));
        // The stale entry is dropped by the miss that replaces it.
        Assert.Equal(CacheLookup.Fill, cache.Lookup(Build(cache, key), Start + (30 * Second), out _, out CacheFill? fill));
        Assert.Equal(0, cache.Count);
        Assert.Equal(0, cache.CurrentBytes);
        fill!.Abandon();
    }

    [Theory]
    [InlineData("no-store", "NoStore")]
    [InlineData("public, No-Store", "NoStore")]
    [InlineData("private", "Private")]
    [InlineData("private=\"Set-Cookie, X-Foo\", max-age=60", "Private")]
    [InlineData("no-cache", "NoCache")]
    [InlineData("max-age=0", "NotFresh")]
    [InlineData("max-age=abc", "NotFresh")]
    [InlineData("s-maxage=0, max-age=60", "NotFresh")]
    [InlineData("max-age=60", "Store")]
    [InlineData("public", "Store")]
    [InlineData("x-ext=\"a,no-store\", max-age=5", "Store")]
    public void Upstream_cache_control_decides_storage(string cacheControl, string expectedName)
    {
        var expected = Enum.Parse<CacheStoreVerdict>(expectedName);
        var cache = new ResponseCache(1 << 20, seed: 1);
        var key = Key(cache, "/cc");
        cache.Lookup(Build(cache, key), Start, out _, out CacheFill? fill);
        fill!.SetStatus(200, Start);
        fill.AddHeader("Cache-Control"u8, Encoding.ASCII.GetBytes(cacheControl));
        Assert.Equal(expected, fill.EndHead(Route, requestHadAuthorization: false));
        fill.AppendBody("body"u8);
        var entry = fill.Complete(Start);
        Assert.Equal(expected == CacheStoreVerdict.Store, entry is not null);
        Assert.Equal(expected == CacheStoreVerdict.Store, cache.TryGet(Build(cache, key), Start, out _));
    }

    [Fact]
    public void Max_age_and_s_maxage_override_the_ttl_and_Age_counts_against_them()
    {
        var cache = new ResponseCache(1 << 20, seed: 1);
        var maxAge = Key(cache, "/max-age");
        Store(cache, maxAge, 200, [("Cache-Control", "max-age=5")], "a", Start);
        Assert.True(cache.TryGet(Build(cache, maxAge), Start + (5 * Second) - 1, out _));
        Assert.False(cache.TryGet(Build(cache, maxAge), Start + (5 * Second), out _));

        var shared = Key(cache, "/s-maxage");
        Store(cache, shared, 200, [("Cache-Control", "max-age=5, s-maxage=90")], "b", Start);
        Assert.True(cache.TryGet(Build(cache, shared), Start + (89 * Second), out _));
        Assert.False(cache.TryGet(Build(cache, shared), Start + (90 * Second), out _));

        // An upstream Age of 3 s leaves 7 s of a 10 s max-age; the Age we send starts at 3.
        var aged = Key(cache, "/aged");
        Store(cache, aged, 200, [("Cache-Control", "max-age=10"), ("Age", "3")], "c", Start);
        Assert.True(cache.TryGet(Build(cache, aged), Start + (7 * Second) - 1, out CacheEntry? entry));
        Assert.Equal(3, entry!.AgeSeconds(Start));
        Assert.Equal(5, entry.AgeSeconds(Start + (2 * Second)));
        Span<byte> age = stackalloc byte[8];
        Assert.True(entry.TryWriteAge(Start + (2 * Second), age, out int written));
        Assert.Equal("5", Encoding.ASCII.GetString(age[..written]));
        Assert.False(cache.TryGet(Build(cache, aged), Start + (7 * Second), out _));
        Assert.DoesNotContain("Age:", Encoding.ASCII.GetString(entry.HeaderLines), StringComparison.Ordinal);
    }

    [Fact]
    public void The_response_delay_adds_to_the_age()
    {
        var cache = new ResponseCache(1 << 20, seed: 1);
        var key = Key(cache, "/slow");
        cache.Lookup(Build(cache, key), Start, out _, out CacheFill? fill);
        fill!.SetStatus(200, Start + (2 * Second));   // the head arrived 2 s after the request left
        Assert.Equal(CacheStoreVerdict.Store, fill.EndHead(Route, false));
        var entry = fill.Complete(Start + (2 * Second));
        Assert.Equal(2, entry!.AgeSeconds(Start + (2 * Second)));
        Assert.Equal(Start + (30 * Second), entry.ExpiresAt);
    }

    [Fact]
    public void Vary_headers_make_different_entries()
    {
        var cache = new ResponseCache(1 << 20, seed: 1);
        var json = Key(cache, "/v", accept: "application/json");
        var html = Key(cache, "/v", accept: "text/html");
        var none = Key(cache, "/v", accept: null);
        var empty = Key(cache, "/v", accept: "");
        Store(cache, json, 200, [("Vary", "Accept")], "json", Start);
        Assert.False(cache.TryGet(Build(cache, html), Start, out _));
        Assert.False(cache.TryGet(Build(cache, none), Start, out _));
        Store(cache, html, 200, [("Vary", "accept")], "html", Start);
        Store(cache, none, 200, [], "none", Start);
        Assert.False(cache.TryGet(Build(cache, empty), Start, out _));

        Assert.True(cache.TryGet(Build(cache, json), Start, out CacheEntry? a));
        Assert.True(cache.TryGet(Build(cache, html), Start, out CacheEntry? b));
        Assert.True(cache.TryGet(Build(cache, none), Start, out CacheEntry? c));
        Assert.Equal("json", Encoding.ASCII.GetString(a!.Body));
        Assert.Equal("html", Encoding.ASCII.GetString(b!.Body));
        Assert.Equal("none", Encoding.ASCII.GetString(c!.Body));
        // Whitespace around a value is not significant; the host is case-insensitive.
        Assert.True(cache.TryGet(Build(cache, Key(cache, "/v", accept: "  application/json ", host: "API.Example.com")), Start, out _));
    }

    [Theory]
    [InlineData("*", "VaryAll")]
    [InlineData("Accept, Accept-Language", "VaryNotKeyed")]
    [InlineData("Accept,", "Store")]
    public void Upstream_vary_must_be_covered_by_the_route_key(string vary, string expectedName)
    {
        var expected = Enum.Parse<CacheStoreVerdict>(expectedName);
        var cache = new ResponseCache(1 << 20, seed: 1);
        cache.Lookup(Build(cache, Key(cache, "/vary")), Start, out _, out CacheFill? fill);
        fill!.SetStatus(200, Start);
        fill.AddHeader("Vary"u8, Encoding.ASCII.GetBytes(vary));
        Assert.Equal(expected, fill.EndHead(Route, false));
        fill.Abandon();
    }

    [Fact]
    public void Requests_with_Authorization_are_not_cached_unless_the_route_allows_it()
    {
        Assert.True(Route.ShouldUseCache("GET"u8, hasAuthorization: false));
        Assert.True(Route.ShouldUseCache("HEAD"u8, hasAuthorization: false));
        Assert.False(Route.ShouldUseCache("POST"u8, hasAuthorization: false));
        Assert.False(Route.ShouldUseCache("get"u8, hasAuthorization: false));
        Assert.False(Route.ShouldUseCache("GET"u8, hasAuthorization: true));
        Assert.False(Route.ShouldUseCache("GET"u8, false, "no-cache"u8));
        Assert.False(Route.ShouldUseCache("GET"u8, false, "max-age=0, no-store"u8));
        Assert.True(Route.ShouldUseCache("GET"u8, false, "max-age=10"u8));

        var allowing = new CacheRoutePolicy(TimeSpan.FromSeconds(30), ["Authorization"], allowAuthorization: true);
        Assert.True(allowing.ShouldUseCache("GET"u8, hasAuthorization: true));

        var cache = new ResponseCache(1 << 20, seed: 1);
        cache.Lookup(Build(cache, Key(cache, "/auth")), Start, out _, out CacheFill? fill);
        fill!.SetStatus(200, Start);
        Assert.Equal(CacheStoreVerdict.Authorization, fill.EndHead(Route, requestHadAuthorization: true));
        fill.Abandon();
        cache.Lookup(Build(cache, Key(cache, "/auth")), Start, out _, out fill);
        fill!.SetStatus(200, Start);
        Assert.Equal(CacheStoreVerdict.Store, fill.EndHead(allowing, requestHadAuthorization: true));
        fill.Abandon();
    }

    [Theory]
    [InlineData(500, "StatusNotCacheable")]
    [InlineData(302, "StatusNotCacheable")]
    [InlineData(206, "StatusNotCacheable")]
    [InlineData(404, "Store")]
    [InlineData(301, "Store")]
    public void Only_cacheable_status_codes_are_stored(int status, string expectedName)
    {
        var expected = Enum.Parse<CacheStoreVerdict>(expectedName);
        var cache = new ResponseCache(1 << 20, seed: 1);
        cache.Lookup(Build(cache, Key(cache, "/status")), Start, out _, out CacheFill? fill);
        fill!.SetStatus(status, Start);
        Assert.Equal(expected, fill.EndHead(Route, false));
        fill.Abandon();
    }

    [Fact]
    public void Set_cookie_responses_and_oversized_bodies_are_not_stored()
    {
        var cache = new ResponseCache(64 * 1024, maxEntryBytes: 1000, seed: 1);
        cache.Lookup(Build(cache, Key(cache, "/cookie")), Start, out _, out CacheFill? fill);
        fill!.SetStatus(200, Start);
        fill.AddHeader("Set-Cookie"u8, "session=1"u8);
        Assert.Equal(CacheStoreVerdict.SetCookie, fill.EndHead(Route, false));
        fill.Abandon();

        cache.Lookup(Build(cache, Key(cache, "/big")), Start, out _, out fill);
        fill!.SetStatus(200, Start);
        Assert.Equal(CacheStoreVerdict.Store, fill.EndHead(Route, false));
        Assert.True(fill.AppendBody(new byte[600]));
        Assert.False(fill.AppendBody(new byte[600]));
        Assert.Null(fill.Complete(Start));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Memory_stays_under_max_bytes_and_recently_hit_entries_survive()
    {
        const long MaxBytes = 64 * 1024;
        var cache = new ResponseCache(MaxBytes, seed: 1);
        var hot = Key(cache, "/hot");
        Store(cache, hot, 200, [], new string('h', 4000), Start);
        for (int i = 0; i < 100; i++)
        {
            Assert.True(cache.TryGet(Build(cache, hot), Start, out _));
            Store(cache, Key(cache, $"/cold/{i}"), 200, [], new string('c', 4000), Start);
            Assert.InRange(cache.CurrentBytes, 0, MaxBytes);
        }

        Assert.True(cache.TryGet(Build(cache, hot), Start, out _));
        Assert.False(cache.TryGet(Build(cache, Key(cache, "/cold/0")), Start, out _));
        Assert.True(cache.TryGet(Build(cache, Key(cache, "/cold/99")), Start, out _));
        Assert.Equal(MaxBytes / (4000 + CacheEntry.Overhead + 40), cache.Count, tolerance: 1);
        Assert.True(cache.Evictions >= 85);
        long accounted = 0;
        for (int i = 0; i < 100; i++)
        {
            if (cache.TryGet(Build(cache, Key(cache, $"/cold/{i}")), Start, out CacheEntry? e))
            {
                accounted += e!.Size;
            }
        }

        cache.TryGet(Build(cache, hot), Start, out CacheEntry? hotEntry);
        Assert.Equal(accounted + hotEntry!.Size, cache.CurrentBytes);
        cache.Clear();
        Assert.Equal(0, cache.CurrentBytes);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public async Task Concurrent_misses_are_coalesced_into_one_fill()
    {
        var cache = new ResponseCache(1 << 20, seed: 1);
        var key = Key(cache, "/coalesce");
        int fills = 0;
        using var release = new SemaphoreSlim(0);
        using var arrived = new CountdownEvent(10);
        var requests = Enumerable.Range(0, 10).Select(_ => Task.Run(async () =>
        {
            var lookup = cache.Lookup(Build(cache, key), Start, out CacheEntry? entry, out CacheFill? fill);
            arrived.Signal();
            switch (lookup)
            {
                case CacheLookup.Fill:
                    Interlocked.Increment(ref fills);
                    await release.WaitAsync();
                    return Feed(fill!, 200, [], "filled once", Start);
                case CacheLookup.Wait:
                    return await fill!.WaitAsync(TimeSpan.FromSeconds(10));
                default:
                    return entry;
            }
        })).ToArray();

        Assert.True(arrived.Wait(TimeSpan.FromSeconds(10)));
        release.Release();
        var entries = await Task.WhenAll(requests);
        Assert.Equal(1, fills);
        Assert.All(entries, e => Assert.Same(entries[0], e));
        Assert.Equal("filled once", Encoding.ASCII.GetString(entries[0]!.Body));
    }

    [Fact]
    public async Task Abandon_wakes_the_waiters_with_nothing_and_the_next_miss_leads_again()
    {
        var cache = new ResponseCache(1 << 20, seed: 1);
        var key = Key(cache, "/abandon");
        Assert.Equal(CacheLookup.Fill, cache.Lookup(Build(cache, key), Start, out _, out CacheFill? leader));
        Assert.Equal(CacheLookup.Wait, cache.Lookup(Build(cache, key), Start, out _, out CacheFill? followed));
        Assert.Same(leader, followed);
        var waiters = Enumerable.Range(0, 5).Select(_ => followed!.WaitAsync(TimeSpan.FromSeconds(10)).AsTask()).ToArray();
        Assert.DoesNotContain(waiters, w => w.IsCompleted);

        leader!.Abandon();
        var results = await Task.WhenAll(waiters);
        Assert.All(results, Assert.Null);
        Assert.Equal(CacheLookup.Fill, cache.Lookup(Build(cache, key), Start, out _, out CacheFill? next));
        Assert.NotSame(leader, next);
        next!.Abandon();
    }

    [Fact]
    public async Task A_waiter_gives_up_after_its_bound_and_a_dead_leader_is_replaced_after_the_fill_timeout()
    {
        var cache = new ResponseCache(1 << 20, fillTimeout: TimeSpan.FromSeconds(5), seed: 1);
        var key = Key(cache, "/slow-leader");
        cache.Lookup(Build(cache, key), Start, out _, out CacheFill? leader);
        cache.Lookup(Build(cache, key), Start, out _, out CacheFill? followed);
        var sw = Stopwatch.StartNew();
        Assert.Null(await followed!.WaitAsync(TimeSpan.FromMilliseconds(50)));
        Assert.InRange(sw.ElapsedMilliseconds, 40, 5000);

        Assert.Equal(CacheLookup.Wait, cache.Lookup(Build(cache, key), Start + (5 * Second) - 1, out _, out _));
        Assert.Equal(CacheLookup.Fill, cache.Lookup(Build(cache, key), Start + (5 * Second), out _, out CacheFill? replacement));
        Assert.NotSame(leader, replacement);
        leader!.Abandon();
        Assert.NotNull(Feed(replacement!, 200, [], "ok", Start + (5 * Second)));
        Assert.True(cache.TryGet(Build(cache, key), Start + (5 * Second), out _));
    }

    [Fact]
    public void A_hit_allocates_nothing()
    {
        var cache = new ResponseCache(1 << 20, seed: 1);
        Store(cache, Key(cache, "/api/users/42", accept: "application/json"), 200, [("Content-Type", "application/json")], "{\"id\":42}", Start);
        Span<byte> scratch = stackalloc byte[512];
        Assert.Equal(CacheLookup.Hit, LookupNoAlloc(cache, scratch));
        for (int i = 0; i < 1_000; i++)
        {
            LookupNoAlloc(cache, scratch);
        }

        // Best of three: tiered compilation may allocate on this thread while promoting code.
        long best = long.MaxValue;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10_000; i++)
            {
                LookupNoAlloc(cache, scratch);
            }

            best = Math.Min(best, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, best);
    }

    [Fact]
    public void A_key_too_large_for_the_buffer_overflows_and_tags_keep_parts_apart()
    {
        var builder = new CacheKeyBuilder(stackalloc byte[32]);
        builder.Begin("GET"u8, "h"u8, "/a-rather-long-path-that-does-not-fit"u8, default);
        Assert.True(builder.Overflowed);

        // "/a" + "?b" must differ from "/a?b" in the path with no query.
        var cache = new ResponseCache(1 << 20, seed: 1);
        Span<byte> one = stackalloc byte[128];
        Span<byte> two = stackalloc byte[128];
        var first = new CacheKeyBuilder(one);
        first.Begin("GET"u8, "h"u8, "/a"u8, "b"u8);
        var second = new CacheKeyBuilder(two);
        second.Begin("GET"u8, "h"u8, "/ab"u8, default);
        Assert.False(first.Build(cache).Bytes.SequenceEqual(second.Build(cache).Bytes));
    }

    private static CacheLookup LookupNoAlloc(ResponseCache cache, Span<byte> scratch)
    {
        var builder = new CacheKeyBuilder(scratch);
        builder.Begin("GET"u8, "api.example.com"u8, "/api/users/42"u8, default);
        builder.BeginVary();
        builder.AddVaryValue("application/json"u8);
        return cache.Lookup(builder.Build(cache), Start + 1, out _, out _);
    }

    /// <summary>A key's encoded bytes (the tests keep them as arrays to rebuild the ref struct).</summary>
    private static byte[] Key(ResponseCache cache, string path, string? accept = null, string host = "api.example.com")
    {
        Span<byte> buffer = stackalloc byte[1024];
        var builder = new CacheKeyBuilder(buffer);
        builder.Begin("GET"u8, Encoding.ASCII.GetBytes(host), Encoding.ASCII.GetBytes(path), default);
        builder.BeginVary();
        if (accept is not null)
        {
            builder.AddVaryValue(Encoding.ASCII.GetBytes(accept));
        }

        return builder.Build(cache).Bytes.ToArray();
    }

    private static CacheKey Build(ResponseCache cache, byte[] key) =>
        new(key, System.IO.Hashing.XxHash3.HashToUInt64(key, cache.Seed));

    private static CacheEntry? Store(ResponseCache cache, byte[] key, int status, (string Name, string Value)[] headers, string body, long now)
    {
        Assert.Equal(CacheLookup.Fill, cache.Lookup(Build(cache, key), now, out _, out CacheFill? fill));
        return Feed(fill!, status, headers, body, now);
    }

    private static CacheEntry? Feed(CacheFill fill, int status, (string Name, string Value)[] headers, string body, long now)
    {
        fill.SetStatus(status, now);
        foreach (var (name, value) in headers)
        {
            fill.AddHeader(Encoding.ASCII.GetBytes(name), Encoding.ASCII.GetBytes(value));
        }

        Assert.Equal(CacheStoreVerdict.Store, fill.EndHead(Route, requestHadAuthorization: false));
        Assert.True(fill.AppendBody(Encoding.ASCII.GetBytes(body)));
        return fill.Complete(now);
    }
}
