using System.Net;
using System.Text;
using FastGate.FunctionalTests.Infrastructure;

namespace FastGate.FunctionalTests.Proxy;

public sealed class ProxyBasicsTests
{
    [Fact]
    public async Task Get_is_proxied_with_path_query_and_forwarding_headers()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var client = gateway.CreateClient();

        var response = await client.GetAsync("/api/items/7?sort=asc&x=%20y");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("GET /api/items/7?sort=asc&x=%20y", await response.Content.ReadAsStringAsync());
        var seen = Assert.Single(backend.Seen);
        Assert.Equal("127.0.0.1", seen.Headers["X-Forwarded-For"]);
        Assert.Equal("http", seen.Headers["X-Forwarded-Proto"]);
        Assert.Equal($"127.0.0.1:{gateway.Port}", seen.Headers["X-Forwarded-Host"]);
        Assert.Equal($"127.0.0.1:{gateway.Port}", seen.Headers["Host"]);
        Assert.Matches("^[0-9a-f]{32}$", seen.Headers["X-Request-Id"]);
    }

    [Fact]
    public async Task Post_bodies_are_streamed_with_content_length_and_chunked()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var connection = gateway.Connect();

        connection.Send("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
        var first = connection.ReadResponse();
        connection.Send("POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer-A: 1\r\n\r\n");
        var second = connection.ReadResponse();

        Assert.Equal(200, first.Status);
        Assert.Equal("POST /a", first.BodyText);
        Assert.Equal(200, second.Status);
        Assert.Equal("POST /b", second.BodyText);
        var seen = backend.Seen.ToArray();
        Assert.Equal("hello", Encoding.ASCII.GetString(seen[0].Body));
        Assert.Equal("hello world", Encoding.ASCII.GetString(seen[1].Body));
        Assert.Equal(1, backend.Connections);
    }

    [Fact]
    public async Task Keep_alive_requests_reuse_one_upstream_connection()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var client = gateway.CreateClient();

        for (int i = 0; i < 20; i++)
        {
            Assert.Equal($"GET /r/{i}", await client.GetStringAsync($"/r/{i}"));
        }

        Assert.Equal(20, backend.Requests);
        Assert.Equal(1, backend.Connections);
    }

    [Fact]
    public async Task Pipelined_requests_are_answered_in_order()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var connection = gateway.Connect();

        var pipelined = new StringBuilder();
        for (int i = 0; i < 10; i++)
        {
            pipelined.Append($"GET /p/{i} HTTP/1.1\r\nHost: x\r\n\r\n");
        }

        connection.Send(pipelined.ToString());
        for (int i = 0; i < 10; i++)
        {
            var response = connection.ReadResponse();
            Assert.Equal(200, response.Status);
            Assert.Equal($"GET /p/{i}", response.BodyText);
        }
    }

    [Fact]
    public async Task Unknown_path_is_a_404_problem_and_the_connection_stays_open()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            [upstreams.backend]
            endpoints = ["{{backend.Address}}"]

            [[routes]]
            name = "api"
            match = { path = "/api/{*rest}", methods = ["GET"] }
            upstream = "backend"
            """);
        using var connection = gateway.Connect();

        connection.Send("GET /nothing HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc-123\r\n\r\n");
        var response = connection.ReadResponse();
        connection.Send("GET /api/x HTTP/1.1\r\nHost: x\r\n\r\n");
        var next = connection.ReadResponse();

        Assert.Equal(404, response.Status);
        Assert.Equal("application/problem+json", response.Header("Content-Type"));
        Assert.Equal(
            """{"type":"https://fastgate.dev/problems/no-route","title":"Not Found","status":404,"detail":"No route matches this request.","instance":"abc-123"}""",
            response.BodyText);
        Assert.Equal(200, next.Status);
        Assert.Equal(1, backend.Requests);
    }

    [Fact]
    public async Task Method_not_allowed_is_a_405_with_allow()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            [upstreams.backend]
            endpoints = ["{{backend.Address}}"]

            [[routes]]
            name = "read"
            match = { path = "/items/{id}", methods = ["GET", "HEAD"] }
            upstream = "backend"

            [[routes]]
            name = "write"
            match = { path = "/items/{id}", methods = ["PUT"] }
            upstream = "backend"
            """);
        using var connection = gateway.Connect();

        connection.Send("DELETE /items/3 HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = connection.ReadResponse();

        Assert.Equal(405, response.Status);
        Assert.Equal("GET, HEAD, PUT", response.Header("Allow"));
        Assert.Equal(0, backend.Requests);
    }
}
