using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using FastGate.Gateway.Transport;

namespace FastGate.Gateway.Upstream;

/// <summary>
/// One pooled TCP connection to an endpoint, read through <see cref="Input"/> and written through
/// <see cref="Output"/>, both allocated once per connection, so an exchange on a reused connection
/// allocates nothing. With the epoll transport they are the reader and writer of an
/// <see cref="UpstreamEpollPump"/> on one of its loops (chosen once at start-up, by the registry's loop
/// group), which recv and send in the gateway's own calls; otherwise two loops of System.Net.Sockets
/// operations pump the socket through pipes for the life of the connection (as Kestrel's socket
/// transport does).
/// </summary>
/// <remarks>
/// NOTE: a NetworkStream with PipeReader.Create/PipeWriter.Create was the first version. The stream
/// reader's internal async method rents a pooled box per suspended read; with many connections in
/// flight the runtime's small per-core cache runs dry and every read allocated (seen with dotnet-trace).
/// </remarks>
internal sealed class UpstreamConnection : IAsyncDisposable
{
    // Most upstream heads and small bodies fit in one 4 KiB segment; a read that fills its buffer
    // means a large body is streaming, and the next read asks for 32 KiB so that a 64 KiB body takes
    // a few system calls instead of sixteen (measured in perf-results/).
    private const int SegmentSize = 4096;
    private const int LargeReadSize = 32 * 1024;

    // Bytes flushed as several pipe segments are gathered into one send up to this size.
    private const int MaxGatheredSend = 64 * 1024;

    // Inline scheduling: the gateway's own continuations never block, so running them on the socket's
    // completion thread saves a thread-pool hop per read and per send (as Kestrel's
    // UnsafePreferInlineScheduling does on the client side).
    private static readonly PipeOptions ReceiveOptions = new(
        readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024, minimumSegmentSize: SegmentSize, useSynchronizationContext: false);

    private static readonly PipeOptions SendOptions = new(
        readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024, minimumSegmentSize: SegmentSize, useSynchronizationContext: false);

    // The System.Net.Sockets path's pipes; with an epoll pump the input and output are its
    // EpollSocketReader and EpollSocketWriter.
    private readonly Pipe? _receive;
    private readonly Pipe? _send;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly UpstreamEpollPump? _pump;
    private int _closed;

    public UpstreamConnection(Socket socket, EndpointState endpoint)
        : this(socket, endpoint, endpoint.Pool, pump: null, blocks: null)
    {
    }

    /// <param name="pump">a connected socket's epoll pump, or null to pump it with System.Net.Sockets</param>
    /// <param name="blocks">the epoll loops' block pool (pinned arrays: no pinning per send); with <paramref name="pump"/></param>
    internal UpstreamConnection(Socket socket, EndpointState endpoint, ConnectionPool pool, UpstreamEpollPump? pump, EpollBlockPool? blocks)
    {
        Socket = socket;
        Endpoint = endpoint;
        Pool = pool;
        socket.NoDelay = true;
        if (pump is null)
        {
            _receive = new Pipe(ReceiveOptions);
            _send = new Pipe(SendOptions);
            _input = _receive.Reader;
            _output = _send.Writer;
            _ = ReceiveLoopAsync(_receive.Writer);
            _ = SendLoopAsync(_send.Reader);
            return;
        }

        // The gateway recvs in its own reads (a read that waits resumes on the pump's loop) and sends in
        // its own flushes.
        ArgumentNullException.ThrowIfNull(blocks);
        _pump = pump;
        (_input, _output) = pump.Start(blocks);
    }

    public Socket Socket { get; }
    public EndpointState Endpoint { get; }
    public PipeReader Input => _input;
    public PipeWriter Output => _output;

    /// <summary>The epoll loop that pumps this connection; null when System.Net.Sockets does.</summary>
    internal EpollLoop? Loop => _pump?.Loop;

    /// <summary>The pool this connection counts against (an endpoint may swap pools on reload).</summary>
    internal ConnectionPool Pool { get; }

    /// <summary>True when this lease came from the idle set (a stale socket may fail: safe to retry).</summary>
    public bool IsReused { get; set; }

    /// <summary>How many times this connection was leased again from the idle set.</summary>
    public int ReusedCount { get; internal set; }

    /// <summary><see cref="Environment.TickCount64"/> when it last went idle.</summary>
    public long LastReturnedTimestamp { get; internal set; }

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    private async Task ReceiveLoopAsync(PipeWriter writer)
    {
        try
        {
            int readSize = SegmentSize;
            while (true)
            {
                var memory = writer.GetMemory(readSize);
                int received = await Socket.ReceiveAsync(memory, SocketFlags.None).ConfigureAwait(false);
                if (received == 0)
                {
                    break;
                }

                readSize = received == memory.Length ? LargeReadSize : SegmentSize;
                writer.Advance(received);
                var flush = await writer.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // A reset or a close: the reader sees the end of the stream, which every caller treats as
            // a failed (never a complete) exchange.
        }
        finally
        {
            await writer.CompleteAsync().ConfigureAwait(false);
        }
    }

    private async Task SendLoopAsync(PipeReader reader)
    {
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                if (result.IsCanceled)
                {
                    break;
                }

                if (buffer.IsSingleSegment)
                {
                    // A stream socket's SendAsync completes once every byte is sent.
                    await Socket.SendAsync(buffer.First, SocketFlags.None).ConfigureAwait(false);
                }
                else if (buffer.Length <= MaxGatheredSend)
                {
                    // One system call instead of one per segment: a copy of up to 64 KiB costs less.
                    var gathered = ArrayPool<byte>.Shared.Rent((int)buffer.Length);
                    try
                    {
                        buffer.CopyTo(gathered);
                        await Socket.SendAsync(gathered.AsMemory(0, (int)buffer.Length), SocketFlags.None).ConfigureAwait(false);
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(gathered);
                    }
                }
                else
                {
                    foreach (var segment in buffer)
                    {
                        await Socket.SendAsync(segment, SocketFlags.None).ConfigureAwait(false);
                    }
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // The writer's next flush reports IsCompleted: the request could not be sent.
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Closes the socket first, so neither loop can block on a peer that stopped reading.</summary>
    internal void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        if (_pump is not null)
        {
            _pump.Close();
        }
        else
        {
            try
            {
                // A FIN, not a reset: disposing a socket with a receive pending aborts it on Linux.
                Socket.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
                // Already reset by the peer.
            }

            Socket.Dispose();
        }

        _send?.Reader.CancelPendingRead();
        try
        {
            Output.Complete();
        }
        catch (InvalidOperationException)
        {
            // A flush in progress on a discarded connection: it ends with the socket.
        }

        Input.Complete();
    }

    public ValueTask DisposeAsync()
    {
        Close();
        return ValueTask.CompletedTask;
    }
}
