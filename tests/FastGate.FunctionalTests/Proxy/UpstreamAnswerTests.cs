using System.Diagnostics;
using System.Text;
using FastGate.FunctionalTests.Infrastructure;

namespace FastGate.FunctionalTests.Proxy;

/// <summary>
/// Issue 2, point 5: upstream answers are parsed as strictly as requests, stream back in every framing,
/// and a connection is reused only after a clean exchange.
/// </summary>
public sealed class UpstreamAnswerTests
{
    private static Task<TestGateway> StartAsync(string address, string extraRoute = "") => TestGateway.StartAsync($$"""
        [upstreams.backend]
        endpoints = ["{{address}}"]

        [[routes]]
        name = "all"
        match = { path = "/{*rest}" }
        upstream = "backend"
        {{extraRoute}}
        """);

    private static RawResponse Get(RawConnection connection, string path, string method = "GET")
    {
        connection.Send($"{method} {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        return connection.ReadResponse(requestWasHead: method == "HEAD");
    }

    [Theory]
    [InlineData("HTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\nok")]
    [InlineData("HTTP/1.2 200 OK\r\nContent-Length: 2\r\n\r\nok")]
    [InlineData("HTTP/1.1 200 OK\nContent-Length: 2\n\nok")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\nok")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok")]
    [InlineData("HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 2\r\n\r\nok")]
    [InlineData("HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 2\r\n\r\nok")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\nok\r\n0\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nok")]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")]
    [InlineData("garbage\r\n\r\n")]
    public async Task Malformed_upstream_answer_is_a_502_and_its_connection_is_discarded(string answer)
    {
        await using var upstream = RawUpstream.Answering(answer);
        await using var gateway = await StartAsync(upstream.Address);
        using var connection = gateway.Connect();

        var first = Get(connection, "/a");
        var second = Get(connection, "/b");

        ProblemAssert.Is(first, 502, "bad-upstream-answer", close: false);
        ProblemAssert.Is(second, 502, "bad-upstream-answer", close: false);
        Assert.Equal(2, upstream.Requests);
        Assert.Equal(2, upstream.Connections);
    }

    [Fact]
    public async Task Body_cut_short_after_content_length_ends_the_client_connection()
    {
        await using var upstream = RawUpstream.Answering("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789", AfterAnswer.Close);
        await using var gateway = await StartAsync(upstream.Address);
        using var connection = gateway.Connect();

        connection.Send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");

        var error = Assert.Throws<EndOfStreamException>(() => connection.ReadResponse());
        Assert.Contains("body cut at 10 of 100", error.Message, StringComparison.Ordinal);
        Assert.True(connection.IsClosedByPeer());
    }

    [Fact]
    public async Task Chunked_body_cut_short_ends_the_client_connection_without_a_last_chunk()
    {
        await using var upstream = RawUpstream.Answering("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n", AfterAnswer.Close);
        await using var gateway = await StartAsync(upstream.Address);
        using var connection = gateway.Connect();

        connection.Send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");

        Assert.Throws<EndOfStreamException>(() => connection.ReadResponse());
        Assert.True(connection.IsClosedByPeer());
    }

    [Fact]
    public async Task Malformed_chunk_in_the_upstream_body_ends_the_client_connection()
    {
        await using var upstream = RawUpstream.Answering("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\nzz\r\nmore\r\n0\r\n\r\n");
        await using var gateway = await StartAsync(upstream.Address);
        using var connection = gateway.Connect();

        connection.Send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");

        Assert.ThrowsAny<Exception>(() => connection.ReadResponse());
        Assert.True(connection.IsClosedByPeer());
    }

    [Fact]
    public async Task Close_delimited_body_reaches_an_http11_client_chunked_and_whole()
    {
        await using var upstream = RawUpstream.Answering("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello, close-delimited world", AfterAnswer.Close);
        await using var gateway = await StartAsync(upstream.Address);
        using var connection = gateway.Connect();

        var response = Get(connection, "/a");
        var next = Get(connection, "/b");

        Assert.Equal(200, response.Status);
        Assert.Equal("chunked", response.Header("Transfer-Encoding"));
        Assert.Equal("text/plain", response.Header("Content-Type"));
        Assert.Equal("hello, close-delimited world", response.BodyText);
        // The client connection outlives the upstream one: the body's end was framed for it.
        Assert.Equal("hello, close-delimited world", next.BodyText);
        Assert.Equal(2, upstream.Connections);
    }

    [Fact]
    public async Task Close_delimited_body_from_an_http10_upstream_reaches_the_client_whole()
    {
        await using var upstream = RawUpstream.Answering("HTTP/1.0 200 OK\r\n\r\nold server", AfterAnswer.Close);
        await using var gateway = await StartAsync(upstream.Address);
        using var connection = gateway.Connect();

        var response = Get(connection, "/a");

        Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
        Assert.Equal("old server", response.BodyText);
    }

    [Fact]
    public async Task Early_hints_103_is_relayed_before_the_final_answer()
    {
        await using var upstream = RawUpstream.Answering(
            "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        await using var gateway = await StartAsync(upstream.Address);
        using var connection = gateway.Connect();

        connection.Send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
        var hints = connection.ReadResponse();
        var response = connection.ReadResponse();

        Assert.Equal("HTTP/1.1 103 Early Hints", hints.StatusLine);
        Assert.Equal("</a.css>; rel=preload", hints.Header("Link"));
        Assert.Equal(200, response.Status);
        Assert.Equal("ok", response.BodyText);
        Assert.Equal(103, Get(connection, "/b").Status);
        Assert.Equal("ok", connection.ReadResponse().BodyText);
        Assert.Equal(1, upstream.Connections);
    }

    [Fact]
    public async Task Head_answer_keeps_its_content_length_and_has_no_body()
    {
        await using var upstream = RawUpstream.Start(async (request, stream) =>
        {
            var answer = request.RequestLine.StartsWith("HEAD ", StringComparison.Ordinal)
                ? "HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n"
                : "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nget";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(answer));
            return AfterAnswer.KeepOpen;
        });
        await using var gateway = await StartAsync(upstream.Address);
        using var connection = gateway.Connect();

        var head = Get(connection, "/a", "HEAD");
        var get = Get(connection, "/a");

        Assert.Equal(200, head.Status);
        Assert.Equal("42", head.Header("Content-Length"));
        Assert.Empty(head.Body);
        // Had any body byte followed the HEAD answer, it would have been read as this status line.
        Assert.Equal("HTTP/1.1 200 OK", get.StatusLine);
        Assert.Equal("get", get.BodyText);
        Assert.Equal(1, upstream.Connections);
    }

    [Theory]
    [InlineData("HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n", 204)]
    [InlineData("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n", 304)]
    public async Task No_content_and_not_modified_have_no_body(string answer, int status)
    {
        await using var upstream = RawUpstream.Start(async (request, stream) =>
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request.RequestLine.Contains("/empty", StringComparison.Ordinal)
                ? answer
                : "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext"));
            return AfterAnswer.KeepOpen;
        });
        await using var gateway = await StartAsync(upstream.Address);
        using var connection = gateway.Connect();

        var empty = Get(connection, "/empty");
        var next = Get(connection, "/next");

        Assert.Equal(status, empty.Status);
        Assert.Null(empty.Header("Transfer-Encoding"));
        Assert.Null(empty.Header("Content-Length"));
        Assert.Empty(empty.Body);
        Assert.Equal("HTTP/1.1 200 OK", next.StatusLine);
        Assert.Equal("next", next.BodyText);
        Assert.Equal(1, upstream.Connections);
    }

    [Fact]
    public async Task Upstream_answering_connection_close_is_not_reused()
    {
        // The upstream says close but keeps the socket open: the gateway must not trust it anyway.
        await using var upstream = RawUpstream.Answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        await using var gateway = await StartAsync(upstream.Address);
        using var connection = gateway.Connect();

        for (int i = 0; i < 3; i++)
        {
            var response = Get(connection, "/a");
            Assert.Equal("ok", response.BodyText);
            // The upstream's close is about the upstream hop only.
            Assert.Null(response.Header("Connection"));
        }

        Assert.Equal(3, upstream.Connections);
    }

    [Fact]
    public async Task Http10_upstream_without_keep_alive_is_not_reused()
    {
        await using var upstream = RawUpstream.Answering("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
        await using var gateway = await StartAsync(upstream.Address);
        using var connection = gateway.Connect();

        Assert.Equal("ok", Get(connection, "/a").BodyText);
        Assert.Equal("ok", Get(connection, "/b").BodyText);

        Assert.Equal(2, upstream.Connections);
    }

    [Fact]
    public async Task Upstream_closing_a_pooled_connection_between_requests_is_retried_on_a_fresh_one()
    {
        // Answers keep-alive, then closes: the pooled connection is stale when the next request comes.
        await using var upstream = RawUpstream.Answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", AfterAnswer.Close);
        await using var gateway = await StartAsync(upstream.Address);
        using var connection = gateway.Connect();

        for (int i = 0; i < 4; i++)
        {
            var response = Get(connection, $"/r{i}");
            Assert.Equal(200, response.Status);
            Assert.Equal("ok", response.BodyText);
            await Task.Delay(50);
        }

        Assert.Equal(4, upstream.Requests);
        Assert.Equal(4, upstream.Connections);
    }

    [Fact]
    public async Task Upstream_that_never_answers_is_a_504_after_the_route_timeout()
    {
        await using var upstream = RawUpstream.Start((_, _) => Task.FromResult(AfterAnswer.Hang));
        await using var gateway = await StartAsync(upstream.Address, "timeout = \"500ms\"");
        using var connection = gateway.Connect();
        var clock = Stopwatch.StartNew();

        var response = Get(connection, "/slow");

        Assert.InRange(clock.ElapsedMilliseconds, 450, 1500);
        ProblemAssert.Is(response, 504, "upstream-timeout");
        Assert.Equal(1, upstream.Requests);
    }

    [Fact]
    public async Task Upstream_that_sends_half_a_head_is_a_504_after_the_route_timeout()
    {
        await using var upstream = RawUpstream.Start(async (_, stream) =>
        {
            await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-"u8.ToArray());
            return AfterAnswer.Hang;
        });
        await using var gateway = await StartAsync(upstream.Address, "timeout = \"500ms\"");
        using var connection = gateway.Connect();
        var clock = Stopwatch.StartNew();

        var response = Get(connection, "/slow");

        Assert.InRange(clock.ElapsedMilliseconds, 450, 1500);
        ProblemAssert.Is(response, 504, "upstream-timeout");
    }

    [Fact]
    public async Task Refused_endpoint_is_skipped_for_a_healthy_one()
    {
        using var refusing = TestGateway.RefusingPort(out int closedPort);
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            [upstreams.backend]
            endpoints = ["127.0.0.1:{{closedPort}}", "{{backend.Address}}"]
            balance = "round_robin"

            [[routes]]
            name = "all"
            match = { path = "/{*rest}" }
            upstream = "backend"
            """);
        using var client = gateway.CreateClient();

        for (int i = 0; i < 10; i++)
        {
            Assert.Equal($"GET /r{i}", await client.GetStringAsync($"/r{i}"));
        }

        Assert.Equal(10, backend.Requests);
    }

    [Fact]
    public async Task Every_endpoint_refusing_is_a_502_problem()
    {
        using var refusingA = TestGateway.RefusingPort(out int portA);
        using var refusingB = TestGateway.RefusingPort(out int portB);
        await using var gateway = await TestGateway.StartAsync($$"""
            [upstreams.backend]
            endpoints = ["127.0.0.1:{{portA}}", "127.0.0.1:{{portB}}"]

            [[routes]]
            name = "all"
            match = { path = "/{*rest}" }
            upstream = "backend"
            """);
        using var connection = gateway.Connect();

        var response = Get(connection, "/a");

        ProblemAssert.Is(response, 502, "upstream-unreachable", close: false);
        // Once both are marked down, the answer stays a problem (502 or 503), never a hang.
        var again = Get(connection, "/b");
        Assert.Contains(again.Status, new[] { 502, 503 });
        Assert.Equal("application/problem+json", again.Header("Content-Type"));
    }

    [Fact]
    public async Task Stray_bytes_after_an_answer_keep_that_connection_out_of_the_pool()
    {
        await using var upstream = RawUpstream.Answering(
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray");
        await using var gateway = await StartAsync(upstream.Address);
        using var connection = gateway.Connect();

        var first = Get(connection, "/a");
        var second = Get(connection, "/b");

        Assert.Equal("ok", first.BodyText);
        Assert.Equal("ok", second.BodyText);
        Assert.Equal(2, upstream.Connections);
    }
}
