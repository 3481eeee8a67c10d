using System.Net;
using System.Text;
using FastGate.FunctionalTests.Infrastructure;
using FastGate.Protocols.Http2;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FastGate.FunctionalTests.Proxy;

/// <summary>
/// Trailer fields (RFC 9110 section 6.5) travel both ways: a chunked request's trailer section reaches a
/// chunked upstream request, an upstream's chunked trailer section reaches the client (chunked for
/// HTTP/1.1, a trailing HEADERS block for HTTP/2, RFC 9113 section 8.1). Interim answers (1xx, RFC 9110
/// section 15.2) other than 100 reach an HTTP/2 client as HEADERS before the final ones.
/// </summary>
public sealed class TrailersAndInterimTests
{
    private const string ChunkedWithTrailers =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc123\r\nGrpc-Status: 0\r\nConnection: close\r\n\r\n";

    private static Task<TestBackend> TrailerEchoBackend() => TestBackend.StartAsync(app => app.MapPost("/upload", async (HttpContext context) =>
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        string checksum = context.Request.CheckTrailersAvailable() ? context.Request.GetTrailer("X-Checksum").ToString() : "(none)";
        return $"{Encoding.ASCII.GetString(body.ToArray())} checksum={checksum}";
    }));

    private static Task<TestGateway> StartAsync(RawUpstream upstream) => TestGateway.StartAsync($$"""
        [upstreams.raw]
        endpoints = ["{{upstream.Address}}"]

        [[routes]]
        name = "all"
        match = { path = "/{*rest}" }
        upstream = "raw"
        """);

    [Fact]
    public async Task Http11_request_trailers_reach_the_upstream()
    {
        await using var backend = await TrailerEchoBackend();
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var connection = gateway.Connect();

        connection.Send("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
            + "5\r\nhello\r\n0\r\nX-Checksum: abc123\r\n\r\n");
        var response = connection.ReadResponse();

        Assert.Equal(200, response.Status);
        Assert.Equal("hello checksum=abc123", response.BodyText);
    }

    [Fact]
    public async Task Http11_response_trailers_reach_the_client_after_the_last_chunk_without_connection_fields()
    {
        await using var upstream = RawUpstream.Answering(ChunkedWithTrailers);
        await using var gateway = await StartAsync(upstream);
        using var connection = gateway.Connect();

        connection.Send("GET /t HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = connection.ReadResponse();

        Assert.Equal(200, response.Status);
        Assert.Equal("hello world", response.BodyText);
        // Connection is connection-specific: it stays behind, in trailers as in headers.
        Assert.Equal(["X-Checksum: abc123", "Grpc-Status: 0"], response.TrailerLines);
    }

    [Fact]
    public async Task Http2_response_trailers_become_a_trailing_headers_block_without_connection_fields()
    {
        await using var upstream = RawUpstream.Answering(ChunkedWithTrailers);
        await using var gateway = await StartAsync(upstream);
        using var client = H2RawClient.Connect(gateway.Port);

        client.SendHeaders(1, H2RawClient.Get("/t"));
        var response = client.ReadResponse(1);

        Assert.Equal(200, response.Status);
        Assert.Equal("hello world", response.BodyText);
        Assert.Equal(
            [new("x-checksum", "abc123"), new("grpc-status", "0")],
            response.Trailers);

        // HttpClient, a real client, sees them as trailing headers too.
        using var http = new HttpClient
        {
            BaseAddress = gateway.BaseUri,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var answer = await http.GetAsync("/t");
        Assert.Equal("hello world", await answer.Content.ReadAsStringAsync());
        Assert.Equal("abc123", Assert.Single(answer.TrailingHeaders.GetValues("X-Checksum")));
    }

    [Fact]
    public async Task Http2_request_trailers_reach_a_chunked_upstream_request()
    {
        await using var backend = await TrailerEchoBackend();
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var client = H2RawClient.Connect(gateway.Port);

        client.SendHeaders(1, [(":method", "POST"), (":scheme", "http"), (":authority", "a"), (":path", "/upload")], endStream: false);
        client.SendData(1, "hello"u8.ToArray(), endStream: false);
        client.SendHeaders(1, [("x-checksum", "abc123")], endStream: true);
        var response = client.ReadResponse(1);

        Assert.Equal(200, response.Status);
        Assert.Equal("hello checksum=abc123", response.BodyText);
    }

    [Fact]
    public async Task Http2_client_gets_an_interim_103_as_headers_before_the_final_answer_and_never_a_100()
    {
        await using var upstream = RawUpstream.Answering(
            "HTTP/1.1 100 Continue\r\n\r\n"
            + "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        await using var gateway = await StartAsync(upstream);
        using var client = H2RawClient.Connect(gateway.Port);

        client.SendHeaders(1, H2RawClient.Get("/hints"));
        var response = client.ReadResponse(1);

        var interim = Assert.Single(response.Interim);
        Assert.Equal([new(":status", "103"), new("link", "</style.css>; rel=preload")], interim);
        Assert.Equal(200, response.Status);
        Assert.Equal("ok", response.BodyText);
    }
}
