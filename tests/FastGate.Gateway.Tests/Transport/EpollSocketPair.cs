using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using FastGate.Gateway.Transport;

namespace FastGate.Gateway.Tests.Transport;

/// <summary>
/// A loopback TCP connection for the epoll reader and writer tests: the accepted end non-blocking and
/// registered with a loop of its own (its fd and channel for the code under test), the connecting end
/// a plain blocking socket for the test to talk through.
/// </summary>
internal sealed class EpollSocketPair : IAsyncDisposable
{
    private readonly EpollLoop _loop;
    private readonly Socket _server;
    private GCHandle _handle;

    private EpollSocketPair(EpollLoop loop, Socket server, Socket peer, EpollSocketChannel channel)
    {
        _loop = loop;
        _server = server;
        Peer = peer;
        Channel = channel;
        Fd = (int)server.SafeHandle.DangerousGetHandle();
        _handle = loop.Register(Fd, channel);
    }

    public Socket Peer { get; }

    public int Fd { get; }

    public EpollSocketChannel Channel { get; }

    /// <param name="smallBuffers">16 KiB socket buffers both ways, so that a few hundred KiB fill the connection</param>
    public static async Task<EpollSocketPair> OpenAsync(IEpollChannelOwner owner, string name, bool smallBuffers = false)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (smallBuffers)
        {
            peer.ReceiveBufferSize = 16 * 1024;
        }

        await peer.ConnectAsync(listener.LocalEndPoint!);
        var server = await listener.AcceptAsync();
        if (smallBuffers)
        {
            server.SendBufferSize = 16 * 1024;
        }

        server.Blocking = false;
        return new EpollSocketPair(new EpollLoop(name), server, peer, new EpollSocketChannel(owner));
    }

    public ValueTask DisposeAsync()
    {
        Peer.Dispose();
        _server.Dispose();
        _loop.Dispose();
        if (_handle.IsAllocated)
        {
            _handle.Free();
        }

        return ValueTask.CompletedTask;
    }
}
