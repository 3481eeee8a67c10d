using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace FastGate.Protocols.Http2;

/// <summary>
/// Reads frames (RFC 9113 section 4) and validates each payload exactly as section 6 says, throwing
/// <see cref="Http2ConnectionException"/> or <see cref="Http2StreamException"/> with the error the RFC
/// names. Stateless: whether a frame is allowed in the current stream or connection state is the
/// connection's concern.
/// </summary>
[SkipLocalsInit]
internal static class Http2FrameReader
{
    /// <summary>
    /// Reads one whole frame. False when the input holds less than the whole frame: nothing is consumed.
    /// A frame longer than <paramref name="maxFrameSize"/> (our SETTINGS_MAX_FRAME_SIZE) is a connection
    /// error FRAME_SIZE_ERROR as soon as its header is read, before its payload is buffered (section 4.2).
    /// </summary>
    public static bool TryReadFrame(ref SequenceReader<byte> reader, uint maxFrameSize, out Http2FrameHeader header, out ReadOnlySequence<byte> payload)
    {
        payload = default;
        ReadOnlySpan<byte> unread = reader.UnreadSpan;
        if (unread.Length >= Http2FrameHeader.Size)
        {
            header = Http2FrameHeader.Read(unread);
        }
        else if (!TryReadSplitHeader(ref reader, out header))
        {
            return false;
        }

        if ((uint)header.Length > maxFrameSize)
        {
            Http2Throw.Connection(Http2ErrorCode.FrameSizeError);
        }

        if (reader.Remaining < Http2FrameHeader.Size + header.Length)
        {
            return false;
        }

        reader.Advance(Http2FrameHeader.Size);
        reader.TryReadExact(header.Length, out payload);
        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool TryReadSplitHeader(ref SequenceReader<byte> reader, out Http2FrameHeader header)
    {
        Span<byte> buffer = stackalloc byte[Http2FrameHeader.Size];
        if (!reader.TryCopyTo(buffer))
        {
            header = default;
            return false;
        }

        header = Http2FrameHeader.Read(buffer);
        return true;
    }

    /// <summary>
    /// DATA (section 6.1): returns the data without padding.
    /// <code>
    /// DATA Frame {
    ///   Length (24), Type (8) = 0x00,
    ///   Unused Flags (4), PADDED Flag (1), Unused Flags (2), END_STREAM Flag (1),
    ///   Reserved (1), Stream Identifier (31),
    ///   [Pad Length (8)],
    ///   Data (..),
    ///   Padding (..2040),
    /// }
    /// </code>
    /// </summary>
    public static ReadOnlySequence<byte> ReadData(in Http2FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        RequireStream(header);
        return RemovePadding(header, payload);
    }

    /// <summary>
    /// HEADERS (section 6.2): returns the field block fragment; the priority fields, if present, are
    /// validated and returned (they are deprecated and ignored, section 5.3.2).
    /// <code>
    /// HEADERS Frame {
    ///   Length (24), Type (8) = 0x01,
    ///   Unused Flags (2), PRIORITY Flag (1), Unused Flag (1), PADDED Flag (1), END_HEADERS Flag (1),
    ///   Unused Flag (1), END_STREAM Flag (1),
    ///   Reserved (1), Stream Identifier (31),
    ///   [Pad Length (8)],
    ///   [Exclusive (1)], [Stream Dependency (31)], [Weight (8)],
    ///   Field Block Fragment (..),
    ///   Padding (..2040),
    /// }
    /// </code>
    /// </summary>
    public static ReadOnlySequence<byte> ReadHeaders(in Http2FrameHeader header, in ReadOnlySequence<byte> payload, out Http2PriorityFields? priority)
    {
        RequireStream(header);
        ReadOnlySequence<byte> fragment = RemovePadding(header, payload);
        priority = null;
        if (header.HasFlag(Http2Flags.Priority))
        {
            if (fragment.Length < 5)
            {
                // The padding left no room for the priority fields: a frame too small for its mandatory
                // data (section 4.2), on a frame that carries a field block, so a connection error.
                Http2Throw.Connection(payload.Length < MandatoryLength(header, 5) ? Http2ErrorCode.FrameSizeError : Http2ErrorCode.ProtocolError);
            }

            priority = ReadPriorityFields(header.StreamId, fragment.Slice(0, 5));
            fragment = fragment.Slice(5);
        }

        return fragment;
    }

    /// <summary>
    /// PRIORITY (section 6.3): exactly 5 octets, on a stream; parsed so it can be validated, then ignored.
    /// <code>
    /// PRIORITY Frame {
    ///   Length (24) = 0x05, Type (8) = 0x02, Unused Flags (8),
    ///   Reserved (1), Stream Identifier (31),
    ///   Exclusive (1), Stream Dependency (31), Weight (8),
    /// }
    /// </code>
    /// </summary>
    public static Http2PriorityFields ReadPriority(in Http2FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        RequireStream(header);
        if (payload.Length != 5)
        {
            Http2Throw.Stream(header.StreamId, Http2ErrorCode.FrameSizeError);
        }

        return ReadPriorityFields(header.StreamId, payload);
    }

    /// <summary>
    /// RST_STREAM (section 6.4): exactly 4 octets, on a stream.
    /// <code>
    /// RST_STREAM Frame {
    ///   Length (24) = 0x04, Type (8) = 0x03, Unused Flags (8),
    ///   Reserved (1), Stream Identifier (31),
    ///   Error Code (32),
    /// }
    /// </code>
    /// </summary>
    public static Http2ErrorCode ReadRstStream(in Http2FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        RequireStream(header);
        if (payload.Length != 4)
        {
            Http2Throw.Connection(Http2ErrorCode.FrameSizeError);
        }

        return (Http2ErrorCode)ReadUInt32(payload);
    }

    /// <summary>
    /// SETTINGS (section 6.5): on stream 0; an ACK carries nothing; otherwise a multiple of 6 octets, each
    /// parameter validated (section 6.5.2) and passed to <paramref name="handler"/> in order. Returns
    /// whether this is an ACK.
    /// <code>
    /// SETTINGS Frame {
    ///   Length (24), Type (8) = 0x04,
    ///   Unused Flags (7), ACK Flag (1),
    ///   Reserved (1), Stream Identifier (31) = 0,
    ///   Setting (48) ...,
    /// }
    /// Setting {
    ///   Identifier (16),
    ///   Value (32),
    /// }
    /// </code>
    /// </summary>
    public static bool ReadSettings<THandler>(in Http2FrameHeader header, in ReadOnlySequence<byte> payload, ref THandler handler)
        where THandler : struct, IHttp2SettingsHandler
    {
        RequireConnection(header);
        if (header.HasFlag(Http2Flags.Ack))
        {
            if (payload.Length != 0)
            {
                Http2Throw.Connection(Http2ErrorCode.FrameSizeError);
            }

            return true;
        }

        if (payload.Length % 6 != 0)
        {
            Http2Throw.Connection(Http2ErrorCode.FrameSizeError);
        }

        Span<byte> setting = stackalloc byte[6];
        var reader = new SequenceReader<byte>(payload);
        while (reader.TryCopyTo(setting))
        {
            reader.Advance(6);
            var parameter = (Http2SettingsParameter)BinaryPrimitives.ReadUInt16BigEndian(setting);
            uint value = BinaryPrimitives.ReadUInt32BigEndian(setting[2..]);
            switch (parameter)
            {
                case Http2SettingsParameter.EnablePush when value > 1:
                    Http2Throw.Connection(Http2ErrorCode.ProtocolError);
                    break;
                case Http2SettingsParameter.InitialWindowSize when value > Http2Protocol.MaxWindowSize:
                    Http2Throw.Connection(Http2ErrorCode.FlowControlError);
                    break;
                case Http2SettingsParameter.MaxFrameSize when value is < Http2Protocol.DefaultMaxFrameSize or > Http2Protocol.MaxAllowedFrameSize:
                    Http2Throw.Connection(Http2ErrorCode.ProtocolError);
                    break;
            }

            // Unknown identifiers are passed on too: the handler ignores them (section 6.5.2).
            handler.OnSetting(parameter, value);
        }

        return false;
    }

    /// <summary>
    /// PING (section 6.7): exactly 8 octets on stream 0. Returns the opaque data.
    /// <code>
    /// PING Frame {
    ///   Length (24) = 0x08, Type (8) = 0x06,
    ///   Unused Flags (7), ACK Flag (1),
    ///   Reserved (1), Stream Identifier (31) = 0,
    ///   Opaque Data (64),
    /// }
    /// </code>
    /// </summary>
    public static ulong ReadPing(in Http2FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        RequireConnection(header);
        if (payload.Length != 8)
        {
            Http2Throw.Connection(Http2ErrorCode.FrameSizeError);
        }

        Span<byte> data = stackalloc byte[8];
        payload.CopyTo(data);
        return BinaryPrimitives.ReadUInt64BigEndian(data);
    }

    /// <summary>
    /// GOAWAY (section 6.8): at least 8 octets on stream 0.
    /// <code>
    /// GOAWAY Frame {
    ///   Length (24), Type (8) = 0x07, Unused Flags (8),
    ///   Reserved (1), Stream Identifier (31) = 0,
    ///   Reserved (1), Last-Stream-ID (31),
    ///   Error Code (32),
    ///   Additional Debug Data (..),
    /// }
    /// </code>
    /// </summary>
    public static int ReadGoAway(in Http2FrameHeader header, in ReadOnlySequence<byte> payload, out Http2ErrorCode errorCode, out ReadOnlySequence<byte> debugData)
    {
        RequireConnection(header);
        if (payload.Length < 8)
        {
            Http2Throw.Connection(Http2ErrorCode.FrameSizeError);
        }

        int lastStreamId = (int)(ReadUInt32(payload) & 0x7FFF_FFFF);
        errorCode = (Http2ErrorCode)ReadUInt32(payload.Slice(4));
        debugData = payload.Slice(8);
        return lastStreamId;
    }

    /// <summary>
    /// WINDOW_UPDATE (section 6.9): exactly 4 octets; an increment of 0 is a stream error on a stream and a
    /// connection error on stream 0. Returns the increment.
    /// <code>
    /// WINDOW_UPDATE Frame {
    ///   Length (24) = 0x04, Type (8) = 0x08, Unused Flags (8),
    ///   Reserved (1), Stream Identifier (31),
    ///   Reserved (1), Window Size Increment (31),
    /// }
    /// </code>
    /// </summary>
    public static int ReadWindowUpdate(in Http2FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        if (payload.Length != 4)
        {
            Http2Throw.Connection(Http2ErrorCode.FrameSizeError);
        }

        int increment = (int)(ReadUInt32(payload) & 0x7FFF_FFFF);
        if (increment == 0)
        {
            Http2Throw.StreamOrConnection(header.StreamId, Http2ErrorCode.ProtocolError);
        }

        return increment;
    }

    /// <summary>
    /// CONTINUATION (section 6.10): on a stream; the payload is a field block fragment.
    /// <code>
    /// CONTINUATION Frame {
    ///   Length (24), Type (8) = 0x09,
    ///   Unused Flags (5), END_HEADERS Flag (1), Unused Flags (2),
    ///   Reserved (1), Stream Identifier (31),
    ///   Field Block Fragment (..),
    /// }
    /// </code>
    /// </summary>
    public static ReadOnlySequence<byte> ReadContinuation(in Http2FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        RequireStream(header);
        return payload;
    }

    /// <summary>
    /// PUSH_PROMISE (section 6.6): on a stream; returns the field block fragment. A server never accepts
    /// one (section 8.4): that check belongs to the connection, which knows its role.
    /// <code>
    /// PUSH_PROMISE Frame {
    ///   Length (24), Type (8) = 0x05,
    ///   Unused Flags (4), PADDED Flag (1), END_HEADERS Flag (1), Unused Flags (2),
    ///   Reserved (1), Stream Identifier (31),
    ///   [Pad Length (8)],
    ///   Reserved (1), Promised Stream ID (31),
    ///   Field Block Fragment (..),
    ///   Padding (..2040),
    /// }
    /// </code>
    /// </summary>
    public static ReadOnlySequence<byte> ReadPushPromise(in Http2FrameHeader header, in ReadOnlySequence<byte> payload, out int promisedStreamId)
    {
        RequireStream(header);
        ReadOnlySequence<byte> rest = RemovePadding(header, payload);
        if (rest.Length < 4)
        {
            Http2Throw.Connection(payload.Length < MandatoryLength(header, 4) ? Http2ErrorCode.FrameSizeError : Http2ErrorCode.ProtocolError);
        }

        promisedStreamId = (int)(ReadUInt32(rest) & 0x7FFF_FFFF);
        return rest.Slice(4);
    }

    /// <summary>
    /// Strips Pad Length and Padding (section 6.1, 6.2, 6.6): padding as long as the payload or longer is a
    /// connection error PROTOCOL_ERROR; a PADDED frame without room for Pad Length is too small (section 4.2).
    /// </summary>
    private static ReadOnlySequence<byte> RemovePadding(in Http2FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        if (!header.HasFlag(Http2Flags.Padded))
        {
            return payload;
        }

        if (payload.IsEmpty)
        {
            // Frames carrying a field block alter connection state (section 4.2); DATA only its stream.
            if (header.Type == Http2FrameType.Data)
            {
                Http2Throw.Stream(header.StreamId, Http2ErrorCode.FrameSizeError);
            }

            Http2Throw.Connection(Http2ErrorCode.FrameSizeError);
        }

        int padLength = payload.FirstSpan[0];
        if (padLength >= payload.Length)
        {
            Http2Throw.Connection(Http2ErrorCode.ProtocolError);
        }

        return payload.Slice(1, payload.Length - 1 - padLength);
    }

    /// <summary>Pad Length (when PADDED) plus the fixed fields that follow it.</summary>
    private static int MandatoryLength(in Http2FrameHeader header, int fixedFields)
        => fixedFields + (header.HasFlag(Http2Flags.Padded) ? 1 : 0);

    /// <summary>Exclusive, Stream Dependency, Weight; a stream depending on itself is a stream error (section 5.3.1).</summary>
    private static Http2PriorityFields ReadPriorityFields(int streamId, in ReadOnlySequence<byte> fields)
    {
        Span<byte> data = stackalloc byte[5];
        fields.Slice(0, 5).CopyTo(data);
        uint dependency = BinaryPrimitives.ReadUInt32BigEndian(data);
        int dependencyId = (int)(dependency & 0x7FFF_FFFF);
        if (dependencyId == streamId)
        {
            Http2Throw.Stream(streamId, Http2ErrorCode.ProtocolError);
        }

        return new Http2PriorityFields((dependency & 0x8000_0000) != 0, dependencyId, data[4]);
    }

    /// <summary>DATA, HEADERS, PRIORITY, RST_STREAM, PUSH_PROMISE and CONTINUATION belong to a stream.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RequireStream(in Http2FrameHeader header)
    {
        if (header.StreamId == 0)
        {
            Http2Throw.Connection(Http2ErrorCode.ProtocolError);
        }
    }

    /// <summary>SETTINGS, PING and GOAWAY apply to the connection: stream 0 only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RequireConnection(in Http2FrameHeader header)
    {
        if (header.StreamId != 0)
        {
            Http2Throw.Connection(Http2ErrorCode.ProtocolError);
        }
    }

    private static uint ReadUInt32(in ReadOnlySequence<byte> source)
    {
        ReadOnlySpan<byte> first = source.FirstSpan;
        if (first.Length >= 4)
        {
            return BinaryPrimitives.ReadUInt32BigEndian(first);
        }

        Span<byte> data = stackalloc byte[4];
        source.Slice(0, 4).CopyTo(data);
        return BinaryPrimitives.ReadUInt32BigEndian(data);
    }
}
