using System.Net;
using System.Net.Sockets;
using FastGate.Gateway.Transport;
using Microsoft.AspNetCore.Connections;

namespace FastGate.Server.Transport;

/// <summary>
/// A listening socket: accepting stays with System.Net.Sockets (once per connection, off the request
/// path); each accepted socket is made non-blocking and handed to the next loop in turn. No async
/// operation is ever started on an accepted socket, so .NET's own socket engine never registers its fd.
/// </summary>
internal sealed class EpollListener : IConnectionListener
{
    private readonly Socket _socket;
    private readonly EpollTransportFactory _factory;

    private EpollListener(Socket socket, EpollTransportFactory factory)
    {
        _socket = socket;
        _factory = factory;
        EndPoint = socket.LocalEndPoint!;
    }

    public EndPoint EndPoint { get; }

    public static EpollListener Bind(EndPoint endpoint, EpollTransportFactory factory, int backlog)
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

        return new EpollListener(socket, factory);
    }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Socket accepted;
            try
            {
                accepted = await _socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // Unbound: Kestrel stops accepting on null.
                return null;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.OperationAborted)
            {
                return null;
            }
            catch (SocketException)
            {
                // The client reset before it was accepted (as Kestrel's socket transport): next one.
                continue;
            }

            try
            {
                // O_NONBLOCK set on the fd itself: Socket.Blocking = false would also build .NET's async
                // context for a socket that never starts an async operation (152 B per connection).
                EpollSocketIo.MakeNonBlocking((int)accepted.SafeHandle.DangerousGetHandle());
                if (accepted.ProtocolType == ProtocolType.Tcp)
                {
                    accepted.NoDelay = true;
                }

                var connection = new EpollConnection(accepted, _factory.NextLoop());
                connection.Start();
                return connection;
            }
            catch (Exception ex) when (ex is SocketException or IOException)
            {
                // Reset between accept and setup (the endpoints are gone), or epoll_ctl refused the fd
                // (out of memory, man 2 epoll_ctl): this connection is lost, accepting goes on.
                accepted.Dispose();
            }
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _socket.Dispose();
        return default;
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return default;
    }
}
