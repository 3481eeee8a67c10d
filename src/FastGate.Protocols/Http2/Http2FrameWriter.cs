using System.Buffers;
using System.Buffers.Binary;

namespace FastGate.Protocols.Http2;

/// <summary>
/// Writes frames (RFC 9113 section 6) into an <see cref="IBufferWriter{T}"/>. No padding and no
/// priority fields are ever sent. Callers respect flow control and the peer's SETTINGS_MAX_FRAME_SIZE,
/// which the methods that can split take as a parameter.
/// </summary>
internal static class Http2FrameWriter
{
    /// <summary>
    /// HEADERS followed by as many CONTINUATION frames as the field block needs at
    /// <paramref name="maxFrameSize"/> (section 6.10); END_HEADERS on the last one, END_STREAM on HEADERS.
    /// </summary>
    public static void WriteHeaders(IBufferWriter<byte> output, int streamId, ReadOnlySpan<byte> fieldBlock, bool endStream, int maxFrameSize)
    {
        RequireStream(streamId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxFrameSize);
        int length = Math.Min(fieldBlock.Length, maxFrameSize);
        Http2Flags flags = endStream ? Http2Flags.EndStream : Http2Flags.None;
        if (length == fieldBlock.Length)
        {
            flags |= Http2Flags.EndHeaders;
        }

        WriteFrame(output, new Http2FrameHeader(length, Http2FrameType.Headers, flags, streamId), fieldBlock[..length]);
        fieldBlock = fieldBlock[length..];
        while (!fieldBlock.IsEmpty)
        {
            length = Math.Min(fieldBlock.Length, maxFrameSize);
            flags = length == fieldBlock.Length ? Http2Flags.EndHeaders : Http2Flags.None;
            WriteFrame(output, new Http2FrameHeader(length, Http2FrameType.Continuation, flags, streamId), fieldBlock[..length]);
            fieldBlock = fieldBlock[length..];
        }
    }

    /// <summary>
    /// DATA frames of at most <paramref name="maxFrameSize"/> octets; END_STREAM on the last. Empty data
    /// gives one empty frame (how a stream is ended without data).
    /// </summary>
    public static void WriteData(IBufferWriter<byte> output, int streamId, ReadOnlySpan<byte> data, bool endStream, int maxFrameSize)
    {
        RequireStream(streamId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxFrameSize);
        do
        {
            int length = Math.Min(data.Length, maxFrameSize);
            bool last = length == data.Length;
            var flags = last && endStream ? Http2Flags.EndStream : Http2Flags.None;
            WriteFrame(output, new Http2FrameHeader(length, Http2FrameType.Data, flags, streamId), data[..length]);
            data = data[length..];
        }
        while (!data.IsEmpty);
    }

    /// <summary>DATA from a multi-segment body, split at <paramref name="maxFrameSize"/>.</summary>
    public static void WriteData(IBufferWriter<byte> output, int streamId, in ReadOnlySequence<byte> data, bool endStream, int maxFrameSize)
    {
        if (data.IsSingleSegment)
        {
            WriteData(output, streamId, data.FirstSpan, endStream, maxFrameSize);
            return;
        }

        RequireStream(streamId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxFrameSize);
        ReadOnlySequence<byte> rest = data;
        do
        {
            int length = (int)Math.Min(rest.Length, maxFrameSize);
            bool last = length == rest.Length;
            var flags = last && endStream ? Http2Flags.EndStream : Http2Flags.None;
            Span<byte> span = output.GetSpan(Http2FrameHeader.Size + length);
            new Http2FrameHeader(length, Http2FrameType.Data, flags, streamId).Write(span);
            rest.Slice(0, length).CopyTo(span[Http2FrameHeader.Size..]);
            output.Advance(Http2FrameHeader.Size + length);
            rest = rest.Slice(length);
        }
        while (!rest.IsEmpty);
    }

    /// <summary>SETTINGS with the given parameters, in order (section 6.5).</summary>
    public static void WriteSettings(IBufferWriter<byte> output, ReadOnlySpan<Http2Setting> settings)
    {
        int length = settings.Length * 6;
        Span<byte> span = output.GetSpan(Http2FrameHeader.Size + length);
        new Http2FrameHeader(length, Http2FrameType.Settings, Http2Flags.None, 0).Write(span);
        Span<byte> body = span[Http2FrameHeader.Size..];
        foreach (Http2Setting setting in settings)
        {
            BinaryPrimitives.WriteUInt16BigEndian(body, (ushort)setting.Parameter);
            BinaryPrimitives.WriteUInt32BigEndian(body[2..], setting.Value);
            body = body[6..];
        }

        output.Advance(Http2FrameHeader.Size + length);
    }

    /// <summary>SETTINGS with ACK and no payload (section 6.5.3).</summary>
    public static void WriteSettingsAck(IBufferWriter<byte> output)
        => WriteFrame(output, new Http2FrameHeader(0, Http2FrameType.Settings, Http2Flags.Ack, 0), []);

    /// <summary>PING, or the PING ACK that echoes the opaque data (section 6.7).</summary>
    public static void WritePing(IBufferWriter<byte> output, ulong opaqueData, bool ack)
    {
        Span<byte> span = output.GetSpan(Http2FrameHeader.Size + 8);
        new Http2FrameHeader(8, Http2FrameType.Ping, ack ? Http2Flags.Ack : Http2Flags.None, 0).Write(span);
        BinaryPrimitives.WriteUInt64BigEndian(span[Http2FrameHeader.Size..], opaqueData);
        output.Advance(Http2FrameHeader.Size + 8);
    }

    /// <summary>GOAWAY with the last stream processed and optional debug data (section 6.8).</summary>
    public static void WriteGoAway(IBufferWriter<byte> output, int lastStreamId, Http2ErrorCode errorCode, ReadOnlySpan<byte> debugData = default)
    {
        int length = 8 + debugData.Length;
        Span<byte> span = output.GetSpan(Http2FrameHeader.Size + length);
        new Http2FrameHeader(length, Http2FrameType.GoAway, Http2Flags.None, 0).Write(span);
        BinaryPrimitives.WriteUInt32BigEndian(span[9..], (uint)lastStreamId & 0x7FFF_FFFF);
        BinaryPrimitives.WriteUInt32BigEndian(span[13..], (uint)errorCode);
        debugData.CopyTo(span[17..]);
        output.Advance(Http2FrameHeader.Size + length);
    }

    /// <summary>RST_STREAM (section 6.4).</summary>
    public static void WriteRstStream(IBufferWriter<byte> output, int streamId, Http2ErrorCode errorCode)
    {
        RequireStream(streamId);
        Span<byte> span = output.GetSpan(Http2FrameHeader.Size + 4);
        new Http2FrameHeader(4, Http2FrameType.RstStream, Http2Flags.None, streamId).Write(span);
        BinaryPrimitives.WriteUInt32BigEndian(span[Http2FrameHeader.Size..], (uint)errorCode);
        output.Advance(Http2FrameHeader.Size + 4);
    }

    /// <summary>WINDOW_UPDATE for a stream, or for the connection with stream 0 (section 6.9).</summary>
    public static void WriteWindowUpdate(IBufferWriter<byte> output, int streamId, int increment)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(increment);
        ArgumentOutOfRangeException.ThrowIfNegative(streamId);
        Span<byte> span = output.GetSpan(Http2FrameHeader.Size + 4);
        new Http2FrameHeader(4, Http2FrameType.WindowUpdate, Http2Flags.None, streamId).Write(span);
        BinaryPrimitives.WriteUInt32BigEndian(span[Http2FrameHeader.Size..], (uint)increment);
        output.Advance(Http2FrameHeader.Size + 4);
    }

    private static void WriteFrame(IBufferWriter<byte> output, in Http2FrameHeader header, ReadOnlySpan<byte> payload)
    {
        Span<byte> span = output.GetSpan(Http2FrameHeader.Size + payload.Length);
        header.Write(span);
        payload.CopyTo(span[Http2FrameHeader.Size..]);
        output.Advance(Http2FrameHeader.Size + payload.Length);
    }

    private static void RequireStream(int streamId) => ArgumentOutOfRangeException.ThrowIfNegativeOrZero(streamId);
}
