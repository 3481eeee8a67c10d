using System.Diagnostics.CodeAnalysis;

namespace FastGate.Protocols.Http2;

/// <summary>A connection error (RFC 9113 section 5.4.1): the connection answers with GOAWAY and closes.</summary>
internal sealed class Http2ConnectionException : Exception
{
    public Http2ConnectionException(Http2ErrorCode errorCode)
        : base(errorCode.ToString()) => ErrorCode = errorCode;

    public Http2ConnectionException()
        : this(Http2ErrorCode.ProtocolError)
    {
    }

    public Http2ConnectionException(string message)
        : base(message) => ErrorCode = Http2ErrorCode.ProtocolError;

    public Http2ConnectionException(string message, Exception innerException)
        : base(message, innerException) => ErrorCode = Http2ErrorCode.ProtocolError;

    public Http2ErrorCode ErrorCode { get; }
}

/// <summary>A stream error (RFC 9113 section 5.4.2): the stream is reset with RST_STREAM; the connection goes on.</summary>
internal sealed class Http2StreamException : Exception
{
    public Http2StreamException(int streamId, Http2ErrorCode errorCode)
        : base(errorCode.ToString())
    {
        StreamId = streamId;
        ErrorCode = errorCode;
    }

    public Http2StreamException()
        : this(0, Http2ErrorCode.ProtocolError)
    {
    }

    public Http2StreamException(string message)
        : base(message) => ErrorCode = Http2ErrorCode.ProtocolError;

    public Http2StreamException(string message, Exception innerException)
        : base(message, innerException) => ErrorCode = Http2ErrorCode.ProtocolError;

    public int StreamId { get; }

    public Http2ErrorCode ErrorCode { get; }
}

/// <summary>Throw helpers, so the callers' hot paths stay small enough to inline.</summary>
internal static class Http2Throw
{
    [DoesNotReturn]
    public static void Connection(Http2ErrorCode errorCode) => throw new Http2ConnectionException(errorCode);

    [DoesNotReturn]
    public static void Stream(int streamId, Http2ErrorCode errorCode) => throw new Http2StreamException(streamId, errorCode);

    /// <summary>A stream error on a stream, a connection error on stream 0 (e.g. section 6.9).</summary>
    [DoesNotReturn]
    public static void StreamOrConnection(int streamId, Http2ErrorCode errorCode)
    {
        if (streamId == 0)
        {
            throw new Http2ConnectionException(errorCode);
        }

        throw new Http2StreamException(streamId, errorCode);
    }
}
