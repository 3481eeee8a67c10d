using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FastGate.Protocols.Hpack;
using FastGate.Protocols.Http2;

namespace FastGate.FunctionalTests.Infrastructure;

/// <summary>One frame as received.</summary>
internal sealed record H2Frame(Http2FrameType Type, Http2Flags Flags, int StreamId, byte[] Payload)
{
    public bool Has(Http2Flags flag) => (Flags & flag) != 0;

    /// <summary>The error code of RST_STREAM, or of GOAWAY.</summary>
    public Http2ErrorCode ErrorCode => (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(Type == Http2FrameType.GoAway ? Payload.AsSpan(4) : Payload);

    public int GoAwayLastStreamId => (int)(BinaryPrimitives.ReadUInt32BigEndian(Payload) & 0x7FFF_FFFF);
}

/// <summary>One HTTP/2 response as the frames said it.</summary>
internal sealed record H2Response(int Status, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body, int DataFrames)
{
    public string BodyText => Encoding.UTF8.GetString(Body);

    public string? Header(string name) => Headers.Where(h => h.Key == name).Select(h => h.Value).FirstOrDefault();

    /// <summary>The fields of a trailing HEADERS block, if the stream ended with one.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Trailers { get; init; } = [];

    /// <summary>The interim (1xx) heads that came before the final one, in order.</summary>
    public IReadOnlyList<IReadOnlyList<KeyValuePair<string, string>>> Interim { get; init; } = [];
}

/// <summary>
/// A raw HTTP/2 client over a socket that writes exactly the frames a test asks for (valid or not),
/// with the gateway's own frame writer and HPACK encoder, and reads frames one by one.
/// </summary>
internal sealed class H2RawClient : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[1 << 20];
    private int _start;
    private int _end;
    private readonly HpackEncoder _encoder = new(useHuffman: false);
    private readonly HpackDecoder _decoder = new(maxHeaderListSize: 1 << 20);

    private H2RawClient(Socket socket) => _socket = socket;

    /// <summary>Server's SETTINGS as received in its preface.</summary>
    public Dictionary<Http2SettingsParameter, uint> ServerSettings { get; } = [];

    /// <summary>Connects, sends the preface and empty SETTINGS, reads the server's SETTINGS and acknowledges them.</summary>
    public static H2RawClient Connect(int port, bool handshake = true, int receiveTimeoutMs = 10_000)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
        socket.ReceiveTimeout = receiveTimeoutMs;
        var client = new H2RawClient(socket);
        if (handshake)
        {
            client.Send(Http2Protocol.ClientPreface.ToArray());
            client.SendSettings();
            var settings = client.ReadFrame() ?? throw new IOException("closed before SETTINGS");
            Assert.Equal(Http2FrameType.Settings, settings.Type);
            for (int i = 0; i + 6 <= settings.Payload.Length; i += 6)
            {
                client.ServerSettings[(Http2SettingsParameter)BinaryPrimitives.ReadUInt16BigEndian(settings.Payload.AsSpan(i))] =
                    BinaryPrimitives.ReadUInt32BigEndian(settings.Payload.AsSpan(i + 2));
            }

            client.Send(Frame(Http2FrameType.Settings, Http2Flags.Ack, 0, []));
        }

        return client;
    }

    public void Send(byte[] bytes) => _socket.Send(bytes);

    public void SendSettings(params (Http2SettingsParameter Parameter, uint Value)[] settings)
    {
        var writer = new ArrayBufferWriter<byte>();
        Http2FrameWriter.WriteSettings(writer, settings.Select(s => new Http2Setting(s.Parameter, s.Value)).ToArray());
        Send(writer.WrittenSpan.ToArray());
    }

    /// <summary>Any frame, byte for byte.</summary>
    public static byte[] Frame(Http2FrameType type, Http2Flags flags, int streamId, byte[] payload)
    {
        var bytes = new byte[9 + payload.Length];
        new Http2FrameHeader(payload.Length, type, flags, streamId).Write(bytes);
        payload.CopyTo(bytes, 9);
        return bytes;
    }

    public void SendFrame(Http2FrameType type, Http2Flags flags, int streamId, byte[] payload) => Send(Frame(type, flags, streamId, payload));

    /// <summary>An HPACK block of <paramref name="fields"/>, names exactly as given.</summary>
    public byte[] Encode(IEnumerable<(string Name, string Value)> fields)
    {
        var writer = new ArrayBufferWriter<byte>();
        _encoder.BeginHeaderBlock(writer);
        foreach (var (name, value) in fields)
        {
            _encoder.EncodeHeader(Encoding.Latin1.GetBytes(name), Encoding.Latin1.GetBytes(value), writer);
        }

        return writer.WrittenSpan.ToArray();
    }

    public static (string, string)[] Get(string path, string authority = "gateway.test", params (string, string)[] extra) =>
        [(":method", "GET"), (":scheme", "http"), (":authority", authority), (":path", path), .. extra];

    public void SendHeaders(int streamId, IEnumerable<(string Name, string Value)> fields, bool endStream = true) =>
        SendFrame(Http2FrameType.Headers, Http2Flags.EndHeaders | (endStream ? Http2Flags.EndStream : 0), streamId, Encode(fields));

    public void SendData(int streamId, byte[] data, bool endStream) =>
        SendFrame(Http2FrameType.Data, endStream ? Http2Flags.EndStream : 0, streamId, data);

    public void SendWindowUpdate(int streamId, int increment)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)increment);
        SendFrame(Http2FrameType.WindowUpdate, 0, streamId, payload);
    }

    public void SendRst(int streamId, Http2ErrorCode code)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)code);
        SendFrame(Http2FrameType.RstStream, 0, streamId, payload);
    }

    /// <summary>Fields decoded so far per stream: every header block is decoded as it arrives, so HPACK stays in step.</summary>
    private readonly Dictionary<int, List<KeyValuePair<string, string>>> _fields = [];
    private readonly Dictionary<int, List<KeyValuePair<string, string>>> _trailerFields = [];
    private readonly Dictionary<int, List<List<KeyValuePair<string, string>>>> _interimFields = [];

    /// <summary>Gives back connection and stream window for every DATA frame read (as a real client does).</summary>
    public bool AutoWindowUpdate { get; set; } = true;

    /// <summary>An HPACK block that uses no dynamic table entry and adds none (for frames that may never be sent).</summary>
    public static byte[] EncodeStateless(IEnumerable<(string Name, string Value)> fields)
    {
        using var encoder = new HpackEncoder(headerTableSize: 0, useHuffman: false);
        var writer = new ArrayBufferWriter<byte>();
        foreach (var (name, value) in fields)
        {
            encoder.EncodeHeader(Encoding.Latin1.GetBytes(name), Encoding.Latin1.GetBytes(value), writer);
        }

        return writer.WrittenSpan.ToArray();
    }

    /// <summary>The next frame, or null when the gateway closed the connection.</summary>
    public H2Frame? ReadFrame()
    {
        var frame = ReadRawFrame();
        if (frame is null)
        {
            return null;
        }

        if (frame.Type is Http2FrameType.Headers or Http2FrameType.Continuation)
        {
            if (!_fields.TryGetValue(frame.StreamId, out var list))
            {
                _fields[frame.StreamId] = list = [];
            }

            // A HEADERS block after an interim (1xx) head starts the next head (RFC 9113 section 8.1).
            if (frame.Type == Http2FrameType.Headers && list.Any(h => h.Key == ":status" && h.Value[0] == '1'))
            {
                if (!_interimFields.TryGetValue(frame.StreamId, out var interims))
                {
                    _interimFields[frame.StreamId] = interims = [];
                }

                interims.Add(list);
                _fields[frame.StreamId] = list = [];
            }

            // A HEADERS block after a final response head is the trailer section (RFC 9113 section 8.1).
            if (frame.Type == Http2FrameType.Headers && list.Any(h => h.Key == ":status" && h.Value[0] != '1'))
            {
                _trailerFields[frame.StreamId] = [];
            }

            if (_trailerFields.TryGetValue(frame.StreamId, out var trailers))
            {
                list = trailers;
            }

            var handler = new Collect(list);
            _decoder.Decode(new ReadOnlySequence<byte>(frame.Payload), frame.Has(Http2Flags.EndHeaders), ref handler);
        }
        else if (frame.Type == Http2FrameType.Data && frame.Payload.Length > 0 && AutoWindowUpdate)
        {
            try
            {
                SendWindowUpdate(0, frame.Payload.Length);
                if (!frame.Has(Http2Flags.EndStream))
                {
                    SendWindowUpdate(frame.StreamId, frame.Payload.Length);
                }
            }
            catch (SocketException)
            {
                // The gateway may close right after the last frame (GOAWAY tests).
            }
        }

        return frame;
    }

    private H2Frame? ReadRawFrame()
    {
        if (!Fill(9))
        {
            return null;
        }

        var header = Http2FrameHeader.Read(_buffer.AsSpan(_start));
        if (!Fill(9 + header.Length))
        {
            return null;
        }

        var payload = _buffer.AsSpan(_start + 9, header.Length).ToArray();
        _start += 9 + header.Length;
        return new H2Frame(header.Type, header.Flags, header.StreamId, payload);
    }

    private bool Fill(int count)
    {
        if (_end - _start >= count)
        {
            return true;
        }

        Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
        _end -= _start;
        _start = 0;
        while (_end < count)
        {
            int read;
            try
            {
                read = _socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                return false;
            }

            if (read == 0)
            {
                return false;
            }

            _end += read;
        }

        return true;
    }

    /// <summary>Reads frames until one matches; SETTINGS, PING and WINDOW_UPDATE frames in between are skipped.</summary>
    public H2Frame? ReadUntil(Func<H2Frame, bool> match)
    {
        while (ReadFrame() is { } frame)
        {
            if (match(frame))
            {
                return frame;
            }
        }

        return null;
    }

    /// <summary>Asserts the gateway ends the connection with GOAWAY <paramref name="code"/> and closes.</summary>
    public H2Frame ExpectGoAway(Http2ErrorCode code)
    {
        var frame = ReadUntil(f => f.Type == Http2FrameType.GoAway);
        Assert.NotNull(frame);
        Assert.Equal(code, frame!.ErrorCode);
        Assert.True(IsClosedByPeer(), "the connection should close after GOAWAY");
        return frame;
    }

    /// <summary>Asserts stream <paramref name="streamId"/> is reset with <paramref name="code"/>.</summary>
    public void ExpectReset(int streamId, Http2ErrorCode code)
    {
        var frame = ReadUntil(f => f.StreamId == streamId && f.Type == Http2FrameType.RstStream || f.Type == Http2FrameType.GoAway);
        Assert.NotNull(frame);
        Assert.Equal(Http2FrameType.RstStream, frame!.Type);
        Assert.Equal(code, frame.ErrorCode);
    }

    /// <summary>True when the gateway closed the connection (after any frames still in flight).</summary>
    public bool IsClosedByPeer(int timeoutMs = 5000)
    {
        _socket.ReceiveTimeout = timeoutMs;
        try
        {
            while (ReadFrame() is not null)
            {
            }

            return true;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.TimedOut)
        {
            return false;
        }
    }

    /// <summary>Collects the response of <paramref name="streamId"/> until END_STREAM.</summary>
    public H2Response ReadResponse(int streamId)
    {
        var body = new MemoryStream();
        int dataFrames = 0;
        while (true)
        {
            var frame = ReadFrame() ?? throw new IOException("connection closed before the response ended");
            if (frame.Type == Http2FrameType.GoAway)
            {
                throw new IOException($"GOAWAY {frame.ErrorCode}");
            }

            if (frame.StreamId != streamId)
            {
                continue;
            }

            switch (frame.Type)
            {
                case Http2FrameType.Data:
                    body.Write(frame.Payload);
                    dataFrames++;
                    break;
                case Http2FrameType.RstStream:
                    throw new IOException($"RST_STREAM {frame.ErrorCode}");
            }

            if (frame.Has(Http2Flags.EndStream) && frame.Type is Http2FrameType.Headers or Http2FrameType.Data)
            {
                var headers = _fields[streamId];
                _fields.Remove(streamId);
                _trailerFields.Remove(streamId, out var trailers);
                _interimFields.Remove(streamId, out var interims);
                int status = int.Parse(headers.First(h => h.Key == ":status").Value, System.Globalization.CultureInfo.InvariantCulture);
                return new H2Response(status, headers, body.ToArray(), dataFrames) { Trailers = trailers ?? [], Interim = interims ?? [] };
            }
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        _encoder.Dispose();
        _decoder.Dispose();
    }

    private readonly struct Collect(List<KeyValuePair<string, string>> headers) : IHpackHeaderHandler
    {
        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) =>
            headers.Add(new(Encoding.Latin1.GetString(name), Encoding.Latin1.GetString(value)));
    }
}
