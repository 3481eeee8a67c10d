using FastGate.FunctionalTests.Infrastructure;

namespace FastGate.FunctionalTests.Proxy;

/// <summary>
/// Issue 2, point 3: a request the gateway could read differently from an upstream is a smuggling hole.
/// Each of these gets a 400 problem, the connection closed, and nothing reaches the upstream: not a
/// request, not even a TCP connection.
/// </summary>
public sealed class RequestStrictnessTests
{
    public static TheoryData<string, string> MalformedRequests => new()
    {
        // Framing (RFC 9112 section 6.3, RFC 9110 section 8.6).
        { "CL with TE", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" },
        { "TE with CL", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" },
        { "two differing CL lines", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!" },
        { "differing CL list", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!" },
        { "CL 12a", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 12a\r\n\r\nhello" },
        { "CL -1", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\nhello" },
        { "CL 1 2", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1 2\r\n\r\nhello" },
        { "CL +5", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello" },
        { "CL 0x5", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n\r\nhello" },
        { "CL empty", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\nhello" },
        { "CL overflow", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\nhello" },
        { "TE gzip", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nhello" },
        { "TE chunked, gzip", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n" },
        { "TE gzip, chunked", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" },
        { "TE identity", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n" },
        { "two TE lines", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" },
        { "TE in HTTP/1.0", "POST /a HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" },

        // Chunked bodies (RFC 9112 section 7.1), refused from the first bytes before any upstream is contacted.
        { "chunk size zz", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n" },
        { "chunk size overflow", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\nhello\r\n0\r\n\r\n" },
        { "chunk size with space", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n" },
        { "chunk data without CRLF", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n" },
        { "chunk line bare LF", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n" },
        { "chunk data bare LF", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n" },

        // Field syntax (RFC 9112 sections 2.2 and 5).
        { "obs-fold", "GET /a HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  2\r\n\r\n" },
        { "obs-fold tab", "GET /a HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\t2\r\n\r\n" },
        { "space before first field", "GET /a HTTP/1.1\r\n Host: x\r\n\r\n" },
        { "space before colon", "GET /a HTTP/1.1\r\nHost: x\r\nX-A : 1\r\n\r\n" },
        { "tab before colon", "GET /a HTTP/1.1\r\nHost: x\r\nX-A\t: 1\r\n\r\n" },
        { "space before colon in Host", "GET /a HTTP/1.1\r\nHost : x\r\n\r\n" },
        { "empty field name", "GET /a HTTP/1.1\r\nHost: x\r\n: 1\r\n\r\n" },
        { "space in field name", "GET /a HTTP/1.1\r\nHost: x\r\nX A: 1\r\n\r\n" },
        { "paren in field name", "GET /a HTTP/1.1\r\nHost: x\r\nX(A): 1\r\n\r\n" },
        { "field without colon", "GET /a HTTP/1.1\r\nHost: x\r\nX-A\r\n\r\n" },
        { "bare CR in field", "GET /a HTTP/1.1\r\nHost: x\rX-A: 1\r\n\r\n" },
        { "bare CR in value", "GET /a HTTP/1.1\r\nHost: x\r\nX-A: 1\r2\r\n\r\n" },
        { "bare CR in request line", "GET /a HTTP/1.1\rHost: x\r\n\r\n" },
        { "bare LF everywhere", "GET /a HTTP/1.1\nHost: x\n\n" },
        { "bare LF after request line", "GET /a HTTP/1.1\nHost: x\r\n\r\n" },
        { "bare LF after field", "GET /a HTTP/1.1\r\nHost: x\n\r\n" },
        { "bare LF ending the head", "GET /a HTTP/1.1\r\nHost: x\r\n\n" },
        { "NUL in value", "GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n" },
        { "NUL in Host", "GET /a HTTP/1.1\r\nHost: x\0y\r\n\r\n" },
        { "SOH in value", "GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\u0001b\r\n\r\n" },
        { "ESC in value", "GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\u001bb\r\n\r\n" },
        { "DEL in value", "GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\u007fb\r\n\r\n" },
        { "VT in value", "GET /a HTTP/1.1\r\nHost: x\r\nX-A: a\u000bb\r\n\r\n" },

        // Host (RFC 9112 section 3.2).
        { "no Host in HTTP/1.1", "GET /a HTTP/1.1\r\nX-A: 1\r\n\r\n" },
        { "two Host lines", "GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n" },
        { "two identical Host lines", "GET /a HTTP/1.1\r\nHost: x\r\nHost: x\r\n\r\n" },

        // Request line (RFC 9112 section 3).
        { "method GE T", "GE T /a HTTP/1.1\r\nHost: x\r\n\r\n" },
        { "method G(T", "G(T /a HTTP/1.1\r\nHost: x\r\n\r\n" },
        { "method with NUL", "G\0T /a HTTP/1.1\r\nHost: x\r\n\r\n" },
        { "no method", " /a HTTP/1.1\r\nHost: x\r\n\r\n" },
        { "target with space", "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n" },
        { "two spaces before target", "GET  /a HTTP/1.1\r\nHost: x\r\n\r\n" },
        { "target with control byte", "GET /a\u0001b HTTP/1.1\r\nHost: x\r\n\r\n" },
        { "target with DEL", "GET /a\u007fb HTTP/1.1\r\nHost: x\r\n\r\n" },
        { "target with fragment", "GET /a#frag HTTP/1.1\r\nHost: x\r\n\r\n" },
        { "target without slash", "GET a HTTP/1.1\r\nHost: x\r\n\r\n" },
        { "absolute target with userinfo", "GET http://u@x/a HTTP/1.1\r\nHost: x\r\n\r\n" },
        { "absolute target of another scheme", "GET ftp://x/a HTTP/1.1\r\nHost: x\r\n\r\n" },
        { "asterisk with GET", "GET * HTTP/1.1\r\nHost: x\r\n\r\n" },
        // RFC 9112 section 2.3 lets a server process 1.2 as 1.1 (SHOULD); FastGate refuses every version
        // it does not implement with 400 instead, which the RFC allows for an invalid request line.
        { "version HTTP/1.2", "GET /a HTTP/1.2\r\nHost: x\r\n\r\n" },
        { "version HTTP/2.0", "GET /a HTTP/2.0\r\nHost: x\r\n\r\n" },
        { "version HTTX/1.1", "GET /a HTTX/1.1\r\nHost: x\r\n\r\n" },
        { "version http/1.1", "GET /a http/1.1\r\nHost: x\r\n\r\n" },
        { "version HTTP/1.10", "GET /a HTTP/1.10\r\nHost: x\r\n\r\n" },
        { "version with trailing space", "GET /a HTTP/1.1 \r\nHost: x\r\n\r\n" },
        { "no version", "GET /a\r\nHost: x\r\n\r\n" },
    };

    [Theory]
    [MemberData(nameof(MalformedRequests))]
    public async Task Malformed_request_is_a_400_closes_and_reaches_no_upstream(string name, string request)
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var connection = gateway.Connect();

        connection.Send(request);
        var response = connection.ReadResponse();

        ProblemAssert.Is(response, 400, "malformed-request", close: true);
        Assert.True(connection.IsClosedByPeer(), name + ": connection left open");
        Assert.Equal(0, backend.Requests);
        Assert.Equal(0, backend.Connections);
    }

    [Fact]
    public async Task Rejection_after_a_good_request_still_closes_and_forwards_nothing_more()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var connection = gateway.Connect();

        // A pipelined smuggling attempt behind a sound request: the first is answered, the second refused.
        connection.Send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
        var first = connection.ReadResponse();
        var second = connection.ReadResponse();

        Assert.Equal(200, first.Status);
        Assert.Equal("GET /ok", first.BodyText);
        ProblemAssert.Is(second, 400, "malformed-request", close: true);
        Assert.True(connection.IsClosedByPeer());
        Assert.Equal(1, backend.Requests);
        Assert.Equal("/ok", Assert.Single(backend.Seen).PathAndQuery);
    }

    [Theory]
    [InlineData("/api/../../admin")]
    [InlineData("/%2E%2E/admin")]
    [InlineData("/a/%00")]
    [InlineData("/a\\..\\b")]
    [InlineData("/a/%zz")]
    public async Task Unsafe_path_is_a_400_and_reaches_no_upstream(string path)
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var connection = gateway.Connect();

        connection.Send($"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = connection.ReadResponse();

        ProblemAssert.Is(response, 400, "unsafe-path", close: true);
        Assert.True(connection.IsClosedByPeer());
        Assert.Equal(0, backend.Requests);
        Assert.Equal(0, backend.Connections);
    }
}
