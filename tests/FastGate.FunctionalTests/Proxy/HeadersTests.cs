using FastGate.FunctionalTests.Infrastructure;

namespace FastGate.FunctionalTests.Proxy;

/// <summary>Issue 2, points 4 and 6: what crosses the gateway, what it adds, and where a path may go.</summary>
public sealed class HeadersTests
{
    [Fact]
    public async Task Hop_by_hop_request_fields_never_reach_the_backend()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var connection = gateway.Connect();

        connection.Send("GET /a HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, x-secret, X-Other\r\nKeep-Alive: timeout=5\r\n"
            + "Proxy-Connection: keep-alive\r\nTE: trailers\r\nTrailer: X-T\r\nUpgrade: websocket\r\nX-Secret: 1\r\nx-other: 2\r\n"
            + "X-Visible: 3\r\n\r\n");
        var response = connection.ReadResponse();

        Assert.Equal(200, response.Status);
        var seen = Assert.Single(backend.Seen);
        foreach (var name in new[] { "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Upgrade", "X-Secret", "X-Other" })
        {
            Assert.False(seen.Headers.ContainsKey(name), name + " crossed to the backend");
        }

        Assert.Equal("3", seen.Headers["X-Visible"]);
    }

    [Theory]
    [InlineData("x-backend-secret")]
    [InlineData("keep-alive, X-Backend-Secret")]
    [InlineData("close, x-backend-secret")]
    public async Task Hop_by_hop_response_fields_never_reach_the_client(string connectionList)
    {
        await using var upstream = RawUpstream.Answering($"HTTP/1.1 200 OK\r\nConnection: {connectionList}\r\nX-Backend-Secret: 1\r\n"
            + "Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\nTrailer: X-T\r\nUpgrade: h2c\r\n"
            + "X-Visible: 3\r\nContent-Length: 2\r\n\r\nok");
        await using var gateway = await TestGateway.StartAsync($$"""
            [upstreams.backend]
            endpoints = ["{{upstream.Address}}"]

            [[routes]]
            name = "all"
            match = { path = "/{*rest}" }
            upstream = "backend"
            """);
        using var connection = gateway.Connect();

        connection.Send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = connection.ReadResponse();

        Assert.Equal("ok", response.BodyText);
        foreach (var name in new[] { "Connection", "X-Backend-Secret", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Upgrade" })
        {
            Assert.False(response.HasHeader(name), name + " crossed to the client");
        }

        Assert.Equal("3", response.Header("X-Visible"));
    }

    [Fact]
    public async Task X_forwarded_for_from_an_untrusted_peer_is_replaced()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var connection = gateway.Connect();

        connection.Send("GET /a HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.test\r\n\r\n");
        connection.ReadResponse();

        var seen = Assert.Single(backend.Seen);
        Assert.Equal("127.0.0.1", seen.Headers["X-Forwarded-For"]);
        Assert.Equal("http", seen.Headers["X-Forwarded-Proto"]);
        Assert.Equal("x", seen.Headers["X-Forwarded-Host"]);
    }

    [Fact]
    public async Task X_forwarded_for_from_a_trusted_proxy_is_appended_to()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.ProxyRoutes([backend]), server: "trusted_proxies = [\"127.0.0.1/32\"]");
        using var connection = gateway.Connect();

        connection.Send("GET /a HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n");
        connection.ReadResponse();
        connection.Send("GET /b HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4, 10.0.0.1\r\nX-Forwarded-For: 5.6.7.8\r\n\r\n");
        connection.ReadResponse();
        connection.Send("GET /c HTTP/1.1\r\nHost: x\r\n\r\n");
        connection.ReadResponse();

        var seen = backend.Seen.ToArray();
        Assert.Equal("1.2.3.4, 127.0.0.1", seen[0].Headers["X-Forwarded-For"]);
        Assert.Equal("1.2.3.4, 10.0.0.1, 5.6.7.8, 127.0.0.1", seen[1].Headers["X-Forwarded-For"]);
        Assert.Equal("127.0.0.1", seen[2].Headers["X-Forwarded-For"]);
    }

    [Fact]
    public async Task X_request_id_is_passed_on_when_sane_and_created_otherwise()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var connection = gateway.Connect();

        connection.Send("GET /a HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc-123\r\n\r\n");
        connection.ReadResponse();
        connection.Send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
        connection.ReadResponse();
        connection.Send($"GET /c HTTP/1.1\r\nHost: x\r\nX-Request-Id: {new string('r', 200)}\r\n\r\n");
        connection.ReadResponse();
        connection.Send("GET /d HTTP/1.1\r\nHost: x\r\nX-Request-Id: has space\r\n\r\n");
        connection.ReadResponse();

        var seen = backend.Seen.ToArray();
        Assert.Equal("abc-123", seen[0].Headers["X-Request-Id"]);
        Assert.Matches("^[0-9a-f]{32}$", seen[1].Headers["X-Request-Id"]);
        Assert.Matches("^[0-9a-f]{32}$", seen[2].Headers["X-Request-Id"]);
        Assert.Matches("^[0-9a-f]{32}$", seen[3].Headers["X-Request-Id"]);
        Assert.NotEqual(seen[1].Headers["X-Request-Id"], seen[2].Headers["X-Request-Id"]);
    }

    [Theory]
    [InlineData("/api/users/7", "/users/7")]
    [InlineData("/api/users/7?x=1", "/users/7?x=1")]
    [InlineData("/api/users/7?x=1&y=%20", "/users/7?x=1&y=%20")]
    [InlineData("/api/find/7", "/search?user=7")]
    [InlineData("/api/find/7?x=1", "/search?user=7&x=1")]
    public async Task Rewrite_templates_reach_the_backend_with_the_query_preserved(string path, string expected)
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            [upstreams.backend]
            endpoints = ["{{backend.Address}}"]

            [[routes]]
            name = "users"
            match = { path = "/api/users/{id}" }
            upstream = "backend"
            rewrite = "/users/{id}"

            [[routes]]
            name = "find"
            match = { path = "/api/find/{id}" }
            upstream = "backend"
            rewrite = "/search?user={id}"
            """);
        using var connection = gateway.Connect();

        connection.Send($"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = connection.ReadResponse();

        Assert.Equal(200, response.Status);
        Assert.Equal(expected, Assert.Single(backend.Seen).PathAndQuery);
    }

    private static Task<TestGateway> StartApiAndAdminAsync(TestBackend api, TestBackend admin) => TestGateway.StartAsync($$"""
        [upstreams.api]
        endpoints = ["{{api.Address}}"]

        [upstreams.admin]
        endpoints = ["{{admin.Address}}"]

        [[routes]]
        name = "api"
        match = { path = "/api/{*rest}" }
        upstream = "api"

        [[routes]]
        name = "admin"
        match = { path = "/admin" }
        upstream = "admin"
        """);

    [Theory]
    [InlineData("/api/..%2F..%2Fadmin", "/api/..%2F..%2Fadmin")]
    [InlineData("/api/..%2fadmin", "/api/..%2Fadmin")]
    [InlineData("/api/a%2F..%2F..%2Fadmin", "/api/a%2F..%2F..%2Fadmin")]
    [InlineData("/api/..%5C..%5Cadmin", "/api/..%5C..%5Cadmin")]
    public async Task Encoded_slashes_never_escape_the_route_prefix(string path, string seenPath)
    {
        await using var api = await TestBackend.StartAsync();
        await using var admin = await TestBackend.StartAsync();
        await using var gateway = await StartApiAndAdminAsync(api, admin);
        using var connection = gateway.Connect();

        connection.Send($"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = connection.ReadResponse();

        // One segment under /api: the api upstream gets it as that one segment, the admin one nothing.
        Assert.Equal(200, response.Status);
        Assert.Equal(0, admin.Requests);
        Assert.Equal(seenPath, Assert.Single(api.Seen).PathAndQuery);
    }

    [Theory]
    [InlineData("/api/../admin")]
    [InlineData("/api/./../admin")]
    [InlineData("/api/%2E%2E/admin")]
    [InlineData("/api/%2e./admin")]
    [InlineData("/api/x/../../admin")]
    public async Task Dot_segments_are_removed_before_routing(string path)
    {
        await using var api = await TestBackend.StartAsync();
        await using var admin = await TestBackend.StartAsync();
        await using var gateway = await StartApiAndAdminAsync(api, admin);
        using var connection = gateway.Connect();

        connection.Send($"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = connection.ReadResponse();

        Assert.Equal(200, response.Status);
        Assert.Equal(0, api.Requests);
        Assert.Equal("/admin", Assert.Single(admin.Seen).PathAndQuery);
    }

    [Theory]
    [InlineData("/api/../other")]
    [InlineData("/api/%2E%2E/other")]
    public async Task Dot_segments_out_of_a_prefix_to_no_route_are_a_404(string path)
    {
        await using var api = await TestBackend.StartAsync();
        await using var admin = await TestBackend.StartAsync();
        await using var gateway = await StartApiAndAdminAsync(api, admin);
        using var connection = gateway.Connect();

        connection.Send($"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = connection.ReadResponse();

        ProblemAssert.Is(response, 404, "no-route", close: false);
        Assert.Equal(0, api.Connections);
        Assert.Equal(0, admin.Connections);
    }

    [Theory]
    [InlineData("api.example.com", "A")]
    [InlineData("API.Example.COM:8080", "A")]
    [InlineData("x.example.org", "B")]
    [InlineData("a.b.example.org", "B")]
    [InlineData("example.org", null)]
    [InlineData("other.test", null)]
    [InlineData("xapi.example.com", null)]
    public async Task Host_routing_by_exact_host_and_suffix(string host, string? expected)
    {
        await using var a = await TestBackend.StartAsync();
        await using var b = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            [upstreams.a]
            endpoints = ["{{a.Address}}"]

            [upstreams.b]
            endpoints = ["{{b.Address}}"]

            [[routes]]
            name = "a"
            match = { path = "/{*rest}", host = "api.example.com" }
            upstream = "a"

            [[routes]]
            name = "b"
            match = { path = "/{*rest}", host = "*.example.org" }
            upstream = "b"
            """);
        using var connection = gateway.Connect();

        connection.Send($"GET /h HTTP/1.1\r\nHost: {host}\r\n\r\n");
        var response = connection.ReadResponse();

        switch (expected)
        {
            case "A":
                Assert.Equal(200, response.Status);
                Assert.Equal((1, 0), (a.Requests, b.Requests));
                break;
            case "B":
                Assert.Equal(200, response.Status);
                Assert.Equal((0, 1), (a.Requests, b.Requests));
                break;
            default:
                ProblemAssert.Is(response, 404, "no-route");
                Assert.Equal((0, 0), (a.Connections, b.Connections));
                break;
        }
    }
}
