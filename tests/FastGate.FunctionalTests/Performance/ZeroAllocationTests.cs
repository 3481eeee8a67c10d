using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using FastGate.FunctionalTests.Infrastructure;
using FastGate.Gateway.Configuration;
using FastGate.Gateway.Pipeline;
using FastGate.Gateway.Server;
using Microsoft.AspNetCore.Connections;

namespace FastGate.FunctionalTests.Performance;

/// <summary>
/// The steady-state HTTP/1.1 keep-alive proxy path allocates nothing per request: requests go
/// through the real connection handler (over in-memory pipes on the client side) to a real upstream
/// socket, and the process's allocated bytes are counted around many of them after a warm-up.
/// </summary>
[Collection(nameof(AllocationCounting))]
public sealed class ZeroAllocationTests
{
    private static readonly byte[] UpstreamResponse = Encoding.ASCII.GetBytes(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 128\r\n\r\n" + new string('x', 128));

    private static readonly byte[] ClientRequest = Encoding.ASCII.GetBytes(
        "GET /api/users/42?expand=orders HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: test\r\nAccept: */*\r\n\r\n");

#if DEBUG
    [Fact(Skip = "Debug builds compile async state machines as classes; this runs in Release (scripts/test.sh)")]
#else
    [Fact]
#endif
    public async Task Keep_alive_proxy_path_allocates_nothing_per_request()
    {
        using var upstream = new FixedResponseUpstream(UpstreamResponse);
        var result = GatewayConfigLoader.LoadText($$"""
            [server]
            listen = ["127.0.0.1:1"]

            [upstreams.users]
            endpoints = ["127.0.0.1:{{upstream.Port}}"]

            [[routes]]
            name = "users"
            match = { path = "/api/users/{id}", methods = ["GET"] }
            upstream = "users"
            rewrite = "/users/{id}"
            """, "alloc.toml");
        await using var runtime = new GatewayRuntime(result.Model ?? throw new InvalidOperationException(string.Join('\n', result.Errors)));

        var toGateway = new Pipe(new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
        var fromGateway = new Pipe(new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
        var context = new DefaultConnectionContext("alloc", new DuplexPipe(toGateway.Reader, fromGateway.Writer), new DuplexPipe(fromGateway.Reader, toGateway.Writer))
        {
            RemoteEndPoint = new IPEndPoint(IPAddress.Parse("203.0.113.9"), 40000),
        };
        var connection = new Http1Connection(runtime, context);
        var running = connection.RunAsync();

        int responseLength = await ExchangeAsync(toGateway.Writer, fromGateway.Reader, 0);
        Assert.True(responseLength > 128);
        // Warm up until tiered compilation has promoted the hot methods, and let its background
        // compilations finish, so that what is measured is the steady state.
        await RunAsync(toGateway.Writer, fromGateway.Reader, 10_000, responseLength);
        await Task.Delay(1_000);
        await RunAsync(toGateway.Writer, fromGateway.Reader, 1_000, responseLength);

        // Three windows; the quietest counts. Per-request allocations show in every window; background
        // runtime work (tiered compilation, timers, other tests' threads) shows in some.
        const int Measured = 10_000;
        long allocated = long.MaxValue;
        for (int window = 0; window < 3; window++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            await RunAsync(toGateway.Writer, fromGateway.Reader, Measured, responseLength);
            allocated = Math.Min(allocated, GC.GetTotalAllocatedBytes(precise: true) - before);
        }

        await toGateway.Writer.CompleteAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(5));

        // A per-request allocation would show as at least 24 bytes x 10,000.
        Assert.True(allocated < Measured, $"{allocated} bytes allocated over {Measured} requests ({(double)allocated / Measured:F2} B/request)");
    }

    private static async Task RunAsync(PipeWriter requests, PipeReader responses, int count, int responseLength)
    {
        for (int i = 0; i < count; i++)
        {
            await ExchangeAsync(requests, responses, responseLength);
        }
    }

    /// <summary>Sends one request and reads one response of the known length (or any, when 0).</summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<int> ExchangeAsync(PipeWriter requests, PipeReader responses, int responseLength)
    {
        requests.Write(ClientRequest);
        await requests.FlushAsync();
        while (true)
        {
            var read = await responses.ReadAsync();
            var buffer = read.Buffer;
            int length = responseLength > 0 ? responseLength : LengthOfFirstResponse(buffer);
            if (length > 0 && buffer.Length >= length)
            {
                responses.AdvanceTo(buffer.GetPosition(length));
                return length;
            }

            if (read.IsCompleted)
            {
                throw new InvalidOperationException("the gateway closed the connection");
            }

            responses.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static int LengthOfFirstResponse(ReadOnlySequence<byte> buffer)
    {
        var bytes = buffer.ToArray();
        int headEnd = bytes.AsSpan().IndexOf("\r\n\r\n"u8);
        if (headEnd < 0)
        {
            return 0;
        }

        var head = Encoding.ASCII.GetString(bytes, 0, headEnd);
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", head, StringComparison.Ordinal);
        return headEnd + 4 + 128;
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}

[CollectionDefinition(nameof(AllocationCounting), DisableParallelization = true)]
public sealed class AllocationCounting;
