using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FastGate.FunctionalTests.Infrastructure;

/// <summary>One request as a raw upstream read it.</summary>
/// <param name="Connection">1-based number of the TCP connection it came on</param>
/// <param name="IndexOnConnection">1-based number of the request on that connection</param>
internal sealed record RawUpstreamRequest(string Head, byte[] Body, int Connection, int IndexOnConnection)
{
    public string RequestLine => Head[..Head.IndexOf("\r\n", StringComparison.Ordinal)];
}

/// <summary>What a raw upstream does after answering one request.</summary>
internal enum AfterAnswer
{
    /// <summary>Read the next request on the same connection.</summary>
    KeepOpen,
    /// <summary>Close the connection (FIN).</summary>
    Close,
    /// <summary>Send nothing more and never read again, but keep the connection open.</summary>
    Hang,
}

/// <summary>
/// A TCP listener on loopback that plays an upstream byte for byte: for each request it reads (head,
/// and a Content-Length or chunked body) it calls the answer function, which writes whatever bytes it
/// wants, including malformed ones. Counts connections and requests, for the answers Kestrel cannot make.
/// </summary>
internal sealed class RawUpstream : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<RawUpstreamRequest, Stream, Task<AfterAnswer>> _answer;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<TcpClient> _clients = [];
    private readonly Task _acceptLoop;
    private int _connections;
    private int _requests;

    private RawUpstream(Func<RawUpstreamRequest, Stream, Task<AfterAnswer>> answer)
    {
        _answer = answer;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    public int Connections => Volatile.Read(ref _connections);

    public int Requests => Volatile.Read(ref _requests);

    public ConcurrentQueue<RawUpstreamRequest> Seen { get; } = new();

    public static RawUpstream Start(Func<RawUpstreamRequest, Stream, Task<AfterAnswer>> answer) => new(answer);

    /// <summary>Answers every request with the same bytes, then does <paramref name="after"/>.</summary>
    public static RawUpstream Answering(string rawResponse, AfterAnswer after = AfterAnswer.KeepOpen) =>
        new(async (_, stream) =>
        {
            await stream.WriteAsync(Encoding.Latin1.GetBytes(rawResponse)).ConfigureAwait(false);
            return after;
        });

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
                client.NoDelay = true;
                _clients.Add(client);
                int number = Interlocked.Increment(ref _connections);
                _ = ServeAsync(client, number);
            }
        }
        // InvalidOperationException: DisposeAsync stopped the listener before the loop's next accept.
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    private async Task ServeAsync(TcpClient client, int connection)
    {
        var stream = client.GetStream();
        var reader = new ByteReader(stream, _stop.Token);
        try
        {
            for (int index = 1; ; index++)
            {
                var head = await reader.ReadHeadAsync().ConfigureAwait(false);
                if (head is null)
                {
                    break;
                }

                Interlocked.Increment(ref _requests);
                var body = await reader.ReadBodyAsync(head).ConfigureAwait(false);
                var request = new RawUpstreamRequest(head, body, connection, index);
                Seen.Enqueue(request);
                var after = await _answer(request, stream).ConfigureAwait(false);
                await stream.FlushAsync().ConfigureAwait(false);
                if (after == AfterAnswer.Close)
                {
                    client.Client.Shutdown(SocketShutdown.Both);
                    break;
                }

                if (after == AfterAnswer.Hang)
                {
                    await Task.Delay(Timeout.Infinite, _stop.Token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            client.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        await _acceptLoop.ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>Buffered reads of heads and bodies from the gateway's side of the connection.</summary>
    private sealed class ByteReader(Stream stream, CancellationToken cancel)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        private async Task<bool> FillAsync()
        {
            if (_start > 0)
            {
                Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            int n = await stream.ReadAsync(_buffer.AsMemory(_end), cancel).ConfigureAwait(false);
            _end += n;
            return n > 0;
        }

        /// <summary>The head up to and including its empty line, or null at a clean end of stream.</summary>
        public async Task<string?> ReadHeadAsync()
        {
            while (true)
            {
                int end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8);
                if (end >= 0)
                {
                    var head = Encoding.Latin1.GetString(_buffer, _start, end + 4);
                    _start += end + 4;
                    return head;
                }

                if (!await FillAsync().ConfigureAwait(false))
                {
                    return null;
                }
            }
        }

        private async Task<string> ReadLineAsync()
        {
            while (true)
            {
                int end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8);
                if (end >= 0)
                {
                    var line = Encoding.Latin1.GetString(_buffer, _start, end);
                    _start += end + 2;
                    return line;
                }

                if (!await FillAsync().ConfigureAwait(false))
                {
                    throw new EndOfStreamException("upstream request cut in a line");
                }
            }
        }

        private async Task<byte[]> ReadExactlyAsync(int count)
        {
            var result = new byte[count];
            int done = 0;
            while (done < count)
            {
                if (_start == _end && !await FillAsync().ConfigureAwait(false))
                {
                    throw new EndOfStreamException($"upstream request body cut at {done} of {count}");
                }

                int n = Math.Min(count - done, _end - _start);
                Array.Copy(_buffer, _start, result, done, n);
                _start += n;
                done += n;
            }

            return result;
        }

        public async Task<byte[]> ReadBodyAsync(string head)
        {
            string? Field(string name)
            {
                foreach (var line in head.Split("\r\n"))
                {
                    int colon = line.IndexOf(':', StringComparison.Ordinal);
                    if (colon > 0 && line[..colon].Equals(name, StringComparison.OrdinalIgnoreCase))
                    {
                        return line[(colon + 1)..].Trim();
                    }
                }

                return null;
            }

            if (Field("Transfer-Encoding") is not null)
            {
                using var body = new MemoryStream();
                while (true)
                {
                    int size = Convert.ToInt32((await ReadLineAsync().ConfigureAwait(false)).Split(';')[0], 16);
                    if (size == 0)
                    {
                        while ((await ReadLineAsync().ConfigureAwait(false)).Length != 0)
                        {
                        }

                        return body.ToArray();
                    }

                    body.Write(await ReadExactlyAsync(size).ConfigureAwait(false));
                    await ReadLineAsync().ConfigureAwait(false);
                }
            }

            return Field("Content-Length") is { } length
                ? await ReadExactlyAsync(int.Parse(length, System.Globalization.CultureInfo.InvariantCulture)).ConfigureAwait(false)
                : [];
        }
    }
}
