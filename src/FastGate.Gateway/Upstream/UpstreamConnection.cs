using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;

namespace FastGate.Gateway.Upstream;

/// <summary>One pooled TCP connection to an endpoint, with its pipes (allocated once per connection).</summary>
internal sealed class UpstreamConnection : IAsyncDisposable
{
    // Small segments: most upstream heads fit in 4 KiB, and a keep-alive connection holds no buffer
    // while idle because reads start with a zero-byte read (the YARP copier habit). MemoryPool<byte>.Shared
    // is special-cased by the stream pipes to rent straight from ArrayPool (no wrapper object per segment).
    private const int SegmentSize = 4096;

    private static readonly StreamPipeReaderOptions ReaderOptions = new(
        pool: MemoryPool<byte>.Shared, bufferSize: SegmentSize, minimumReadSize: 1024, leaveOpen: true, useZeroByteReads: true);

    private static readonly StreamPipeWriterOptions WriterOptions = new(
        pool: MemoryPool<byte>.Shared, minimumBufferSize: SegmentSize, leaveOpen: true);

    private readonly NetworkStream _stream;
    private int _closed;

    public UpstreamConnection(Socket socket, EndpointState endpoint)
        : this(socket, endpoint, endpoint.Pool)
    {
    }

    internal UpstreamConnection(Socket socket, EndpointState endpoint, ConnectionPool pool)
    {
        Socket = socket;
        Endpoint = endpoint;
        Pool = pool;
        socket.NoDelay = true;
        _stream = new NetworkStream(socket, ownsSocket: true);
        Input = PipeReader.Create(_stream, ReaderOptions);
        Output = PipeWriter.Create(_stream, WriterOptions);
    }

    public Socket Socket { get; }
    public EndpointState Endpoint { get; }
    public PipeReader Input { get; }
    public PipeWriter Output { get; }

    /// <summary>The pool this connection counts against (an endpoint may swap pools on reload).</summary>
    internal ConnectionPool Pool { get; }

    /// <summary>True when this lease came from the idle set (a stale socket may fail: safe to retry).</summary>
    public bool IsReused { get; set; }

    /// <summary>How many times this connection was leased again from the idle set.</summary>
    public int ReusedCount { get; internal set; }

    /// <summary><see cref="Environment.TickCount64"/> when it last went idle.</summary>
    public long LastReturnedTimestamp { get; internal set; }

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Closes the socket first, so completing the writer cannot block on a peer that stopped reading.</summary>
    internal void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        _stream.Dispose();
        try
        {
            Output.Complete();
        }
        catch
        {
            // Unflushed bytes on a closed socket: the connection is being discarded anyway.
        }

        Input.Complete();
    }

    public ValueTask DisposeAsync()
    {
        Close();
        return ValueTask.CompletedTask;
    }
}
