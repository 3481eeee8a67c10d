using FastGate.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FastGate.FunctionalTests.Traffic;

/// <summary>The response cache on a route, against the real gateway and a real backend.</summary>
public sealed class ResponseCacheTests
{
    private static async Task<(TestBackend Backend, TestGateway Gateway)> StartAsync(Action<WebApplication> map, string cache = "{ ttl = \"30s\", vary = [\"Accept\"] }")
    {
        var backend = await TestBackend.StartAsync(map);
        var gateway = await TestGateway.StartAsync($$"""
            [upstreams.backend]
            endpoints = ["{{backend.Address}}"]

            [cache]
            max_bytes = "1MiB"

            [[routes]]
            name = "items"
            match = { path = "/items/{id}", methods = ["GET", "HEAD"] }
            upstream = "backend"
            cache = {{cache}}
            """);
        return (backend, gateway);
    }

    private static RawResponse Get(TestGateway gateway, string path, string extra = "")
    {
        using var connection = gateway.Connect();
        connection.Send($"GET {path} HTTP/1.1\r\nHost: api.test\r\n{extra}\r\n");
        return connection.ReadResponse();
    }

    [Fact]
    public async Task Second_get_is_a_hit_with_age_and_the_same_bytes()
    {
        int calls = 0;
        var (backend, gateway) = await StartAsync(app => app.MapGet("/items/{id}", (string id) =>
        {
            Interlocked.Increment(ref calls);
            return Results.Text($"item {id} #{calls}", "text/plain");
        }));
        await using (backend)
        await using (gateway)
        {
            var miss = Get(gateway, "/items/1");
            var hit = Get(gateway, "/items/1");

            Assert.Equal("MISS", miss.Header("X-Cache"));
            Assert.Equal("HIT", hit.Header("X-Cache"));
            Assert.Equal(miss.BodyText, hit.BodyText);
            Assert.Equal("item 1 #1", hit.BodyText);
            Assert.NotNull(hit.Header("Age"));
            Assert.Equal("text/plain", hit.Header("Content-Type"));
            Assert.Equal(1, calls);
        }
    }

    [Fact]
    public async Task No_store_and_vary_and_authorization_are_honoured()
    {
        int calls = 0;
        var (backend, gateway) = await StartAsync(app =>
        {
            app.MapGet("/items/nostore", (HttpResponse response) =>
            {
                Interlocked.Increment(ref calls);
                response.Headers.CacheControl = "no-store";
                return "fresh";
            });
            app.MapGet("/items/{id}", (string id, HttpRequest request) =>
            {
                Interlocked.Increment(ref calls);
                return $"{id} for {request.Headers.Accept}";
            });
        });
        await using (backend)
        await using (gateway)
        {
            Get(gateway, "/items/nostore");
            Get(gateway, "/items/nostore");
            Assert.Equal(2, calls);

            var json = Get(gateway, "/items/2", "Accept: application/json\r\n");
            var text = Get(gateway, "/items/2", "Accept: text/plain\r\n");
            var jsonAgain = Get(gateway, "/items/2", "Accept: application/json\r\n");
            Assert.Equal("2 for application/json", jsonAgain.BodyText);
            Assert.Equal("HIT", jsonAgain.Header("X-Cache"));
            Assert.Equal("2 for text/plain", text.BodyText);
            Assert.Equal("MISS", json.Header("X-Cache"));
            Assert.Equal(4, calls);

            // A request with Authorization is neither served from nor stored into the cache.
            var authorized = Get(gateway, "/items/2", "Accept: application/json\r\nAuthorization: Bearer x\r\n");
            Assert.NotEqual("HIT", authorized.Header("X-Cache"));
            Assert.Equal(5, calls);
        }
    }

    [Fact]
    public async Task Concurrent_misses_of_one_key_are_coalesced_into_one_upstream_request()
    {
        int calls = 0;
        var (backend, gateway) = await StartAsync(app => app.MapGet("/items/{id}", async (string id) =>
        {
            Interlocked.Increment(ref calls);
            await Task.Delay(300);
            return $"slow {id}";
        }));
        await using (backend)
        await using (gateway)
        {
            var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Get(gateway, "/items/9"))));

            Assert.All(responses, r => Assert.Equal("slow 9", r.BodyText));
            Assert.Equal(1, calls);
        }
    }
}
