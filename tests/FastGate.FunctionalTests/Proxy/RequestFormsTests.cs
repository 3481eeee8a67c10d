using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using FastGate.FunctionalTests.Infrastructure;

namespace FastGate.FunctionalTests.Proxy;

/// <summary>Issue 2, point 3: the request forms a strict gateway must still accept.</summary>
public sealed class RequestFormsTests
{
    [Fact]
    public async Task Http10_request_without_host_is_proxied_and_the_connection_closes()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var connection = gateway.Connect();

        connection.Send("GET /old?x=1 HTTP/1.0\r\n\r\n");
        var response = connection.ReadResponse();

        Assert.Equal(200, response.Status);
        Assert.StartsWith("HTTP/1.1 200 ", response.StatusLine, StringComparison.Ordinal);
        Assert.Equal("GET /old?x=1", response.BodyText);
        Assert.Null(response.Header("Transfer-Encoding"));
        Assert.True(connection.IsClosedByPeer());
        var seen = Assert.Single(backend.Seen);
        Assert.Equal(backend.Address, seen.Headers["Host"]);
    }

    [Fact]
    public async Task Http10_keep_alive_keeps_the_connection_when_the_answer_has_a_length()
    {
        await using var backend = await TestBackend.StartAsync(app => app.Map("/{**path}", (HttpContext context) =>
        {
            context.Response.ContentLength = context.Request.Path.Value!.Length;
            return context.Response.WriteAsync(context.Request.Path.Value);
        }));
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var connection = gateway.Connect();

        connection.Send("GET /one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        var first = connection.ReadResponse();
        connection.Send("GET /two HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        var second = connection.ReadResponse();

        Assert.Equal("/one", first.BodyText);
        Assert.Equal("keep-alive", first.Header("Connection"));
        Assert.Equal("/two", second.BodyText);
        Assert.Equal(1, backend.Connections);
    }

    [Fact]
    public async Task Http10_client_gets_a_body_of_unknown_length_close_delimited_never_chunked()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var connection = gateway.Connect();

        // Kestrel answers the echo chunked; an HTTP/1.0 client cannot read chunked (RFC 9112 section 7.1).
        connection.Send("GET /one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        var response = connection.ReadResponse();

        Assert.Equal(200, response.Status);
        Assert.Null(response.Header("Transfer-Encoding"));
        Assert.Null(response.Header("Content-Length"));
        Assert.Equal("close", response.Header("Connection"));
        Assert.Equal("GET /one", response.BodyText);
        Assert.True(connection.IsClosedByPeer());
    }

    [Fact]
    public async Task Absolute_form_target_reaches_the_backend_as_origin_form_with_its_authority_as_host()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var connection = gateway.Connect();

        // RFC 9112 section 3.2.2: the authority of an absolute-form target replaces the Host field.
        connection.Send("GET http://example.com/a?b=1 HTTP/1.1\r\nHost: other.test\r\n\r\n");
        var response = connection.ReadResponse();

        Assert.Equal(200, response.Status);
        Assert.Equal("GET /a?b=1", response.BodyText);
        var seen = Assert.Single(backend.Seen);
        Assert.Equal("/a?b=1", seen.PathAndQuery);
        Assert.Equal("example.com", seen.Headers["Host"]);
        Assert.Equal("example.com", seen.Headers["X-Forwarded-Host"]);
    }

    [Fact]
    public async Task Absolute_form_target_without_path_is_the_root()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var connection = gateway.Connect();

        connection.Send("GET http://example.com?q=2 HTTP/1.1\r\nHost: example.com\r\n\r\n");
        var response = connection.ReadResponse();

        Assert.Equal(200, response.Status);
        Assert.Equal("/?q=2", Assert.Single(backend.Seen).PathAndQuery);
    }

    [Fact]
    public async Task Expect_100_continue_gets_100_before_the_body_is_sent_then_the_answer()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var connection = gateway.Connect();

        connection.Send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
        var interim = connection.ReadResponse();
        connection.Send("hello");
        var response = connection.ReadResponse();

        Assert.Equal("HTTP/1.1 100 Continue", interim.StatusLine);
        Assert.Empty(interim.Headers);
        Assert.Equal(200, response.Status);
        Assert.Equal("POST /upload", response.BodyText);
        var seen = Assert.Single(backend.Seen);
        Assert.Equal("hello", Encoding.ASCII.GetString(seen.Body));
        Assert.False(seen.Headers.ContainsKey("Expect"));
    }

    [Fact]
    public async Task Expect_100_continue_with_a_chunked_body()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var connection = gateway.Connect();

        connection.Send("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n");
        var interim = connection.ReadResponse();
        connection.Send("5\r\nhello\r\n0\r\n\r\n");
        var response = connection.ReadResponse();

        Assert.Equal(100, interim.Status);
        Assert.Equal(200, response.Status);
        Assert.Equal("hello", Encoding.ASCII.GetString(Assert.Single(backend.Seen).Body));
    }

    [Fact]
    public async Task Unknown_expectation_is_a_417_and_reaches_no_upstream()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var connection = gateway.Connect();

        connection.Send("GET /a HTTP/1.1\r\nHost: x\r\nExpect: something\r\n\r\n");
        var response = connection.ReadResponse();

        ProblemAssert.Is(response, 417, "expectation-failed", close: true);
        Assert.True(connection.IsClosedByPeer());
        Assert.Equal(0, backend.Connections);
    }

    [Fact]
    public async Task Connect_is_a_501_and_reaches_no_upstream()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var connection = gateway.Connect();

        connection.Send("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
        var response = connection.ReadResponse();

        ProblemAssert.Is(response, 501, "method-not-implemented", close: true);
        Assert.True(connection.IsClosedByPeer());
        Assert.Equal(0, backend.Connections);
    }
}
