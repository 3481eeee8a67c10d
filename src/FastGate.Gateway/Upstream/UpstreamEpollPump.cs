using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using FastGate.Gateway.Transport;

namespace FastGate.Gateway.Upstream;

/// <summary>
/// An upstream socket on an <see cref="EpollLoop"/> (when the gateway runs the epoll transport),
/// usually the loop of the client connection that opened it, so a request and its upstream exchange
/// run on one thread. The connect is a non-blocking connect(2) finished by the loop's EPOLLOUT; then an
/// <see cref="EpollSocketReader"/> is the connection's input and an <see cref="EpollSocketWriter"/> its
/// output, both driven by the socket's <see cref="EpollSocketChannel"/>. No async operation is ever started on the socket,
/// so .NET's own socket engine never registers its fd.
/// </summary>
internal sealed class UpstreamEpollPump : IEpollChannelOwner
{
    private readonly Socket _socket;
    private readonly int _fd;
    private readonly EpollSocketChannel _channel;
    private EpollSocketReader? _input;
    private EpollSocketWriter? _output;
    private GCHandle _handle;
    private int _openDirections;

    /// <param name="socket">a new, unconnected TCP socket; made non-blocking here</param>
    public UpstreamEpollPump(Socket socket, EpollLoop loop)
    {
        socket.Blocking = false;
        _socket = socket;
        _fd = (int)socket.SafeHandle.DangerousGetHandle();
        _channel = new EpollSocketChannel(this);
        Loop = loop;
    }

    public EpollLoop Loop { get; }

    /// <summary>
    /// Connects (man 2 connect, EINPROGRESS) and registers the socket with the loop, which reports
    /// EPOLLOUT once the handshake is done (EPOLLERR if it failed; SO_ERROR says why). Throws as
    /// Socket.ConnectAsync does: a <see cref="SocketException"/>, or an <see cref="OperationCanceledException"/>
    /// when <paramref name="cancellationToken"/> fires first. On failure, <see cref="Abandon"/> the pump.
    /// </summary>
    public async ValueTask ConnectAsync(EndPoint address, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            _socket.Connect(address);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
        {
            // The handshake is under way.
        }

        // Registered only now: an unconnected socket polls as hung up (tcp_poll), a connecting one as
        // nothing until the handshake ends; a handshake already done is reported by the first wait.
        try
        {
            _handle = Loop.Register(_fd, _channel);
        }
        catch (IOException ex)
        {
            // epoll_ctl refused the fd (out of memory or max_user_watches, man 2 epoll_ctl): the
            // connection cannot be used, a connect failure to the caller (502), as Socket.ConnectAsync
            // reports running out of buffers.
            throw new SocketException((int)SocketError.NoBufferSpaceAvailable, ex.Message);
        }

        // A timeout wakes the wait through the loop too: the caller's continuation then runs on the loop
        // thread as after a handshake, never inside the token's callback (which disposes its source).
        using (cancellationToken.UnsafeRegister(static state =>
        {
            var pump = (UpstreamEpollPump)state!;
            pump.Loop.Schedule(static state => ((EpollSocketChannel)state!).Writable.Signal(), pump._channel);
        }, this))
        {
            await _channel.Writable.WaitAsync().ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        int error = PendingError();
        if (error != 0)
        {
            throw new SocketException((int)(error == LinuxNative.ETimedOut ? SocketError.TimedOut : SocketError.ConnectionRefused));
        }
    }

    /// <summary>The connected socket's input and output, for the life of the connection.</summary>
    public (EpollSocketReader Input, EpollSocketWriter Output) Start(EpollBlockPool blocks)
    {
        // The fd closes once the reader and the writer are both completed (the connection's Close completes them).
        _openDirections = 2;
        _input = new EpollSocketReader(_fd, blocks, _channel, this);
        _output = new EpollSocketWriter(_fd, blocks, _channel.Writable, this);
        return (_input, _output);
    }

    /// <summary>
    /// Sends a FIN (shutdown(2) SHUT_RDWR, not a reset) and ends both directions; the fd closes on the
    /// loop once they have. A waiting read is woken through the loop's queue, so that ending it never
    /// runs inside the caller's own call. Called once, by the connection's close.
    /// </summary>
    public void Close()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already reset by the peer.
        }

        _input!.Stop(wake: false);
        _output!.Stop();
        Loop.Schedule(static state => ((EpollSocketChannel)state!).Readable.Signal(), _channel);
    }

    /// <summary>A connect that failed or timed out: the loops never started; the fd closes on the loop.</summary>
    public void Abandon()
    {
        if (!_handle.IsAllocated)
        {
            _socket.Dispose();
            return;
        }

        Loop.Schedule(static state => ((UpstreamEpollPump)state!).CloseOnLoop(), this);
    }

    private void CloseOnLoop()
    {
        // close(2) removes the fd from the epoll set (man 7 epoll, Q6). The handle is freed between two
        // epoll_wait batches, so no event already harvested can still refer to it.
        _socket.Dispose();
        _handle.Free();
    }

    private void DirectionClosed()
    {
        if (Interlocked.Decrement(ref _openDirections) == 0)
        {
            Loop.Schedule(static state => ((UpstreamEpollPump)state!).CloseOnLoop(), this);
        }
    }

    Exception? IEpollChannelOwner.OnReceiveEnded(int errno)
    {
        // A FIN or a reset alike: the reader sees the end of the stream, which every caller treats as
        // a failed (never a complete) exchange.
        return null;
    }

    void IEpollChannelOwner.OnPeerClosed()
    {
        // The next lease sees it: the reader's TryRead finds the FIN (HasBufferedInput).
    }

    void IEpollChannelOwner.OnSendEnded(int errno, Exception? error)
    {
        // A reset or EPIPE: the writer's flushes report IsCompleted from now, the request could not be sent.
    }

    void IEpollChannelOwner.OnClosed() => DirectionClosed();

    /// <summary>SO_ERROR (man 7 socket): how a non-blocking connect ended, 0 when it succeeded.</summary>
    private unsafe int PendingError()
    {
        int error = 0;
        uint length = sizeof(int);
        return LinuxNative.GetSockOpt(_fd, LinuxNative.SolSocket, LinuxNative.SoError, &error, &length) == 0
            ? error
            : Marshal.GetLastPInvokeError();
    }
}
