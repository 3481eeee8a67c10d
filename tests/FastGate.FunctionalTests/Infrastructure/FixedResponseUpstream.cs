using System.Net;
using System.Net.Sockets;

namespace FastGate.FunctionalTests.Infrastructure;

/// <summary>
/// An upstream that answers every request head with the same bytes, on plain threads with
/// preallocated buffers, so that it allocates nothing while the gateway's allocations are counted.
/// Requests must have no body.
/// </summary>
internal sealed class FixedResponseUpstream : IDisposable
{
    private readonly Socket _listener;
    private readonly byte[] _response;
    private readonly List<Socket> _accepted = [];
    private volatile bool _stopped;

    public FixedResponseUpstream(byte[] response)
    {
        _response = response;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(16);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        new Thread(AcceptLoop) { IsBackground = true, Name = "fixed-upstream-accept" }.Start();
    }

    public int Port { get; }

    private void AcceptLoop()
    {
        while (!_stopped)
        {
            Socket socket;
            try
            {
                socket = _listener.Accept();
            }
            catch (SocketException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            socket.NoDelay = true;
            lock (_accepted)
            {
                _accepted.Add(socket);
            }

            new Thread(() => Serve(socket)) { IsBackground = true, Name = "fixed-upstream" }.Start();
        }
    }

    private void Serve(Socket socket)
    {
        var buffer = new byte[16 * 1024];
        int filled = 0;
        try
        {
            while (!_stopped)
            {
                int n = socket.Receive(buffer, filled, buffer.Length - filled, SocketFlags.None);
                if (n == 0)
                {
                    return;
                }

                filled += n;
                // Answer every complete head in the buffer (pipelined heads too).
                while (true)
                {
                    int end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
                    if (end < 0)
                    {
                        break;
                    }

                    socket.Send(_response);
                    int consumed = end + 4;
                    Buffer.BlockCopy(buffer, consumed, buffer, 0, filled - consumed);
                    filled -= consumed;
                }
            }
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            socket.Dispose();
        }
    }

    public void Dispose()
    {
        _stopped = true;
        _listener.Dispose();
        lock (_accepted)
        {
            foreach (var socket in _accepted)
            {
                socket.Dispose();
            }
        }
    }
}
