using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastGate.Gateway.Async;
using FastGate.Gateway.Transport;
using Microsoft.AspNetCore.Connections;

namespace FastGate.Server.Transport;

/// <summary>
/// A listening socket watched by one <see cref="EpollLoop"/>: connections are taken with accept4(2) on that
/// loop's thread, already non-blocking (SOCK_NONBLOCK), and each is handed to the next loop in turn as a bare
/// fd. System.Net.Sockets only binds and listens: an accepted connection costs no <see cref="Socket"/>, no
/// SafeSocketHandle and none of .NET's accept machinery (176 B of every idle connection were its Socket and
/// handle, perf-results/2026-11-26_idle-connections.md).
/// </summary>
/// <remarks>
/// The fd is registered edge-triggered, so readiness is reported once per transition: every wake accepts until
/// EAGAIN before waiting again, and an edge that arrives while no accept waits is remembered by the
/// <see cref="ReadinessSignal"/>. accept4 and the final close both run on the loop thread, so the fd is never
/// closed under a running accept.
/// </remarks>
internal sealed class EpollListener : IConnectionListener, IEpollHandler
{
    /// <summary>How long accepting pauses when the process or the system is out of fds or memory: the pending
    /// connection stays in the backlog, and retrying at once would spin.</summary>
    private static readonly TimeSpan ResourceBackoff = TimeSpan.FromMilliseconds(10);

    private readonly Socket _socket;
    private readonly int _fd;
    private readonly EpollTransportFactory _factory;
    private readonly EpollLoop _loop;
    private readonly ReadinessSignal _acceptable = new();
    private readonly bool _isTcp;
    private GCHandle _handle;
    private int _unbound;

    private EpollListener(Socket socket, EpollTransportFactory factory, EpollLoop loop)
    {
        _socket = socket;
        _fd = (int)socket.SafeHandle.DangerousGetHandle();
        _factory = factory;
        _loop = loop;
        _isTcp = socket.ProtocolType == ProtocolType.Tcp;
        EndPoint = socket.LocalEndPoint!;
        _handle = loop.Register(_fd, this);
    }

    public EndPoint EndPoint { get; }

    public static EpollListener Bind(EndPoint endpoint, EpollTransportFactory factory, EpollLoop loop, int backlog)
    {
        var socket = endpoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endpoint is IPEndPoint ip && ip.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.Bind(endpoint);
            socket.Listen(backlog);
            EpollSocketIo.MakeNonBlocking((int)socket.SafeHandle.DangerousGetHandle());
            return new EpollListener(socket, factory, loop);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            socket.Dispose();
            throw new AddressInUseException(ex.Message, ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        // Kestrel calls this from the thread pool at first; later calls run on the loop already.
        await _loop.SwitchTo();
        while (true)
        {
            if (Volatile.Read(ref _unbound) != 0)
            {
                // Unbound: Kestrel stops accepting on null.
                return null;
            }

            var accepted = TryAccept(out int errno);
            if (accepted is not null)
            {
                return accepted;
            }

            switch (errno)
            {
                case LinuxNative.EAgain:
                    await _acceptable.WaitAsync();
                    break;
                case LinuxNative.EMFile or LinuxNative.ENFile or LinuxNative.ENoBufs or LinuxNative.ENoMem:
                    await Task.Delay(ResourceBackoff, CancellationToken.None).ConfigureAwait(false);
                    await _loop.SwitchTo();
                    break;
                default:
                    // EINTR, ECONNABORTED (the client reset before it was accepted), a protocol error on the
                    // new connection (man 2 accept4): that one is lost, accepting goes on.
                    break;
            }
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        Close();
        return default;
    }

    public ValueTask DisposeAsync()
    {
        Close();
        return default;
    }

    void IEpollHandler.OnEvents(uint events) => _acceptable.Signal();

    /// <summary>One accept4: the connection, started on its loop, or null with the errno.</summary>
    private unsafe EpollConnection? TryAccept(out int errno)
    {
        // sockaddr_storage (man 7 socket): large enough for every address family.
        byte* address = stackalloc byte[128];
        uint length = 128;
        int fd = LinuxNative.Accept4(_fd, address, &length, LinuxNative.SockNonblock | LinuxNative.SockCloexec);
        if (fd < 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        errno = 0;
        try
        {
            if (_isTcp)
            {
                int on = 1;
                LinuxNative.SetSockOpt(fd, LinuxNative.IpProtoTcp, LinuxNative.TcpNoDelay, &on, sizeof(int));
            }

            var connection = new EpollConnection(fd, EndPoint, RemoteEndPoint(new ReadOnlySpan<byte>(address, (int)Math.Min(length, 128u))), _factory.NextLoop());
            connection.Start();
            return connection;
        }
        catch (IOException)
        {
            // epoll_ctl refused the fd (out of memory, man 2 epoll_ctl): this connection is lost.
            LinuxNative.Close(fd);
            errno = LinuxNative.ENoMem;
            return null;
        }
    }

    /// <summary>The peer of an accepted connection from its sockaddr (man 7 ip, man 7 ipv6); null for a Unix
    /// domain socket, whose clients are unnamed.</summary>
    private static IPEndPoint? RemoteEndPoint(ReadOnlySpan<byte> address)
    {
        ushort family = MemoryMarshal.Read<ushort>(address);
        if (family == LinuxNative.AfInet && address.Length >= 8)
        {
            return new IPEndPoint(new IPAddress(address.Slice(4, 4)), BinaryPrimitives.ReadUInt16BigEndian(address[2..]));
        }

        if (family == LinuxNative.AfInet6 && address.Length >= 28)
        {
            uint scope = MemoryMarshal.Read<uint>(address[24..]);
            return new IPEndPoint(new IPAddress(address.Slice(8, 16), scope), BinaryPrimitives.ReadUInt16BigEndian(address[2..]));
        }

        return null;
    }

    /// <summary>Stops accepting: a waiting accept returns null; the fd is closed on the loop thread, between two
    /// epoll_wait batches, so no accept4 runs on it and no event of a batch refers to the freed handle.</summary>
    private void Close()
    {
        if (Interlocked.Exchange(ref _unbound, 1) != 0)
        {
            return;
        }

        _acceptable.Signal();
        _loop.Schedule(static state =>
        {
            var listener = (EpollListener)state!;
            listener._socket.Dispose();
            listener._handle.Free();
        }, this);
    }
}
