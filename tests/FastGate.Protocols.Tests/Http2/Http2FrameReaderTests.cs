using System.Buffers;
using FastGate.Protocols.Http2;
using FastGate.Protocols.Tests.Http1;
using static FastGate.Protocols.Tests.Http2.Http2TestFrames;

namespace FastGate.Protocols.Tests.Http2;

public class Http2FrameReaderTests
{
    public static TheoryData<int, int, int, string, string> ValidFrames => new()
    {
        { 0x0, 0x1, 1, "68656c6c6f", "data 68656c6c6f" },
        { 0x0, 0x9, 1, "03 68656c6c6f 000000", "data 68656c6c6f" },
        { 0x0, 0x8, 1, "02 0000", "data " }, // all padding
        { 0x0, 0x0, 7, "", "data " },
        { 0x1, 0x5, 1, "8286 8441", "headers 82868441 " },
        { 0x1, 0x2C, 3, "02 80000001 0f 8286 0000", "headers 8286 Http2PriorityFields { Exclusive = True, StreamDependency = 1, Weight = 15 }" },
        { 0x1, 0x24, 3, "00000000 ff", "headers  Http2PriorityFields { Exclusive = False, StreamDependency = 0, Weight = 255 }" },
        { 0x2, 0x0, 3, "00000001 ff", "priority Http2PriorityFields { Exclusive = False, StreamDependency = 1, Weight = 255 }" },
        { 0x3, 0x0, 1, "00000008", "rst Cancel" },
        { 0x4, 0x0, 0, "0001 00001000 0002 00000000 0003 00000064 0004 7fffffff 0005 00004000 0005 00ffffff 0006 00010000 00ff 00000005", "settings HeaderTableSize=4096,EnablePush=0,MaxConcurrentStreams=100,InitialWindowSize=2147483647,MaxFrameSize=16384,MaxFrameSize=16777215,MaxHeaderListSize=65536,255=5" },
        { 0x4, 0x0, 0, "", "settings " },
        { 0x4, 0x1, 0, "", "settings ack" },
        { 0x5, 0x4, 1, "80000002 8286", "push 2 8286" },
        { 0x5, 0xC, 1, "01 00000004 82 00", "push 4 82" },
        { 0x6, 0x0, 0, "0102030405060708", "ping 0102030405060708" },
        { 0x6, 0x1, 0, "ffffffffffffffff", "ping ffffffffffffffff" },
        { 0x7, 0x0, 0, "80000003 0000000b 6465627567", "goaway 3 EnhanceYourCalm 6465627567" },
        { 0x7, 0x0, 0, "00000000 00000000", "goaway 0 NoError " },
        { 0x8, 0x0, 0, "80000400", "window 1024" },
        { 0x8, 0x0, 5, "7fffffff", "window 2147483647" },
        { 0x9, 0x4, 1, "8286", "continuation 8286" },
        { 0xFF, 0xFF, 9, "0102", "unknown 255 0102" }, // unknown types are read and left to be ignored (section 5.5)
    };

    [Theory]
    [MemberData(nameof(ValidFrames))]
    public void Reads_each_frame_type_in_every_segment_shape(int type, int flags, int streamId, string payloadHex, string expected)
    {
        byte[] frame = Frame(type, flags, streamId, payloadHex);
        foreach (ReadOnlySequence<byte> shape in TestInput.AllShapes(frame))
        {
            var reader = new SequenceReader<byte>(shape);
            Assert.True(Http2FrameReader.TryReadFrame(ref reader, Http2Protocol.DefaultMaxFrameSize, out Http2FrameHeader header, out ReadOnlySequence<byte> payload));
            Assert.Equal(frame.Length, reader.Consumed);
            Assert.Equal(new Http2FrameHeader(frame.Length - 9, (Http2FrameType)type, (Http2Flags)flags, streamId), header);
            Assert.Equal(expected, Parse(header, payload));
        }
    }

    [Theory]
    [MemberData(nameof(ValidFrames))]
    public void Needs_more_data_at_every_cut_point_and_consumes_nothing(int type, int flags, int streamId, string payloadHex, string expected)
    {
        byte[] frame = Frame(type, flags, streamId, payloadHex);
        for (int cut = 0; cut < frame.Length; cut++)
        {
            var partial = new SequenceReader<byte>(TestInput.Split(frame.AsMemory(0, cut), cut > 1 ? [cut / 2] : []));
            Assert.False(Http2FrameReader.TryReadFrame(ref partial, Http2Protocol.DefaultMaxFrameSize, out _, out _));
            Assert.Equal(0, partial.Consumed);

            // The frame then arrives whole, followed by the start of the next one.
            byte[] more = [.. frame, .. frame.AsSpan(0, cut)];
            var reader = new SequenceReader<byte>(TestInput.Split(more, cut == 0 ? [] : [cut]));
            Assert.True(Http2FrameReader.TryReadFrame(ref reader, Http2Protocol.DefaultMaxFrameSize, out Http2FrameHeader header, out ReadOnlySequence<byte> payload));
            Assert.Equal(frame.Length, reader.Consumed);
            Assert.Equal(expected, Parse(header, payload));
            Assert.False(Http2FrameReader.TryReadFrame(ref reader, Http2Protocol.DefaultMaxFrameSize, out _, out _));
        }
    }

    [Fact]
    public void Reads_many_frames_back_to_back()
    {
        byte[] input = [.. Frame(0x4, 0, 0, ""), .. Frame(0x8, 0, 0, "00001000"), .. Frame(0x1, 0x5, 1, "82"), .. Frame(0x6, 0, 0, "0000000000000001")];
        var reader = new SequenceReader<byte>(TestInput.OneByteSegments(input));
        var seen = new List<string>();
        while (Http2FrameReader.TryReadFrame(ref reader, Http2Protocol.DefaultMaxFrameSize, out Http2FrameHeader header, out ReadOnlySequence<byte> payload))
        {
            seen.Add(Parse(header, payload));
        }

        Assert.Equal(["settings ", "window 4096", "headers 82 ", "ping 0000000000000001"], seen);
        Assert.True(reader.End);
    }

    [Fact]
    public void A_frame_over_the_max_frame_size_fails_from_its_header_alone()
    {
        byte[] header = Frame(0x0, 0, 1, "")[..9];
        header[0] = 0x00;
        header[1] = 0x40;
        header[2] = 0x01; // 16385 octets
        var error = Assert.Throws<Http2ConnectionException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(header));
            Http2FrameReader.TryReadFrame(ref reader, Http2Protocol.DefaultMaxFrameSize, out _, out _);
        });
        Assert.Equal(Http2ErrorCode.FrameSizeError, error.ErrorCode);

        // Exactly the limit only waits for the payload.
        header[2] = 0x00;
        var atLimit = new SequenceReader<byte>(new ReadOnlySequence<byte>(header));
        Assert.False(Http2FrameReader.TryReadFrame(ref atLimit, Http2Protocol.DefaultMaxFrameSize, out _, out _));
    }

    [Fact]
    public void The_reserved_bit_of_the_stream_identifier_is_ignored()
    {
        byte[] frame = Frame(0x0, 0, 1, "61");
        frame[5] |= 0x80;
        Assert.Equal("data 61", ReadAndParse(frame));
    }

    public static TheoryData<int, int, int, string, string, string> Errors => new()
    {
        // Frames that need a stream, on stream 0 (section 6.1-6.4, 6.6, 6.10).
        { 0x0, 0x0, 0, "61", "connection", "ProtocolError" },
        { 0x1, 0x4, 0, "82", "connection", "ProtocolError" },
        { 0x2, 0x0, 0, "0000000110", "connection", "ProtocolError" },
        { 0x3, 0x0, 0, "00000008", "connection", "ProtocolError" },
        { 0x5, 0x4, 0, "00000002", "connection", "ProtocolError" },
        { 0x9, 0x4, 0, "82", "connection", "ProtocolError" },

        // Frames of the connection, on a stream (section 6.5, 6.7, 6.8).
        { 0x4, 0x0, 1, "", "connection", "ProtocolError" },
        { 0x4, 0x1, 1, "", "connection", "ProtocolError" },
        { 0x6, 0x0, 1, "0000000000000000", "connection", "ProtocolError" },
        { 0x7, 0x0, 1, "0000000000000000", "connection", "ProtocolError" },

        // Padding (section 6.1, 6.2, 6.6).
        { 0x0, 0x8, 1, "04 616263", "connection", "ProtocolError" },
        { 0x0, 0x8, 1, "01", "connection", "ProtocolError" },
        { 0x0, 0x8, 1, "", "stream", "FrameSizeError" },
        { 0x1, 0xC, 1, "05 8284 8586", "connection", "ProtocolError" },
        { 0x1, 0xC, 1, "", "connection", "FrameSizeError" },
        { 0x5, 0xC, 1, "09 00000002 82", "connection", "ProtocolError" },

        // HEADERS priority fields (section 6.2, 5.3.1).
        { 0x1, 0x24, 1, "000000", "connection", "FrameSizeError" },
        { 0x1, 0x2C, 1, "02 00000003 10 00", "connection", "ProtocolError" },
        { 0x1, 0x24, 3, "00000003 10 82", "stream", "ProtocolError" },

        // PRIORITY (section 6.3).
        { 0x2, 0x0, 1, "00000003", "stream", "FrameSizeError" },
        { 0x2, 0x0, 1, "0000000310 00", "stream", "FrameSizeError" },
        { 0x2, 0x0, 5, "80000005 10", "stream", "ProtocolError" },

        // RST_STREAM (section 6.4).
        { 0x3, 0x0, 1, "000008", "connection", "FrameSizeError" },
        { 0x3, 0x0, 1, "00000008 00", "connection", "FrameSizeError" },

        // SETTINGS (section 6.5, 6.5.2).
        { 0x4, 0x1, 0, "000100001000", "connection", "FrameSizeError" },
        { 0x4, 0x0, 0, "0001000010", "connection", "FrameSizeError" },
        { 0x4, 0x0, 0, "000100001000 00", "connection", "FrameSizeError" },
        { 0x4, 0x0, 0, "000200000002", "connection", "ProtocolError" },
        { 0x4, 0x0, 0, "000480000000", "connection", "FlowControlError" },
        { 0x4, 0x0, 0, "0004ffffffff", "connection", "FlowControlError" },
        { 0x4, 0x0, 0, "000500003fff", "connection", "ProtocolError" },
        { 0x4, 0x0, 0, "000501000000", "connection", "ProtocolError" },
        { 0x4, 0x0, 0, "000300000064 000500000000", "connection", "ProtocolError" },

        // PUSH_PROMISE too short for the promised stream (section 6.6).
        { 0x5, 0x4, 1, "000002", "connection", "FrameSizeError" },

        // PING (section 6.7).
        { 0x6, 0x0, 0, "00000000000000", "connection", "FrameSizeError" },
        { 0x6, 0x1, 0, "000000000000000000", "connection", "FrameSizeError" },

        // GOAWAY (section 6.8).
        { 0x7, 0x0, 0, "00000000000000", "connection", "FrameSizeError" },

        // WINDOW_UPDATE (section 6.9).
        { 0x8, 0x0, 0, "000001", "connection", "FrameSizeError" },
        { 0x8, 0x0, 1, "000001", "connection", "FrameSizeError" },
        { 0x8, 0x0, 1, "00000001 00", "connection", "FrameSizeError" },
        { 0x8, 0x0, 1, "00000000", "stream", "ProtocolError" },
        { 0x8, 0x0, 3, "80000000", "stream", "ProtocolError" },
        { 0x8, 0x0, 0, "00000000", "connection", "ProtocolError" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void Rejects_each_invalid_frame_with_the_error_the_rfc_names(int type, int flags, int streamId, string payloadHex, string kind, string code)
    {
        byte[] frame = Frame(type, flags, streamId, payloadHex);
        foreach (ReadOnlySequence<byte> shape in TestInput.AllShapes(frame))
        {
            var reader = new SequenceReader<byte>(shape);
            Assert.True(Http2FrameReader.TryReadFrame(ref reader, Http2Protocol.DefaultMaxFrameSize, out Http2FrameHeader header, out ReadOnlySequence<byte> payload));
            Exception error = Assert.ThrowsAny<Exception>(() => Parse(header, payload));
            switch (error)
            {
                case Http2ConnectionException connection:
                    Assert.Equal(("connection", code), ("connection", connection.ErrorCode.ToString()));
                    Assert.Equal("connection", kind);
                    break;
                case Http2StreamException stream:
                    Assert.Equal(("stream", code), ("stream", stream.ErrorCode.ToString()));
                    Assert.Equal("stream", kind);
                    Assert.Equal(streamId, stream.StreamId);
                    break;
                default:
                    Assert.Fail($"unexpected {error}");
                    break;
            }
        }
    }

    [Fact]
    public void Reading_a_frame_allocates_nothing()
    {
        byte[] input = [.. Frame(0x0, 0x1, 1, "68656c6c6f"), .. Frame(0x8, 0, 1, "00000400"), .. Frame(0x6, 0, 0, "0102030405060708")];
        var sequence = new ReadOnlySequence<byte>(input);
        long total = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            var reader = new SequenceReader<byte>(sequence);
            while (Http2FrameReader.TryReadFrame(ref reader, Http2Protocol.DefaultMaxFrameSize, out Http2FrameHeader header, out ReadOnlySequence<byte> payload))
            {
                total += header.Type switch
                {
                    Http2FrameType.Data => Http2FrameReader.ReadData(header, payload).Length,
                    Http2FrameType.WindowUpdate => Http2FrameReader.ReadWindowUpdate(header, payload),
                    Http2FrameType.Ping => (long)(Http2FrameReader.ReadPing(header, payload) & 0xFF),
                    _ => 0,
                };
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(100 * (5 + 1024 + 8), total);
    }

    [Fact]
    public void The_connection_preface_is_the_rfc_string()
    {
        Assert.Equal("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", TestInput.Text(Http2Protocol.ClientPreface));
        Assert.Equal(Http2Protocol.ClientPrefaceLength, Http2Protocol.ClientPreface.Length);
    }
}
