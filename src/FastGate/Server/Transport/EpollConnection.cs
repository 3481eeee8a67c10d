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
/// One accepted connection on an <see cref="EpollLoop"/>: the receive loop of its
/// <see cref="EpollSocketChannel"/> recvs on the loop thread straight into the input pipe and the
/// app's read continues inline there; the output is an <see cref="EpollSocketWriter"/>, which sends in
/// the app's own flush. Closing follows Kestrel's socket transport: when the app completes its output
/// (or aborts) the socket is shut down both ways, the input completes, and the fd is closed once both
/// directions ended.
/// </summary>
internal sealed class EpollConnection : ConnectionContext, IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature,
    IConnectionLifetimeFeature, IConnectionEndPointFeature, IMemoryPoolFeature, IEpollLoopFeature, IEpollChannelOwner
{
    /// <summary>As Kestrel's defaults: MaxRequestBufferSize 1 MiB and MaxResponseBufferSize 64 KiB.</summary>
    private const int InputPauseThreshold = 1024 * 1024;

    private static long s_lastId;

    private readonly int _fd;
    private readonly EpollLoop _loop;
    private readonly Pipe _input;
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
    private int _running;
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
        _channel = new EpollSocketChannel(_fd, this);
        MemoryPool = settings.Pool;
        _id = Interlocked.Increment(ref s_lastId);
        LocalEndPoint = local;
        RemoteEndPoint = remote;
        _input = new Pipe(settings.Input);
        _output = new EpollSocketWriter(_fd, settings.Pool, _channel.Writable, this);
        Transport = new DuplexPipe(_input.Reader, _output);

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
            // Race window: the receive loop may have ended before the exchange above and seen no source; both
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

    /// <summary>Registers the socket with its loop and starts the receive loop; called once, by the listener.</summary>
    public void Start()
    {
        _handle = _loop.Register(_fd, _channel);

        // Two directions end: the receive loop and the output (EpollSocketWriter).
        _running = 2;
        // The loop's continuations run on the loop thread: they must not carry the accepting
        // context's execution context there.
        if (ExecutionContext.IsFlowSuppressed())
        {
            _ = _channel.ReceiveAsync(_input.Writer);
            return;
        }

        using (ExecutionContext.SuppressFlow())
        {
            _ = _channel.ReceiveAsync(_input.Writer);
        }
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
        await _input.Reader.CompleteAsync().ConfigureAwait(false);
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

    private void LoopEnded()
    {
        if (Interlocked.Decrement(ref _running) == 0)
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

    void IEpollChannelOwner.OnReceiveEnded(PipeWriter writer, int errno, Exception? error)
    {
        // After a shutdown, that is why the loop ended (as Kestrel's socket transport reports it).
        writer.Complete(Volatile.Read(ref _shutdownReason) ?? (errno != 0 ? TransportError(errno, "recv") : error));
        // Token callbacks are the app's code: run them off the loop thread.
        Interlocked.Exchange(ref _receiveEnded, 1);
        if (Volatile.Read(ref _closed) is { } closed)
        {
            CancelClosedOffLoop(closed);
        }

        LoopEnded();
    }

    void IEpollChannelOwner.OnSendEnded(int errno, Exception? error)
    {
        Shutdown(error ?? (errno != 0 ? TransportError(errno, "send") : null));
        // A receive loop paused on a full input pipe gives up.
        _input.Writer.CancelPendingFlush();
        LoopEnded();
    }

    /// <summary>
    /// Ends the connection both ways (shutdown(2) SHUT_RDWR: the client gets a FIN after what was
    /// sent, and recv sees the end), then wakes the receive loop through the loop's queue, so that
    /// completing the input never runs inside the app's own call that got here.
    /// </summary>
    private void Shutdown(Exception? reason)
    {
        if (Interlocked.Exchange(ref _shutdown, 1) != 0)
        {
            return;
        }

        Interlocked.CompareExchange(ref _shutdownReason, reason ?? new ConnectionAbortedException("The epoll transport's output completed gracefully."), null);
        _channel.StopReceiving();
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

    /// <summary>What the connections of one loop share: the loop, the block pool, and their input pipes' options (one copy, not one per connection).</summary>
    internal sealed class LoopSettings(EpollLoop loop, EpollBlockPool pool)
    {
        public EpollLoop Loop { get; } = loop;

        public EpollBlockPool Pool { get; } = pool;

        /// <summary>
        /// The app reads inline where the loop received; only a receive loop paused by a full input
        /// pipe resumes through the loop's queue.
        /// </summary>
        public PipeOptions Input { get; } = new(pool, PipeScheduler.Inline, loop, InputPauseThreshold, InputPauseThreshold / 2,
            EpollBlockPool.SmallBlockSize, useSynchronizationContext: false);

    }
}
