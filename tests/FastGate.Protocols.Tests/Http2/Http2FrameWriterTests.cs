using System.Buffers;
using FastGate.Protocols.Http2;
using FastGate.Protocols.Tests.Hpack;
using static FastGate.Protocols.Tests.Http2.Http2TestFrames;

namespace FastGate.Protocols.Tests.Http2;

public class Http2FrameWriterTests
{
    [Fact]
    public void Writes_each_frame_type_byte_for_byte()
    {
        AssertHex("000012 04 00 00000000 0002 00000000 0003 00000064 0004 0000ffff", Written(o => Http2FrameWriter.WriteSettings(o,
            [new(Http2SettingsParameter.EnablePush, 0), new(Http2SettingsParameter.MaxConcurrentStreams, 100), new(Http2SettingsParameter.InitialWindowSize, 65535)])));
        AssertHex("000000 04 01 00000000", Written(Http2FrameWriter.WriteSettingsAck));
        AssertHex("000008 06 01 00000000 0102030405060708", Written(o => Http2FrameWriter.WritePing(o, 0x0102030405060708, ack: true)));
        AssertHex("000008 06 00 00000000 0000000000000001", Written(o => Http2FrameWriter.WritePing(o, 1, ack: false)));
        AssertHex("00000a 07 00 00000000 00000003 0000000b 6869", Written(o => Http2FrameWriter.WriteGoAway(o, 3, Http2ErrorCode.EnhanceYourCalm, "hi"u8)));
        AssertHex("000008 07 00 00000000 7fffffff 00000000", Written(o => Http2FrameWriter.WriteGoAway(o, int.MaxValue, Http2ErrorCode.NoError)));
        AssertHex("000004 03 00 00000001 00000008", Written(o => Http2FrameWriter.WriteRstStream(o, 1, Http2ErrorCode.Cancel)));
        AssertHex("000004 08 00 00000000 00000400", Written(o => Http2FrameWriter.WriteWindowUpdate(o, 0, 1024)));
        AssertHex("000004 08 00 7fffffff 7fffffff", Written(o => Http2FrameWriter.WriteWindowUpdate(o, int.MaxValue, int.MaxValue)));
        AssertHex("000005 00 01 00000001 68656c6c6f", Written(o => Http2FrameWriter.WriteData(o, 1, "hello"u8, endStream: true, 16384)));
        AssertHex("000000 00 01 00000003", Written(o => Http2FrameWriter.WriteData(o, 3, [], endStream: true, 16384)));
        AssertHex("000003 01 05 00000001 828684", Written(o => Http2FrameWriter.WriteHeaders(o, 1, Hex.Bytes("828684"), endStream: true, 16384)));
        AssertHex("000003 01 04 00000001 828684", Written(o => Http2FrameWriter.WriteHeaders(o, 1, Hex.Bytes("828684"), endStream: false, 16384)));
    }

    [Fact]
    public void Splits_data_at_the_max_frame_size_with_end_stream_on_the_last()
    {
        AssertHex("000002 00 00 00000001 6865" + "000002 00 00 00000001 6c6c" + "000001 00 01 00000001 6f",
            Written(o => Http2FrameWriter.WriteData(o, 1, "hello"u8, endStream: true, maxFrameSize: 2)));

        ReadOnlySequence<byte> segmented = Http1.TestInput.Split("hello"u8.ToArray(), 1, 3);
        AssertHex("000002 00 00 00000001 6865" + "000002 00 00 00000001 6c6c" + "000001 00 00 00000001 6f",
            Written(o => Http2FrameWriter.WriteData(o, 1, segmented, endStream: false, maxFrameSize: 2)));
    }

    [Fact]
    public void Splits_a_field_block_into_headers_and_continuation_frames()
    {
        // END_STREAM stays on HEADERS (section 8.1); END_HEADERS goes on the last CONTINUATION.
        AssertHex("000002 01 01 00000005 8286" + "000002 09 00 00000005 8441" + "000001 09 04 00000005 0f",
            Written(o => Http2FrameWriter.WriteHeaders(o, 5, Hex.Bytes("8286 8441 0f"), endStream: true, maxFrameSize: 2)));
        AssertHex("000002 01 00 00000005 8286" + "000002 09 04 00000005 8441",
            Written(o => Http2FrameWriter.WriteHeaders(o, 5, Hex.Bytes("8286 8441"), endStream: false, maxFrameSize: 2)));
    }

    [Fact]
    public void What_the_writer_writes_the_reader_reads()
    {
        var output = new ArrayBufferWriter<byte>();
        Http2FrameWriter.WriteSettings(output, [new(Http2SettingsParameter.MaxFrameSize, 1 << 20), new(Http2SettingsParameter.HeaderTableSize, 0)]);
        Http2FrameWriter.WriteSettingsAck(output);
        Http2FrameWriter.WriteHeaders(output, 1, Hex.Bytes("8286 8441 0f77"), endStream: false, maxFrameSize: 4);
        Http2FrameWriter.WriteData(output, 1, "body"u8, endStream: true, maxFrameSize: 16384);
        Http2FrameWriter.WritePing(output, 42, ack: true);
        Http2FrameWriter.WriteWindowUpdate(output, 1, 100);
        Http2FrameWriter.WriteRstStream(output, 1, Http2ErrorCode.StreamClosed);
        Http2FrameWriter.WriteGoAway(output, 1, Http2ErrorCode.ProtocolError, "x"u8);

        var reader = new SequenceReader<byte>(Http1.TestInput.OneByteSegments(output.WrittenMemory));
        var seen = new List<string>();
        while (Http2FrameReader.TryReadFrame(ref reader, Http2Protocol.DefaultMaxFrameSize, out Http2FrameHeader header, out ReadOnlySequence<byte> payload))
        {
            seen.Add($"{(int)header.Flags}: {Parse(header, payload)}");
        }

        Assert.True(reader.End);
        Assert.Equal(
        [
            "0: settings MaxFrameSize=1048576,HeaderTableSize=0",
            "1: settings ack",
            "0: headers 82868441 ",
            "4: continuation 0f77",
            "1: data 626f6479",
            "1: ping 000000000000002a",
            "0: window 100",
            "0: rst StreamClosed",
            "0: goaway 1 ProtocolError 78",
        ], seen);
    }

    private static string Written(Action<IBufferWriter<byte>> write)
    {
        var output = new ArrayBufferWriter<byte>();
        write(output);
        return Hex.Of(output.WrittenSpan);
    }

    /// <summary>Expected bytes, spaced for reading.</summary>
    private static void AssertHex(string expected, string actual) => Assert.Equal(expected.Replace(" ", ""), actual);
}
