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
        int responseLength = 0;
        await AssertAllocatesNothingPerRequestAsync(
            "alloc",
            (runtime, context) => new Http1Connection(runtime, context).RunAsync(),
            async (requests, responses) =>
            {
                responseLength = await ExchangeAsync(requests, responses, 0);
                Assert.True(responseLength > 128);
            },
            (requests, responses, count) => RunAsync(requests, responses, count, responseLength));
    }

    // HEADERS block: :method GET, :scheme http (indexed), :path and :authority as literals without
    // indexing, so every request sends the same bytes.
    private static readonly byte[] H2RequestBlock =
    [
        0x82, 0x86,
        0x04, .. new[] { (byte)"/api/users/42?expand=orders".Length }, .. Encoding.ASCII.GetBytes("/api/users/42?expand=orders"),
        0x01, .. new[] { (byte)"api.example.com".Length }, .. Encoding.ASCII.GetBytes("api.example.com"),
    ];

#if DEBUG
    [Fact(Skip = "Debug builds compile async state machines as classes; this runs in Release (scripts/test.sh)")]
#else
    [Fact]
#endif
    public async Task H2c_proxy_path_allocates_nothing_per_request_once_the_connection_is_warm()
    {
        var frame = new byte[9 + H2RequestBlock.Length];
        H2RequestBlock.CopyTo(frame, 9);
        int streamId = 1;
        await AssertAllocatesNothingPerRequestAsync(
            "alloc-h2",
            (runtime, context) => new Http2Connection(runtime, context).RunAsync(),
            async (requests, _) =>
            {
                // Preface, empty SETTINGS, and a connection window (2^30) that the measured requests never use up.
                requests.Write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8);
                requests.Write(new byte[] { 0, 0, 0, 4, 0, 0, 0, 0, 0 });
                requests.Write(new byte[] { 0, 0, 4, 8, 0, 0, 0, 0, 0, 0x40, 0, 0, 0 });
                await requests.FlushAsync();
            },
            async (requests, responses, count) =>
            {
                await RunH2Async(requests, responses, frame, count, streamId);
                streamId += 2 * count;
            });
    }

    /// <summary>
    /// Runs one client connection through the gateway to a fixed-answer upstream: <paramref name="open"/>
    /// starts it, <paramref name="run"/> sends a number of requests and reads their answers. After a
    /// warm-up, the process's allocated bytes are counted around three windows of requests; the quietest
    /// counts, and must be under one byte per request.
    /// </summary>
    private static async Task AssertAllocatesNothingPerRequestAsync(
        string connectionId,
        Func<GatewayRuntime, ConnectionContext, Task> serve,
        Func<PipeWriter, PipeReader, Task> open,
        Func<PipeWriter, PipeReader, int, Task> run)
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
        var context = new DefaultConnectionContext(connectionId, new DuplexPipe(toGateway.Reader, fromGateway.Writer), new DuplexPipe(fromGateway.Reader, toGateway.Writer))
        {
            RemoteEndPoint = new IPEndPoint(IPAddress.Parse("203.0.113.9"), 40000),
        };
        var running = serve(runtime, context);
        await open(toGateway.Writer, fromGateway.Reader);

        // Warm up until tiered compilation has promoted the hot methods, and let its background
        // compilations finish, so that what is measured is the steady state.
        await run(toGateway.Writer, fromGateway.Reader, 10_000);
        await Task.Delay(1_000);
        await run(toGateway.Writer, fromGateway.Reader, 1_000);

        // Three windows; the quietest counts. Per-request allocations show in every window; background
        // runtime work (tiered compilation, timers, other tests' threads) shows in some.
        const int Measured = 10_000;
        long allocated = long.MaxValue;
        for (int window = 0; window < 3; window++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            await run(toGateway.Writer, fromGateway.Reader, Measured);
            allocated = Math.Min(allocated, GC.GetTotalAllocatedBytes(precise: true) - before);
        }

        await toGateway.Writer.CompleteAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(5));

        // A per-request allocation would show as at least 24 bytes x 10,000.
        Assert.True(allocated < Measured, $"{allocated} bytes allocated over {Measured} requests ({(double)allocated / Measured:F2} B/request)");
    }

    /// <summary>One stream after another: HEADERS with END_STREAM, then frames until the DATA that ends it.</summary>
    private static async Task RunH2Async(PipeWriter requests, PipeReader responses, byte[] frame, int count, int firstStreamId)
    {
        int streamId = firstStreamId;
        for (int i = 0; i < count; i++, streamId += 2)
        {
            new FastGate.Protocols.Http2.Http2FrameHeader(frame.Length - 9, FastGate.Protocols.Http2.Http2FrameType.Headers,
                FastGate.Protocols.Http2.Http2Flags.EndHeaders | FastGate.Protocols.Http2.Http2Flags.EndStream, streamId).Write(frame);
            requests.Write(frame);
            await requests.FlushAsync();
            await ReadStreamEndAsync(responses, streamId);
        }
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask ReadStreamEndAsync(PipeReader responses, int streamId)
    {
        while (true)
        {
            var read = await responses.ReadAsync();
            var buffer = read.Buffer;
            bool ended = false;
            while (!ended && TryTakeFrame(ref buffer, streamId, out ended))
            {
            }

            if (read.IsCompleted && !ended)
            {
                throw new InvalidOperationException("the gateway closed the connection: " + Convert.ToHexString(read.Buffer.ToArray()));
            }

            responses.AdvanceTo(buffer.Start, buffer.End);
            if (ended)
            {
                return;
            }

            if (read.IsCompleted)
            {
                throw new InvalidOperationException("the gateway closed the connection");
            }
        }
    }

    private static bool TryTakeFrame(ref ReadOnlySequence<byte> buffer, int streamId, out bool ended)
    {
        ended = false;
        if (buffer.Length < 9)
        {
            return false;
        }

        Span<byte> head = stackalloc byte[9];
        buffer.Slice(0, 9).CopyTo(head);
        var header = FastGate.Protocols.Http2.Http2FrameHeader.Read(head);
        if (buffer.Length < 9 + header.Length)
        {
            return false;
        }

        if (header.Type == FastGate.Protocols.Http2.Http2FrameType.GoAway)
        {
            throw new InvalidOperationException("GOAWAY " + Convert.ToHexString(buffer.Slice(9, header.Length).ToArray()));
        }

        buffer = buffer.Slice(9 + header.Length);
        if (header.Type == FastGate.Protocols.Http2.Http2FrameType.Data)
        {
            ended = header.StreamId == streamId && header.HasFlag(FastGate.Protocols.Http2.Http2Flags.EndStream);
        }

        return true;
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
