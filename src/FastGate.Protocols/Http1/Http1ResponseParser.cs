using System.Buffers;
using System.Runtime.CompilerServices;

namespace FastGate.Protocols.Http1;

/// <summary>
/// Strict HTTP/1.1 response head parser (RFC 9112 sections 4 and 5) for upstream answers. Stateless,
/// generic over a struct handler, same partial-input contract as <see cref="Http1RequestParser"/>.
/// </summary>
[SkipLocalsInit]
internal static class Http1ResponseParser
{
    /// <summary>"HTTP/1.1 200": the shortest status-line content (reason-phrase and its SP absent).</summary>
    private const int MinStatusLine = 12;

    /// <summary>
    /// Parses the status-line through its CRLF and calls OnStatusLine once. False when more data is
    /// needed; the reader is then left where it was.
    /// </summary>
    public static bool TryParseStatusLine<THandler>(ref THandler handler, ref SequenceReader<byte> reader)
        where THandler : struct, IHttp1ResponseHeadHandler
    {
        ReadOnlySpan<byte> span = reader.UnreadSpan;
        int lf = span.IndexOf(Http1Syntax.LF);
        if ((uint)lf <= Http1FieldParser.MaxLineLength)
        {
            ParseStatusLine(ref handler, span[..lf]);
            reader.Advance(lf + 1);
            return true;
        }

        return TryParseStatusLineSlow(ref handler, ref reader);
    }

    /// <summary>Same contract as <see cref="Http1RequestParser.TryParseHeaders{THandler}"/>.</summary>
    public static bool TryParseHeaders<THandler>(ref THandler handler, ref SequenceReader<byte> reader)
        where THandler : struct, IHttp1ResponseHeadHandler
        => Http1FieldParser.TryParse(ref handler, ref reader, trailer: false);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool TryParseStatusLineSlow<THandler>(ref THandler handler, ref SequenceReader<byte> reader)
        where THandler : struct, IHttp1ResponseHeadHandler
    {
        Span<byte> stack = stackalloc byte[Http1FieldParser.StackLineLength];
        if (!Http1LineReader.TryReadLine(ref reader, stack, out int length, out byte[]? rented, Http1ParseError.LineTooLong, Http1ParseError.BareCarriageReturn))
        {
            return false;
        }

        ReadOnlySpan<byte> line = rented is null ? stack[..length] : rented.AsSpan(0, length);

        try
        {
            ParseStatusLine(ref handler, line);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        return true;
    }

    /// <summary>
    /// status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 section 4), without LF.
    /// "HTTP/1.1 200" without the second SP is accepted too, as section 4 asks of recipients.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ParseStatusLine<THandler>(ref THandler handler, ReadOnlySpan<byte> line)
        where THandler : struct, IHttp1ResponseHeadHandler
    {
        if (line.IsEmpty || line[^1] != Http1Syntax.CR)
        {
            Http1Syntax.Throw(Http1ParseError.BareLineFeed);
        }

        line = line[..^1];
        if (line.Length < MinStatusLine)
        {
            ThrowShortStatusLine(line);
        }

        Http1Version version = Http1RequestParser.ParseVersion(line[..8], Http1ParseError.InvalidStatusLine);
        if (line[8] != Http1Syntax.SP)
        {
            ThrowInvalidStatusLine(line);
        }

        // RFC 9110 section 15: status codes are three digits in 100..599.
        uint d0 = (uint)(line[9] - '0'), d1 = (uint)(line[10] - '0'), d2 = (uint)(line[11] - '0');
        if (d0 - 1 > 4 || d1 > 9 || d2 > 9)
        {
            ThrowInvalidStatusLine(line);
        }

        ReadOnlySpan<byte> reason = default;
        if (line.Length > MinStatusLine)
        {
            if (line[MinStatusLine] != Http1Syntax.SP)
            {
                ThrowInvalidStatusLine(line);
            }

            reason = line[(MinStatusLine + 1)..];
            int bad = reason.IndexOfAnyExcept(Http1Syntax.FieldValueChar);
            if (bad >= 0)
            {
                ThrowInvalidStatusLine(line);
            }
        }

        handler.OnStatusLine(version, (int)((d0 * 100) + (d1 * 10) + d2), reason);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowShortStatusLine(ReadOnlySpan<byte> line)
    {
        if (line.Length >= 8)
        {
            Http1RequestParser.ParseVersion(line[..8], Http1ParseError.InvalidStatusLine);
        }

        ThrowInvalidStatusLine(line);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowInvalidStatusLine(ReadOnlySpan<byte> line)
        => Http1Syntax.Throw(line.Contains(Http1Syntax.CR) ? Http1ParseError.BareCarriageReturn : Http1ParseError.InvalidStatusLine);
}
