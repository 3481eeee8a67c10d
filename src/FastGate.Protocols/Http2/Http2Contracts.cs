using System.Buffers;

namespace FastGate.Protocols.Http2;

/// <summary>Frame types (RFC 9113 section 6). Frames of other types are ignored (section 4.1).</summary>
internal enum Http2FrameType : byte
{
    Data = 0x0,
    Headers = 0x1,
    Priority = 0x2,
    RstStream = 0x3,
    Settings = 0x4,
    PushPromise = 0x5,
    Ping = 0x6,
    GoAway = 0x7,
    WindowUpdate = 0x8,
    Continuation = 0x9,
}

/// <summary>Frame flags (RFC 9113 section 6); each is defined only for some frame types.</summary>
[Flags]
internal enum Http2Flags : byte
{
    None = 0x0,

    /// <summary>ACK on SETTINGS and PING.</summary>
    Ack = 0x1,

    /// <summary>END_STREAM on DATA and HEADERS.</summary>
#pragma warning disable CA1069 // RFC 9113 gives ACK and END_STREAM the same bit, on different frame types.
    EndStream = 0x1,
#pragma warning restore CA1069

    /// <summary>END_HEADERS on HEADERS, PUSH_PROMISE and CONTINUATION.</summary>
    EndHeaders = 0x4,

    /// <summary>PADDED on DATA, HEADERS and PUSH_PROMISE.</summary>
    Padded = 0x8,

    /// <summary>PRIORITY on HEADERS.</summary>
    Priority = 0x20,
}

/// <summary>Error codes (RFC 9113 section 7).</summary>
internal enum Http2ErrorCode : uint
{
    NoError = 0x0,
    ProtocolError = 0x1,
    InternalError = 0x2,
    FlowControlError = 0x3,
    SettingsTimeout = 0x4,
    StreamClosed = 0x5,
    FrameSizeError = 0x6,
    RefusedStream = 0x7,
    Cancel = 0x8,
    CompressionError = 0x9,
    ConnectError = 0xa,
    EnhanceYourCalm = 0xb,
    InadequateSecurity = 0xc,
    Http11Required = 0xd,
}

/// <summary>Settings parameters (RFC 9113 section 6.5.2). Unknown identifiers are ignored.</summary>
internal enum Http2SettingsParameter : ushort
{
    HeaderTableSize = 0x1,
    EnablePush = 0x2,
    MaxConcurrentStreams = 0x3,
    InitialWindowSize = 0x4,
    MaxFrameSize = 0x5,
    MaxHeaderListSize = 0x6,
}

/// <summary>One parameter of a SETTINGS frame.</summary>
internal readonly record struct Http2Setting(Http2SettingsParameter Parameter, uint Value);

/// <summary>Receives the parameters of a SETTINGS frame in order, after each was validated.</summary>
internal interface IHttp2SettingsHandler
{
    void OnSetting(Http2SettingsParameter parameter, uint value);
}

/// <summary>The priority fields of a HEADERS or PRIORITY frame (RFC 9113 section 6.3; deprecated, parsed and ignored).</summary>
internal readonly record struct Http2PriorityFields(bool Exclusive, int StreamDependency, byte Weight);

/// <summary>Protocol constants of RFC 9113.</summary>
internal static class Http2Protocol
{
    /// <summary>The client connection preface (section 3.4).</summary>
    public static ReadOnlySpan<byte> ClientPreface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    public const int ClientPrefaceLength = 24;

    /// <summary>
    /// Whether a connection's first bytes are the client preface (prior knowledge, section 3.3): true when they
    /// hold it whole, false as soon as a byte differs (an HTTP/1.1 request line differs at its first byte unless its
    /// method is "PRI"), null while they are a proper prefix of it. Nothing is consumed.
    /// </summary>
    public static bool? MatchClientPreface(in ReadOnlySequence<byte> buffer)
    {
        var preface = ClientPreface;
        int offset = 0;
        foreach (var segment in buffer)
        {
            var span = segment.Span;
            int length = Math.Min(span.Length, preface.Length - offset);
            if (!span[..length].SequenceEqual(preface.Slice(offset, length)))
            {
                return false;
            }

            offset += length;
            if (offset == preface.Length)
            {
                return true;
            }
        }

        return null;
    }

    /// <summary>SETTINGS_MAX_FRAME_SIZE's initial value and its lowest allowed value (section 6.5.2).</summary>
    public const int DefaultMaxFrameSize = 16_384;

    /// <summary>The largest allowed SETTINGS_MAX_FRAME_SIZE: 2^24 - 1 (section 6.5.2).</summary>
    public const int MaxAllowedFrameSize = 16_777_215;

    /// <summary>SETTINGS_INITIAL_WINDOW_SIZE's initial value (section 6.5.2).</summary>
    public const int DefaultInitialWindowSize = 65_535;

    /// <summary>The largest flow-control window: 2^31 - 1 (section 6.9.1).</summary>
    public const int MaxWindowSize = int.MaxValue;
}
