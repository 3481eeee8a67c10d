using System.Net;
using System.Net.Sockets;
using System.Text;
using FastGate.FunctionalTests.Infrastructure;
using FastGate.Server.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FastGate.FunctionalTests.Server.Transport;

/// <summary>
/// The gateway over each transport, on the cases where a transport differs: keep-alive, pipelining,
/// bodies larger than every buffer, a client that half-closes or vanishes mid-body, many connections.
/// Every case runs over both, so the epoll transport is held to what the sockets transport does.
/// </summary>
public sealed class EpollTransportTests
{
    /// <summary>Transport names (the test runner's theory data must be public, the enum is internal).</summary>
    public static TheoryData<string> Transports => OperatingSystem.IsLinux()
        ? new TheoryData<string> { nameof(GatewayTransport.Sockets), nameof(GatewayTransport.Epoll) }
        : new TheoryData<string> { nameof(GatewayTransport.Sockets) };

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Keep_alive_requests_share_one_client_connection(string transport)
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await StartGatewayAsync(transport, backend);
        using var connection = gateway.Connect();

        for (int i = 0; i < 50; i++)
        {
            connection.Send($"GET /k/{i} HTTP/1.1\r\nHost: x\r\n\r\n");
            var response = connection.ReadResponse();
            Assert.Equal(200, response.Status);
            Assert.Equal($"GET /k/{i}", response.BodyText);
        }

        Assert.Equal(transport, gateway.Host.Transport.ToString());
        // Kestrel really bound with the epoll factory: it accepted this one connection.
        Assert.Equal(transport == nameof(GatewayTransport.Epoll) ? 1 : 0, gateway.Host.EpollConnectionsAccepted);
        // The upstream connection ran on the epoll loops too, on the client connection's own loop: the
        // handler moved there before it read the first request.
        var expected = transport == nameof(GatewayTransport.Epoll) ? 1 : 0;
        Assert.Equal((expected, expected), gateway.Host.EpollUpstreamConnections);
        Assert.Equal(1, backend.Connections);
        Assert.Equal(50, backend.Requests);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Pipelined_requests_in_one_write_are_answered_in_order(string transport)
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await StartGatewayAsync(transport, backend);
        using var connection = gateway.Connect();

        var requests = new StringBuilder();
        for (int i = 0; i < 20; i++)
        {
            requests.Append($"GET /p/{i} HTTP/1.1\r\nHost: x\r\n\r\n");
        }

        requests.Append("POST /p/body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
        connection.Send(requests.ToString());

        for (int i = 0; i < 20; i++)
        {
            var response = connection.ReadResponse();
            Assert.Equal(200, response.Status);
            Assert.Equal($"GET /p/{i}", response.BodyText);
        }

        var last = connection.ReadResponse();
        Assert.Equal("POST /p/body", last.BodyText);
        Assert.Equal("hello", Encoding.ASCII.GetString(backend.Seen.Last().Body));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_1_MiB_request_body_and_response_body_cross_intact(string transport)
    {
        await using var backend = await StartBodyBackendAsync();
        await using var gateway = await StartGatewayAsync(transport, backend);
        using var client = gateway.CreateClient();
        var body = Pattern(1024 * 1024, seed: 3);

        using var response = await client.PostAsync("/echo", new ByteArrayContent(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_large_response_waits_for_a_client_that_reads_late(string transport)
    {
        // 16 MiB is more than the loopback socket buffers hold: the gateway's sends meet a full
        // buffer and must wait until the client reads.
        const int size = 16 * 1024 * 1024;
        await using var backend = await StartBodyBackendAsync();
        await using var gateway = await StartGatewayAsync(transport, backend);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, gateway.Port));
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET /big/{size} HTTP/1.1\r\nHost: x\r\n\r\n"));

        await Task.Delay(500);
        var received = await ReadResponseBodyAsync(socket, size);

        Assert.Equal(Pattern(size, seed: 5), received);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_client_that_half_closes_after_its_request_gets_the_response_then_a_close(string transport)
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await StartGatewayAsync(transport, backend);
        using var connection = gateway.Connect();

        connection.Send("GET /half HTTP/1.1\r\nHost: x\r\n\r\n");
        connection.ShutdownSend();
        var response = connection.ReadResponse();

        Assert.Equal(200, response.Status);
        Assert.Equal("GET /half", response.BodyText);
        Assert.True(connection.IsClosedByPeer());
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_client_that_resets_mid_body_leaves_the_gateway_serving(string transport)
    {
        await using var backend = await StartBodyBackendAsync();
        await using var gateway = await StartGatewayAsync(transport, backend);
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, gateway.Port));
            await socket.SendAsync(Encoding.ASCII.GetBytes("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n"));
            await socket.SendAsync(Pattern(100 * 1024, seed: 1));
            await Task.Delay(100);
            // SO_LINGER 0: close sends a reset (RFC 9293 section 3.10.7.1 on abort).
            socket.LingerState = new LingerOption(true, 0);
        }

        using var client = gateway.CreateClient();
        using var after = await client.PostAsync("/echo", new ByteArrayContent(Pattern(1000, seed: 2)));
        Assert.Equal(Pattern(1000, seed: 2), await after.Content.ReadAsByteArrayAsync());
        client.Dispose();
        // Every connection ends: the reset one and the client's, once it closed.
        await WaitUntilAsync(() => gateway.Host.Runtime.Metrics.ActiveConnections == 0);
        Assert.Equal(0, gateway.Host.Runtime.Metrics.ActiveConnections);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Many_concurrent_connections_each_get_their_own_answers(string transport)
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await StartGatewayAsync(transport, backend);

        // Async clients, one connection each: 200 blocked threads would starve the in-process servers.
        var clients = Enumerable.Range(0, 200).Select(async c =>
        {
            using var client = gateway.CreateClient();
            for (int i = 0; i < 5; i++)
            {
                Assert.Equal($"GET /c/{c}/{i}", await client.GetStringAsync($"/c/{c}/{i}"));
            }
        }).ToArray();
        await Task.WhenAll(clients);

        Assert.Equal(1000, backend.Requests);
        await WaitUntilAsync(() => gateway.Host.Runtime.Metrics.ActiveConnections == 0);
        Assert.Equal(0, gateway.Host.Runtime.Metrics.ActiveConnections);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task The_admin_api_answers_over_the_same_transport(string transport)
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await StartGatewayAsync(transport, backend);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{gateway.AdminPort}") };

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
    }

    private static Task<TestGateway> StartGatewayAsync(string transport, TestBackend backend) =>
        TestGateway.StartAsync(TestGateway.ProxyRoutes([backend]), transport: Enum.Parse<GatewayTransport>(transport));

    /// <summary>/echo answers the request body; /big/{n} answers n bytes of <see cref="Pattern"/> (seed 5).</summary>
    private static Task<TestBackend> StartBodyBackendAsync() => TestBackend.StartAsync(app =>
    {
        app.MapPost("/echo", async (HttpContext context) =>
        {
            context.Response.ContentType = "application/octet-stream";
            await context.Request.Body.CopyToAsync(context.Response.Body);
        });
        app.MapGet("/big/{size:int}", async (HttpContext context, int size) =>
        {
            context.Response.ContentLength = size;
            await context.Response.Body.WriteAsync(Pattern(size, seed: 5));
        });
    });

    private static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)((i * 31 + seed + (i >> 12)) % 251);
        }

        return bytes;
    }

    /// <summary>Reads one response with a Content-Length body of <paramref name="length"/> bytes and returns the body.</summary>
    private static async Task<byte[]> ReadResponseBodyAsync(Socket socket, int length)
    {
        var buffer = new byte[length + 4096];
        int filled = 0;
        int bodyStart = -1;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (bodyStart < 0 || filled - bodyStart < length)
        {
            int read = await socket.ReceiveAsync(buffer.AsMemory(filled), timeout.Token);
            Assert.NotEqual(0, read);
            filled += read;
            if (bodyStart < 0)
            {
                int end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
                if (end >= 0)
                {
                    var head = Encoding.ASCII.GetString(buffer, 0, end);
                    Assert.StartsWith("HTTP/1.1 200 ", head, StringComparison.Ordinal);
                    Assert.Contains($"Content-Length: {length}", head, StringComparison.OrdinalIgnoreCase);
                    bodyStart = end + 4;
                }
            }
        }

        Assert.Equal(bodyStart + length, filled);
        return buffer.AsSpan(bodyStart, length).ToArray();
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (int i = 0; i < 100 && !condition(); i++)
        {
            await Task.Delay(50);
        }
    }
}
