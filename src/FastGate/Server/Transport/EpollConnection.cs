using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.InteropServices;
using FastGate.Gateway.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace FastGate.Server.Transport;

/// <summary>
/// One accepted connection on an <see cref="EpollLoop"/>: its input is an <see cref="EpollSocketReader"/>,
/// which recvs in the app's own read (a read that waits resumes on the loop thread at the socket's
/// next edge), and its output an <see cref="EpollSocketWriter"/>, which sends in the app's own flush. Closing follows Kestrel's socket transport: when the app completes its output
/// (or aborts) the socket is shut down both ways, the input completes, and the fd is closed once both
/// directions ended.
/// </summary>
internal sealed class EpollConnection : ConnectionContext, IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature,
    IConnectionLifetimeFeature, IConnectionEndPointFeature, IMemoryPoolFeature, IEpollLoopFeature, IEpollChannelOwner
{
    private static long s_lastId;

    private readonly int _fd;
    private readonly EpollLoop _loop;
    private readonly EpollSocketReader _input;
    private readonly EpollSocketWriter _output;
    private readonly EpollSocketChannel _channel;
    /// <summary>Stands in <see cref="_fdClosedWaiter"/> once the fd is closed.</summary>
    private static readonly object FdClosed = new();

    // Both made only when asked for (the gateway asks for neither while a connection lives; Kestrel's
    // DisposeAsync waits for the close): 136 B less on every idle connection.
    private CancellationTokenSource? _closed;
    private int _receiveEnded;
    private object? _fdClosedWaiter;
    private readonly long _id;
    private GCHandle _handle;
    private int _openDirections;
    private Exception? _shutdownReason;
    private int _shutdown;
    private string? _connectionId;
    private IDictionary<object, object?>? _items;

    /// <param name="fd">an accepted, non-blocking socket, owned (closed) by this connection from now on</param>
    /// <param name="local">the listener's address (for a wildcard listener, not the interface this connection came in on)</param>
    public EpollConnection(int fd, EndPoint? local, EndPoint? remote, LoopSettings settings)
    {
        _fd = fd;
        _loop = settings.Loop;
        _channel = new EpollSocketChannel(this);
        MemoryPool = settings.Pool;
        _id = Interlocked.Increment(ref s_lastId);
        LocalEndPoint = local;
        RemoteEndPoint = remote;
        _input = new EpollSocketReader(_fd, settings.Pool, _channel, this);
        _output = new EpollSocketWriter(_fd, settings.Pool, _channel.Writable, this);
        Transport = new DuplexPipe(_input, _output);

        Features = new EpollConnectionFeatures(this);
    }

    public override string ConnectionId
    {
        get => _connectionId ??= "epoll-" + _id.ToString("X", System.Globalization.CultureInfo.InvariantCulture);
        set => _connectionId = value;
    }

    public override IFeatureCollection Features { get; }

    public override IDictionary<object, object?> Items
    {
        get => _items ??= new Dictionary<object, object?>();
        set => _items = value;
    }

    public override IDuplexPipe Transport { get; set; }

    public override CancellationToken ConnectionClosed
    {
        get
        {
            if (Volatile.Read(ref _closed) is { } made)
            {
                return made.Token;
            }

            var source = new CancellationTokenSource();
            made = Interlocked.CompareExchange(ref _closed, source, null) ?? source;
            // Race window: the input may have ended before the exchange above and seen no source; both
            // sides publish with a full fence before they look at the other's, so one of them cancels.
            if (ReferenceEquals(made, source) && Volatile.Read(ref _receiveEnded) != 0)
            {
                CancelClosedOffLoop(source);
            }

            return made.Token;
        }
    }

    public override EndPoint? LocalEndPoint { get; set; }

    public override EndPoint? RemoteEndPoint { get; set; }

    public MemoryPool<byte> MemoryPool { get; }

    public EpollLoop Loop => _loop;

    /// <summary>Registers the socket with its loop; called once, by the listener.</summary>
    public void Start()
    {
        // The fd closes once the reader and the writer are both completed (DisposeAsync completes them).
        _openDirections = 2;
        _handle = _loop.Register(_fd, _channel);
    }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        Interlocked.CompareExchange(ref _shutdownReason, abortReason, null);
        // The output stops (a flush waiting for EPOLLOUT ends) and the socket is shut down.
        _output.Stop();
    }

    public override async ValueTask DisposeAsync()
    {
        // The pipes' app ends, not Transport: TLS replaces Transport with its own pipe.
        await _input.CompleteAsync().ConfigureAwait(false);
        await _output.CompleteAsync().ConfigureAwait(false);
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Interlocked.CompareExchange(ref _fdClosedWaiter, waiter, null) is { } earlier)
        {
            // The fd is already closed (or another dispose waits, which Kestrel never does).
            waiter = earlier as TaskCompletionSource;
        }

        if (waiter is not null)
        {
            await waiter.Task.ConfigureAwait(false);
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    private static void CancelClosedOffLoop(CancellationTokenSource closed) =>
        ThreadPool.UnsafeQueueUserWorkItem(static source => source.Cancel(), closed, preferLocal: false);

    private void DirectionClosed()
    {
        if (Interlocked.Decrement(ref _openDirections) == 0)
        {
            // The handle is freed on the loop thread, between two epoll_wait batches, so no event of
            // this batch can still refer to it.
            _loop.Schedule(static state => ((EpollConnection)state!).CloseOnLoop(), this);
        }
    }

    private void CloseOnLoop()
    {
        // close(2) removes the fd from the epoll set (man 7 epoll, Q6): no EPOLL_CTL_DEL needed.
        LinuxNative.Close(_fd);
        _handle.Free();
        (Interlocked.Exchange(ref _fdClosedWaiter, FdClosed) as TaskCompletionSource)?.TrySetResult();
    }

    Exception? IEpollChannelOwner.OnReceiveEnded(int errno)
    {
        MarkClosed();
        // After a shutdown, that is why the input ended (as Kestrel's socket transport reports it).
        return Volatile.Read(ref _shutdownReason) ?? (errno != 0 ? TransportError(errno, "recv") : null);
    }

    void IEpollChannelOwner.OnSendEnded(int errno, Exception? error)
    {
        Shutdown(error ?? (errno != 0 ? TransportError(errno, "send") : null));
    }

    void IEpollChannelOwner.OnClosed() => DirectionClosed();

    void IEpollChannelOwner.OnPeerClosed() => MarkClosed();

    /// <summary>The client is gone (its FIN, or the input ended): <see cref="ConnectionClosed"/> fires, once.</summary>
    private void MarkClosed()
    {
        if (Interlocked.Exchange(ref _receiveEnded, 1) == 0 && Volatile.Read(ref _closed) is { } closed)
        {
            // Token callbacks are the app's code: run them off the loop thread.
            CancelClosedOffLoop(closed);
        }
    }

    /// <summary>
    /// Ends the connection both ways (shutdown(2) SHUT_RDWR: the client gets a FIN after what was
    /// sent, and recv sees the end), then wakes a waiting read through the loop's queue, so that
    /// ending the input never runs inside the app's own call that got here.
    /// </summary>
    private void Shutdown(Exception? reason)
    {
        if (Interlocked.Exchange(ref _shutdown, 1) != 0)
        {
            return;
        }

        Interlocked.CompareExchange(ref _shutdownReason, reason ?? new ConnectionAbortedException("The epoll transport's output completed gracefully."), null);
        _input.Stop(wake: false);
        // Fails only when the peer already reset the connection (ENOTCONN): nothing left to shut down.
        LinuxNative.Shutdown(_fd, LinuxNative.ShutRdWr);

        _loop.Schedule(static state => ((EpollSocketChannel)state!).Readable.Signal(), _channel);
    }

    /// <summary>A reset or a write after the peer closed is the client going away; others are I/O errors.</summary>
    private static IOException TransportError(int errno, string call) => errno is LinuxNative.EConnReset or LinuxNative.EPipe
        ? new ConnectionResetException($"{call}: {Marshal.GetPInvokeErrorMessage(errno)}")
        : new IOException($"{call}: {Marshal.GetPInvokeErrorMessage(errno)}");

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    /// <summary>What the connections of one loop share: the loop and the block pool.</summary>
    internal sealed class LoopSettings(EpollLoop loop, EpollBlockPool pool)
    {
        public EpollLoop Loop { get; } = loop;

        public EpollBlockPool Pool { get; } = pool;
    }
}
