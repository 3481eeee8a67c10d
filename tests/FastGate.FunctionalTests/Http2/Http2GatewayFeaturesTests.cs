using FastGate.FunctionalTests.Infrastructure;
using FastGate.Protocols.Http2;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FastGate.FunctionalTests.Http2;

/// <summary>HTTP/2 streams through the same cache, policies and shutdown as HTTP/1.1 requests.</summary>
public sealed class Http2GatewayFeaturesTests
{
    [Fact]
    public async Task Cache_is_shared_by_http1_and_http2_and_a_hit_carries_the_same_fields()
    {
        int calls = 0;
        await using var backend = await TestBackend.StartAsync(app => app.MapGet("/items/{id}", (string id) =>
        {
            Interlocked.Increment(ref calls);
            return Results.Text("item " + id, "text/plain");
        }));
        await using var gateway = await TestGateway.StartAsync($$"""
            [upstreams.backend]
            endpoints = ["{{backend.Address}}"]

            [cache]
            max_bytes = "1MiB"

            [[routes]]
            name = "items"
            match = { path = "/items/{id}", methods = ["GET", "HEAD"] }
            upstream = "backend"
            cache = { ttl = "30s" }
            """);

        using var client = H2RawClient.Connect(gateway.Port);
        client.SendHeaders(1, H2RawClient.Get("/items/7", "api.test"));
        var miss = client.ReadResponse(1);
        Assert.Equal("MISS", miss.Header("x-cache"));
        Assert.Equal("item 7", miss.BodyText);

        client.SendHeaders(3, H2RawClient.Get("/items/7", "api.test"));
        var hit = client.ReadResponse(3);
        Assert.Equal(200, hit.Status);
        Assert.Equal("HIT", hit.Header("x-cache"));
        Assert.Equal("item 7", hit.BodyText);
        Assert.Equal("6", hit.Header("content-length"));
        Assert.Equal("text/plain", hit.Header("content-type"));
        Assert.NotNull(hit.Header("age"));

        // The entry an HTTP/2 stream stored serves HTTP/1.1 too.
        using var h1 = gateway.Connect();
        h1.Send("GET /items/7 HTTP/1.1\r\nHost: api.test\r\n\r\n");
        var overH1 = h1.ReadResponse();
        Assert.Equal("HIT", overH1.Header("X-Cache"));
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task Authentication_and_rate_limit_refusals_are_the_same_problems()
    {
        Environment.SetEnvironmentVariable("FASTGATE_H2_TEST_SECRET", "h2-functional-tests-secret-long-enough-for-hs256!");
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            [upstreams.backend]
            endpoints = ["{{backend.Address}}"]

            [auth.default]
            type = "jwt"
            issuer = "https://issuer.test"
            audiences = ["fastgate"]
            algorithms = ["HS256"]
            secret_env = "FASTGATE_H2_TEST_SECRET"

            [rate_limits.tight]
            rate = 1
            per = "1m"
            burst = 1
            key = "route"

            [[routes]]
            name = "secured"
            match = { path = "/secured" }
            upstream = "backend"
            auth = "default"

            [[routes]]
            name = "limited"
            match = { path = "/limited" }
            upstream = "backend"
            rate_limit = "tight"
            """);
        using var client = H2RawClient.Connect(gateway.Port);
        client.SendHeaders(1, H2RawClient.Get("/secured"));
        var unauthorized = client.ReadResponse(1);
        Assert.Equal(401, unauthorized.Status);
        Assert.Equal("Bearer", unauthorized.Header("www-authenticate"));
        Assert.Equal("application/problem+json", unauthorized.Header("content-type"));

        client.SendHeaders(3, H2RawClient.Get("/limited"));
        Assert.Equal(200, client.ReadResponse(3).Status);
        client.SendHeaders(5, H2RawClient.Get("/limited"));
        var limited = client.ReadResponse(5);
        Assert.Equal(429, limited.Status);
        Assert.NotNull(limited.Header("retry-after"));
        Assert.NotNull(limited.Header("ratelimit-policy"));
        Assert.Equal(1, backend.Requests);
    }

    [Fact]
    public async Task Shutdown_sends_goaway_with_the_last_stream_and_lets_it_finish()
    {
        TestBackend? backend = null;
        backend = await TestBackend.StartAsync(app => app.Map("/slow", async (HttpContext context) =>
        {
            await Task.Delay(1000);
            await backend!.EchoAsync(context);
        }));
        await using var _ = backend;
        var gateway = await TestGateway.StartProxyAsync(backend);
        using var client = H2RawClient.Connect(gateway.Port);
        client.SendHeaders(1, H2RawClient.Get("/slow"));
        await Task.Delay(300);
        var stopping = gateway.DisposeAsync().AsTask();

        var goAway = client.ReadUntil(f => f.Type == Http2FrameType.GoAway);
        Assert.Equal(Http2ErrorCode.NoError, goAway!.ErrorCode);
        Assert.Equal(1, goAway.GoAwayLastStreamId);
        Assert.Equal("GET /slow", client.ReadResponse(1).BodyText);
        Assert.True(client.IsClosedByPeer());
        await stopping;
    }
}

/// <summary>The client's flow-control violations, while the gateway holds its body unread (the upstream pool is busy).</summary>
public sealed class Http2ReceiveWindowTests
{
    private static async Task<(TestBackend Backend, TestGateway Gateway)> StartBusyAsync()
    {
        TestBackend? backend = null;
        backend = await TestBackend.StartAsync(app => app.Map("/{**path}", async (HttpContext context) =>
        {
            await Task.Delay(2000);
            await backend!.EchoAsync(context);
        }));
        var gateway = await TestGateway.StartAsync($$"""
            [upstreams.backend]
            endpoints = ["{{backend.Address}}"]
            [upstreams.backend.pool]
            max_connections = 1

            [[routes]]
            name = "all"
            match = { path = "/{*rest}" }
            upstream = "backend"
            timeout = "10s"
            """);
        return (backend, gateway);
    }

    private static (string, string)[] Post(string path) =>
        [(":method", "POST"), (":scheme", "http"), (":authority", "a"), (":path", path)];

    // RFC 9113 section 6.9.1: more DATA than the stream's window is a stream error FLOW_CONTROL_ERROR.
    [Fact]
    public async Task Data_past_the_stream_window_is_a_stream_error()
    {
        var (backend, gateway) = await StartBusyAsync();
        await using var _ = backend;
        await using var __ = gateway;
        using var client = H2RawClient.Connect(gateway.Port);
        client.SendHeaders(1, H2RawClient.Get("/hold"));
        await Task.Delay(200);
        client.SendHeaders(3, Post("/waits"), endStream: false);
        for (int i = 0; i < 3; i++)
        {
            client.SendData(3, new byte[16_384], endStream: false);
        }

        // Exactly the 65,535 bytes the gateway allows a stream is fine; one more byte is not.
        client.SendData(3, new byte[16_383], endStream: false);
        client.SendFrame(Http2FrameType.Ping, 0, 0, new byte[8]);
        Assert.Equal(Http2FrameType.Ping, client.ReadUntil(f => f.Type == Http2FrameType.Ping || f.Type == Http2FrameType.RstStream)!.Type);
        client.SendData(3, new byte[1], endStream: false);
        client.ExpectReset(3, Http2ErrorCode.FlowControlError);
        Assert.Equal("GET /hold", client.ReadResponse(1).BodyText);
    }

    // RFC 9113 section 6.9.1: more DATA than the connection's window is a connection error FLOW_CONTROL_ERROR.
    [Fact]
    public async Task Data_past_the_connection_window_is_a_connection_error()
    {
        var (backend, gateway) = await StartBusyAsync();
        await using var _ = backend;
        await using var __ = gateway;
        using var client = H2RawClient.Connect(gateway.Port);
        client.SendHeaders(1, H2RawClient.Get("/hold"));
        await Task.Delay(200);
        // 17 streams of 65,535 bytes: past the 1 MiB connection window, none past its stream's.
        for (int id = 3; id < 3 + (2 * 17); id += 2)
        {
            client.SendHeaders(id, Post("/waits"), endStream: false);
            for (int sent = 0; sent < 65_535; sent += 16_383)
            {
                client.SendData(id, new byte[Math.Min(16_383, 65_535 - sent)], endStream: false);
            }
        }

        client.ExpectGoAway(Http2ErrorCode.FlowControlError);
    }
}
