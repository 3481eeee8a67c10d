using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FastGate.FunctionalTests.Infrastructure;

/// <summary>One parsed HTTP/1.1 response as the bytes on the wire said it.</summary>
internal sealed record RawResponse(int Status, string StatusLine, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body)
{
    public string BodyText => Encoding.UTF8.GetString(Body);

    public string? Header(string name) =>
        Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();

    public bool HasHeader(string name) => Headers.Any(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The trailer section's lines of a chunked body, as received.</summary>
    public List<string> TrailerLines { get; } = [];
}

/// <summary>A raw TCP client that writes exact bytes and reads responses byte by byte.</summary>
internal sealed class RawConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private RawConnection(Socket socket) => _socket = socket;

    public static RawConnection Open(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
        socket.ReceiveTimeout = 10_000;
        return new RawConnection(socket);
    }

    public void Send(string ascii) => Send(Encoding.Latin1.GetBytes(ascii));

    public void Send(byte[] bytes) => _socket.Send(bytes);

    public void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    /// <summary>True when the gateway closed the connection (EOF or reset) within the timeout.</summary>
    public bool IsClosedByPeer(int timeoutMs = 5000)
    {
        if (_start < _end)
        {
            return false;
        }

        _socket.ReceiveTimeout = timeoutMs;
        try
        {
            return _socket.Receive(_buffer, 0, 1, SocketFlags.None) == 0;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.TimedOut)
        {
            return false;
        }
    }

    private bool Fill()
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }

        if (_end == _buffer.Length)
        {
            Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        int n;
        try
        {
            n = _socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            return false;
        }

        _end += n;
        return n > 0;
    }

    private string ReadLine()
    {
        var line = new StringBuilder();
        while (true)
        {
            if (_start == _end && !Fill())
            {
                throw new EndOfStreamException("connection closed in a line: " + line);
            }

            byte b = _buffer[_start++];
            if (b == '\n')
            {
                if (line.Length == 0 || line[^1] != '\r')
                {
                    throw new InvalidDataException("bare LF in a response from the gateway");
                }

                return line.ToString(0, line.Length - 1);
            }

            line.Append((char)b);
        }
    }

    private byte[] ReadExactly(long count)
    {
        var result = new byte[count];
        long done = 0;
        while (done < count)
        {
            if (_start == _end && !Fill())
            {
                throw new EndOfStreamException($"body cut at {done} of {count} bytes");
            }

            int n = (int)Math.Min(count - done, _end - _start);
            Array.Copy(_buffer, _start, result, done, n);
            _start += n;
            done += n;
        }

        return result;
    }

    private byte[] ReadToEnd()
    {
        using var body = new MemoryStream();
        while (true)
        {
            if (_start == _end && !Fill())
            {
                return body.ToArray();
            }

            body.Write(_buffer, _start, _end - _start);
            _start = _end;
        }
    }

    /// <summary>Reads one response (interim 1xx responses are returned too, one per call).</summary>
    public RawResponse ReadResponse(bool requestWasHead = false)
    {
        var statusLine = ReadLine();
        int status = int.Parse(statusLine.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
        var headers = new List<KeyValuePair<string, string>>();
        while (true)
        {
            var line = ReadLine();
            if (line.Length == 0)
            {
                break;
            }

            int colon = line.IndexOf(':', StringComparison.Ordinal);
            headers.Add(new(line[..colon], line[(colon + 1)..].Trim()));
        }

        var response = new RawResponse(status, statusLine, headers, []);
        byte[] body;
        if (requestWasHead || status < 200 || status == 204 || status == 304)
        {
            body = [];
        }
        else if (response.Header("Transfer-Encoding") is { } te)
        {
            if (!te.Equals("chunked", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidDataException("unexpected transfer-encoding " + te);
            }

            using var chunks = new MemoryStream();
            while (true)
            {
                var sizeLine = ReadLine();
                long size = Convert.ToInt64(sizeLine.Split(';')[0], 16);
                if (size == 0)
                {
                    for (var line = ReadLine(); line.Length != 0; line = ReadLine())
                    {
                        response.TrailerLines.Add(line);
                    }

                    break;
                }

                chunks.Write(ReadExactly(size));
                if (ReadLine().Length != 0)
                {
                    throw new InvalidDataException("chunk not followed by CRLF");
                }
            }

            body = chunks.ToArray();
        }
        else if (response.Header("Content-Length") is { } cl)
        {
            body = ReadExactly(long.Parse(cl, System.Globalization.CultureInfo.InvariantCulture));
        }
        else
        {
            body = ReadToEnd();
        }

        return response with { Body = body };
    }

    public void Dispose() => _socket.Dispose();
}
