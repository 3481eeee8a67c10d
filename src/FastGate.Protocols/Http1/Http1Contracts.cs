using System.Buffers;

namespace FastGate.Protocols.Http1;

/// <summary>HTTP version of a request or status line (RFC 9112 section 2.3).</summary>
internal enum Http1Version : byte
{
    Http10 = 0,
    Http11 = 1,
}

/// <summary>
/// Receives the parts of a request head. The parser is stateless and generic over a struct handler so
/// every callback is a direct, inlinable call. Spans are only valid during the callback.
/// </summary>
internal interface IHttp1RequestHeadHandler : IHttp1FieldHandler
{
    /// <param name="method">the method token, validated as a token (RFC 9110 section 9.1)</param>
    /// <param name="target">the request-target as sent (origin-, absolute-, authority- or asterisk-form)</param>
    void OnRequestLine(ReadOnlySpan<byte> method, ReadOnlySpan<byte> target, Http1Version version);
}

/// <summary>Receives the parts of a response head (an upstream's answer).</summary>
internal interface IHttp1ResponseHeadHandler : IHttp1FieldHandler
{
    void OnStatusLine(Http1Version version, int statusCode, ReadOnlySpan<byte> reasonPhrase);
}

/// <summary>
/// Receives field lines (RFC 9112 section 5). Both head handlers extend it so one field-line parser
/// (<see cref="Http1FieldParser"/>) serves requests, responses and chunked trailers.
/// </summary>
internal interface IHttp1FieldHandler
{
    /// <param name="name">the field name, validated as a token</param>
    /// <param name="value">the field value with leading and trailing OWS removed, validated (no CTLs but HTAB)</param>
    void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value);
}

/// <summary>Why a message was rejected. Each reason ends the connection.</summary>
internal enum Http1ParseError : byte
{
    InvalidRequestLine,
    InvalidMethod,
    InvalidTarget,
    InvalidVersion,
    UnsupportedVersion,
    InvalidStatusLine,
    InvalidHeaderName,
    WhitespaceBeforeColon,
    ObsoleteLineFolding,
    InvalidHeaderValue,
    BareCarriageReturn,
    BareLineFeed,
    InvalidChunkSize,
    InvalidChunkLine,
    InvalidChunkData,
    ChunkLineTooLong,
    InvalidTrailer,
    /// <summary>A start line or field line longer than <see cref="Http1FieldParser.MaxLineLength"/>.</summary>
    LineTooLong,
}

/// <summary>A protocol violation by the peer; the connection that carried it is closed.</summary>
internal sealed class Http1ParseException : Exception
{
    public Http1ParseException(Http1ParseError error)
        : base(error.ToString()) => Error = error;

    public Http1ParseException()
        : this(Http1ParseError.InvalidRequestLine)
    {
    }

    public Http1ParseException(string message)
        : base(message)
    {
    }

    public Http1ParseException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public Http1ParseError Error { get; }
}
