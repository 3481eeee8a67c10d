using System.Buffers;
using System.Buffers.Text;

namespace FastGate.Protocols.Http1;

/// <summary>
/// ASCII writers for the parts of an HTTP/1.1 message the gateway emits: start lines, field lines and
/// chunk framing (RFC 9112). Callers pass names and values that are already valid.
/// </summary>
internal static class Http1HeadWriter
{
    /// <summary>"HTTP/1.1 ddd \r\n": the longest line the status-line fallback formats.</summary>
    public const int FormattedStatusLineLength = 15;

    /// <summary>16 hex digits of a long plus CRLF.</summary>
    private const int MaxChunkHeaderLength = 18;

    /// <summary>19 digits and a sign: the longest decimal long.</summary>
    private const int MaxDecimalLength = 20;

    /// <summary>chunk-size CRLF with the size in lower-case hex (RFC 9112 section 7.1).</summary>
    public static void WriteChunkHeader(IBufferWriter<byte> writer, long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        Span<byte> span = writer.GetSpan(MaxChunkHeaderLength);
        Utf8Formatter.TryFormat(size, span, out int written, new StandardFormat('x'));
        span[written++] = (byte)'\r';
        span[written++] = (byte)'\n';
        writer.Advance(written);
    }

    /// <summary>Body bytes as they are, or as one chunk (header, data, CRLF) when <paramref name="chunked"/>.</summary>
    public static void WriteBody(IBufferWriter<byte> writer, in ReadOnlySequence<byte> data, bool chunked)
    {
        if (chunked)
        {
            WriteChunkHeader(writer, data.Length);
        }

        foreach (var segment in data)
        {
            writer.Write(segment.Span);
        }

        if (chunked)
        {
            WriteChunkEnd(writer);
        }
    }

    /// <summary>The CRLF that ends chunk-data.</summary>
    public static void WriteChunkEnd(IBufferWriter<byte> writer) => writer.Write("\r\n"u8);

    /// <summary>last-chunk with an empty trailer section: "0\r\n\r\n".</summary>
    public static void WriteChunkTerminator(IBufferWriter<byte> writer) => writer.Write("0\r\n\r\n"u8);

    /// <summary>
    /// Writes part of a chunked body's end with trailer fields (RFC 9112 section 7.1.2): the last-chunk
    /// first (when <paramref name="lastChunkWritten"/> is false), then the field lines of
    /// <paramref name="lines"/> (each with its CRLF, as the chunked decoder returns them) except the
    /// connection-specific ones, and the final CRLF when <paramref name="end"/>.
    /// </summary>
    public static void WriteTrailerPart(IBufferWriter<byte> writer, in ReadOnlySequence<byte> lines, ref bool lastChunkWritten, bool end)
    {
        if (lines.IsSingleSegment)
        {
            WriteTrailerPart(writer, lines.FirstSpan, ref lastChunkWritten, end);
            return;
        }

        // The decoder bounds a trailer section to 8 KiB, so the lines fit one rented buffer.
        int length = (int)lines.Length;
        byte[] rented = ArrayPool<byte>.Shared.Rent(length);
        lines.CopyTo(rented);
        WriteTrailerPart(writer, rented.AsSpan(0, length), ref lastChunkWritten, end);
        ArrayPool<byte>.Shared.Return(rented);
    }

    /// <inheritdoc cref="WriteTrailerPart(IBufferWriter{byte}, in ReadOnlySequence{byte}, ref bool, bool)"/>
    public static void WriteTrailerPart(IBufferWriter<byte> writer, ReadOnlySpan<byte> lines, ref bool lastChunkWritten, bool end)
    {
        if (!lastChunkWritten)
        {
            writer.Write("0\r\n"u8);
            lastChunkWritten = true;
        }

        var fields = new Http1FieldLines(lines);
        while (fields.MoveNext(out var line, out var name, out _))
        {
            if (!Http1FieldLines.IsConnectionSpecific(name))
            {
                writer.Write(line);
            }
        }

        if (end)
        {
            writer.Write("\r\n"u8);
        }
    }

    /// <summary>Writes a non-negative decimal integer (for Content-Length and similar fields).</summary>
    public static void WriteDecimal(IBufferWriter<byte> writer, long value)
    {
        Span<byte> span = writer.GetSpan(MaxDecimalLength);
        Utf8Formatter.TryFormat(value, span, out int written);
        writer.Advance(written);
    }

    /// <summary>Formats a decimal integer into <paramref name="destination"/>; false when it does not fit.</summary>
    public static bool TryWriteDecimal(Span<byte> destination, long value, out int written)
        => Utf8Formatter.TryFormat(value, destination, out written);

    /// <summary>request-line: method SP request-target SP "HTTP/1.1" CRLF (RFC 9112 section 3).</summary>
    public static void WriteRequestLine(IBufferWriter<byte> writer, ReadOnlySpan<byte> method, ReadOnlySpan<byte> target)
    {
        int length = method.Length + target.Length + 12;
        Span<byte> span = writer.GetSpan(length);
        method.CopyTo(span);
        int pos = method.Length;
        span[pos++] = (byte)' ';
        target.CopyTo(span[pos..]);
        pos += target.Length;
        " HTTP/1.1\r\n"u8.CopyTo(span[pos..]);
        writer.Advance(length);
    }

    /// <summary>field-line CRLF: name ": " value CRLF (RFC 9112 section 5).</summary>
    public static void WriteHeader(IBufferWriter<byte> writer, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        int length = name.Length + value.Length + 4;
        Span<byte> span = writer.GetSpan(length);
        name.CopyTo(span);
        int pos = name.Length;
        span[pos++] = (byte)':';
        span[pos++] = (byte)' ';
        value.CopyTo(span[pos..]);
        pos += value.Length;
        span[pos++] = (byte)'\r';
        span[pos] = (byte)'\n';
        writer.Advance(length);
    }

    /// <summary>The CRLF that ends a head.</summary>
    public static void WriteHeadEnd(IBufferWriter<byte> writer) => writer.Write("\r\n"u8);

    /// <summary>
    /// The pre-encoded status-line of a common code with its RFC 9110 section 15 reason phrase, or an
    /// empty span when the code is not in the table.
    /// </summary>
    public static ReadOnlySpan<byte> StatusLine(int code) => code switch
    {
        100 => "HTTP/1.1 100 Continue\r\n"u8,
        101 => "HTTP/1.1 101 Switching Protocols\r\n"u8,
        200 => "HTTP/1.1 200 OK\r\n"u8,
        201 => "HTTP/1.1 201 Created\r\n"u8,
        202 => "HTTP/1.1 202 Accepted\r\n"u8,
        203 => "HTTP/1.1 203 Non-Authoritative Information\r\n"u8,
        204 => "HTTP/1.1 204 No Content\r\n"u8,
        206 => "HTTP/1.1 206 Partial Content\r\n"u8,
        301 => "HTTP/1.1 301 Moved Permanently\r\n"u8,
        302 => "HTTP/1.1 302 Found\r\n"u8,
        303 => "HTTP/1.1 303 See Other\r\n"u8,
        304 => "HTTP/1.1 304 Not Modified\r\n"u8,
        307 => "HTTP/1.1 307 Temporary Redirect\r\n"u8,
        308 => "HTTP/1.1 308 Permanent Redirect\r\n"u8,
        400 => "HTTP/1.1 400 Bad Request\r\n"u8,
        401 => "HTTP/1.1 401 Unauthorized\r\n"u8,
        403 => "HTTP/1.1 403 Forbidden\r\n"u8,
        404 => "HTTP/1.1 404 Not Found\r\n"u8,
        405 => "HTTP/1.1 405 Method Not Allowed\r\n"u8,
        406 => "HTTP/1.1 406 Not Acceptable\r\n"u8,
        408 => "HTTP/1.1 408 Request Timeout\r\n"u8,
        409 => "HTTP/1.1 409 Conflict\r\n"u8,
        410 => "HTTP/1.1 410 Gone\r\n"u8,
        411 => "HTTP/1.1 411 Length Required\r\n"u8,
        412 => "HTTP/1.1 412 Precondition Failed\r\n"u8,
        413 => "HTTP/1.1 413 Content Too Large\r\n"u8,
        414 => "HTTP/1.1 414 URI Too Long\r\n"u8,
        415 => "HTTP/1.1 415 Unsupported Media Type\r\n"u8,
        416 => "HTTP/1.1 416 Range Not Satisfiable\r\n"u8,
        417 => "HTTP/1.1 417 Expectation Failed\r\n"u8,
        421 => "HTTP/1.1 421 Misdirected Request\r\n"u8,
        422 => "HTTP/1.1 422 Unprocessable Content\r\n"u8,
        426 => "HTTP/1.1 426 Upgrade Required\r\n"u8,
        428 => "HTTP/1.1 428 Precondition Required\r\n"u8,
        429 => "HTTP/1.1 429 Too Many Requests\r\n"u8,
        431 => "HTTP/1.1 431 Request Header Fields Too Large\r\n"u8,
        500 => "HTTP/1.1 500 Internal Server Error\r\n"u8,
        501 => "HTTP/1.1 501 Not Implemented\r\n"u8,
        502 => "HTTP/1.1 502 Bad Gateway\r\n"u8,
        503 => "HTTP/1.1 503 Service Unavailable\r\n"u8,
        504 => "HTTP/1.1 504 Gateway Timeout\r\n"u8,
        505 => "HTTP/1.1 505 HTTP Version Not Supported\r\n"u8,
        _ => [],
    };

    /// <summary>
    /// The pre-encoded status-line of <paramref name="code"/>, or "HTTP/1.1 {code} \r\n" (empty reason,
    /// RFC 9112 section 4) formatted into <paramref name="scratch"/> for a code outside the table.
    /// </summary>
    /// <param name="scratch">at least <see cref="FormattedStatusLineLength"/> bytes</param>
    public static ReadOnlySpan<byte> StatusLine(int code, Span<byte> scratch)
    {
        ReadOnlySpan<byte> known = StatusLine(code);
        if (!known.IsEmpty)
        {
            return known;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(code, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(code, 999);
        "HTTP/1.1 "u8.CopyTo(scratch);
        scratch[9] = (byte)('0' + (code / 100));
        scratch[10] = (byte)('0' + (code / 10 % 10));
        scratch[11] = (byte)('0' + (code % 10));
        " \r\n"u8.CopyTo(scratch[12..]);
        return scratch[..FormattedStatusLineLength];
    }
}
