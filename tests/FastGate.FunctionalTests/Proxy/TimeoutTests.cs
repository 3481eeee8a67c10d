using System.Diagnostics;
using FastGate.FunctionalTests.Infrastructure;

namespace FastGate.FunctionalTests.Proxy;

/// <summary>Issue 2, point 3: slow or silent clients cannot hold connections.</summary>
public sealed class TimeoutTests
{
    private const string ShortTimeouts = """
        [limits]
        request_head_timeout = "1s"
        idle_timeout = "1s"
        """;

    [Fact]
    public async Task Half_a_head_then_silence_is_a_408_after_request_head_timeout()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.ProxyRoutes([backend]), limits: ShortTimeouts);
        using var connection = gateway.Connect();
        var clock = Stopwatch.StartNew();

        connection.Send("GET /a HTTP/1.1\r\nHost: x\r\nX-Slow: ");
        var response = connection.ReadResponse();

        Assert.InRange(clock.ElapsedMilliseconds, 900, 2000);
        ProblemAssert.Is(response, 408, "request-timeout", close: true);
        Assert.True(connection.IsClosedByPeer());
        Assert.Equal(0, backend.Connections);
    }

    [Fact]
    public async Task A_head_trickled_byte_by_byte_still_times_out()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.ProxyRoutes([backend]), limits: ShortTimeouts);
        using var connection = gateway.Connect();
        var clock = Stopwatch.StartNew();

        // Each byte arrives well within any per-read timeout; the head as a whole does not.
        var head = "GET /a HTTP/1.1\r\nHost: x\r\nX-Slow: " + new string('s', 100);
        int sent = 0;
        while (sent < head.Length && clock.ElapsedMilliseconds < 1800)
        {
            try
            {
                connection.Send(head[sent].ToString());
            }
            catch (System.Net.Sockets.SocketException)
            {
                // The gateway gave up on the head and closed; the 408 may be lost to the reset.
                break;
            }

            sent++;
            await Task.Delay(50);
        }

        Assert.True(sent < head.Length, "the whole head was accepted at " + clock.ElapsedMilliseconds + " ms");
        RawResponse? response = null;
        try
        {
            response = connection.ReadResponse();
        }
        catch (EndOfStreamException)
        {
        }

        if (response is not null)
        {
            ProblemAssert.Is(response, 408, "request-timeout", close: true);
        }

        Assert.True(connection.IsClosedByPeer());
        Assert.InRange(clock.ElapsedMilliseconds, 900, 2500);
        Assert.Equal(0, backend.Connections);
    }

    [Fact]
    public async Task A_connection_that_sends_nothing_is_closed_after_request_head_timeout()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.ProxyRoutes([backend]), limits: ShortTimeouts);
        using var connection = gateway.Connect();
        var clock = Stopwatch.StartNew();

        Assert.True(connection.IsClosedByPeer(2500));
        Assert.InRange(clock.ElapsedMilliseconds, 900, 2500);
    }

    [Fact]
    public async Task Idle_keep_alive_connection_is_closed_after_idle_timeout()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.ProxyRoutes([backend]), limits: ShortTimeouts);
        using var connection = gateway.Connect();

        connection.Send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = connection.ReadResponse();
        var clock = Stopwatch.StartNew();

        Assert.Equal(200, response.Status);
        Assert.Null(response.Header("Connection"));
        // Idle between requests: closed quietly, without a 408 (RFC 9112 section 9.5).
        Assert.True(connection.IsClosedByPeer(2500));
        Assert.InRange(clock.ElapsedMilliseconds, 800, 2500);
    }

    [Fact]
    public async Task Keep_alive_connection_used_within_idle_timeout_stays_open()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartAsync(TestGateway.ProxyRoutes([backend]), limits: ShortTimeouts);
        using var connection = gateway.Connect();

        // Each gap is well inside the 1 s idle timeout (with room for a busy machine); together they
        // outlast it, so a timer that is not reset per request would close the connection.
        for (int i = 0; i < 5; i++)
        {
            connection.Send($"GET /r{i} HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.Equal($"GET /r{i}", connection.ReadResponse().BodyText);
            await Task.Delay(300);
        }
    }
}
