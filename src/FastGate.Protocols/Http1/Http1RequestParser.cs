using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace FastGate.Protocols.Http1;

/// <summary>
/// Strict HTTP/1.1 request head parser (RFC 9112 sections 2 to 5). Stateless and generic over a struct
/// handler; the connection bounds the head by slicing the input before calling it.
/// </summary>
/// <remarks>
/// One empty line (CRLF) before the request-line is skipped, as RFC 9112 section 2.2 asks of servers
/// (clients may send an extra CRLF after a POST body); a second one is rejected as an invalid request line.
/// </remarks>
[SkipLocalsInit]
internal static class Http1RequestParser
{
    private static readonly ulong Http11 = BinaryPrimitives.ReadUInt64LittleEndian("HTTP/1.1"u8);
    private static readonly ulong Http10 = BinaryPrimitives.ReadUInt64LittleEndian("HTTP/1.0"u8);

    /// <summary>
    /// Parses the request-line through its CRLF and calls OnRequestLine once. False when more data is
    /// needed; the reader is then left where it was.
    /// </summary>
    public static bool TryParseRequestLine<THandler>(ref THandler handler, ref SequenceReader<byte> reader)
        where THandler : struct, IHttp1RequestHeadHandler
    {
        ReadOnlySpan<byte> span = reader.UnreadSpan;
        int consumed = TryParseValidRequestLine(ref handler, span);
        if (consumed > 0)
        {
            reader.Advance(consumed);
            return true;
        }

        int lf = span.IndexOf(Http1Syntax.LF);
        if ((uint)lf <= Http1FieldParser.MaxLineLength && !(lf == 1 && span[0] == Http1Syntax.CR))
        {
            ParseRequestLine(ref handler, span[..lf]);
            reader.Advance(lf + 1);
            return true;
        }

        return TryParseRequestLineSlow(ref handler, ref reader);
    }

    /// <summary>
    /// Consumes complete field lines, calling OnHeader for each; true after the empty line that ends the
    /// head. False when more data is needed: complete lines stay consumed, a partial line does not.
    /// </summary>
    public static bool TryParseHeaders<THandler>(ref THandler handler, ref SequenceReader<byte> reader)
        where THandler : struct, IHttp1RequestHeadHandler
        => Http1FieldParser.TryParse(ref handler, ref reader, trailer: false);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool TryParseRequestLineSlow<THandler>(ref THandler handler, ref SequenceReader<byte> reader)
        where THandler : struct, IHttp1RequestHeadHandler
    {
        SequenceReader<byte> copy = reader;
        if (copy.TryPeek(out byte first) && first == Http1Syntax.CR)
        {
            if (copy.Remaining < 2)
            {
                return false;
            }

            // RFC 9112 section 2.2: ignore one empty line before the request-line.
            copy.IsNext("\r\n"u8, advancePast: true);
        }

        Span<byte> stack = stackalloc byte[Http1FieldParser.StackLineLength];
        if (!Http1LineReader.TryReadLine(ref copy, stack, out int length, out byte[]? rented, Http1ParseError.LineTooLong, Http1ParseError.BareCarriageReturn))
        {
            return false;
        }

        ReadOnlySpan<byte> line = rented is null ? stack[..length] : rented.AsSpan(0, length);

        try
        {
            ParseRequestLine(ref handler, line);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        reader = copy;
        return true;
    }

    /// <summary>
    /// The common case in one pass: a complete, valid request-line inside <paramref name="span"/>. Returns the
    /// bytes consumed (through the LF), or 0 for anything else, which the checking path then parses to pick
    /// the exact error. A valid line holds no CR or LF before its end (tchar, visible ASCII, "HTTP/1.x"), so
    /// the searches for the two SPs, run over the rest of the span, also find where the line ends.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int TryParseValidRequestLine<THandler>(ref THandler handler, ReadOnlySpan<byte> span)
        where THandler : struct, IHttp1RequestHeadHandler
    {
        int methodEnd = span.IndexOfAnyExcept(Http1Syntax.Token);
        if (methodEnd <= 0 || span[methodEnd] != Http1Syntax.SP)
        {
            return 0;
        }

        int targetStart = methodEnd + 1;
        int targetEnd = span[targetStart..].IndexOfAnyExcept(Http1Syntax.TargetChar);
        if (targetEnd <= 0)
        {
            return 0;
        }

        targetEnd += targetStart;
        int versionStart = targetEnd + 1;

        // SP, then "HTTP/1.x" CR LF.
        int lf = versionStart + 9;
        if ((uint)lf >= (uint)span.Length || lf > Http1FieldParser.MaxLineLength || span[targetEnd] != Http1Syntax.SP
            || span[lf - 1] != Http1Syntax.CR || span[lf] != Http1Syntax.LF)
        {
            return 0;
        }

        ulong value = BinaryPrimitives.ReadUInt64LittleEndian(span.Slice(versionStart, 8));
        Http1Version version;
        if (value == Http11)
        {
            version = Http1Version.Http11;
        }
        else if (value == Http10)
        {
            version = Http1Version.Http10;
        }
        else
        {
            return 0;
        }

        handler.OnRequestLine(span[..methodEnd], span[targetStart..targetEnd], version);
        return lf + 1;
    }

    /// <summary>request-line = method SP request-target SP HTTP-version (RFC 9112 section 3), without LF.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ParseRequestLine<THandler>(ref THandler handler, ReadOnlySpan<byte> line)
        where THandler : struct, IHttp1RequestHeadHandler
    {
        if (line.IsEmpty || line[^1] != Http1Syntax.CR)
        {
            Http1Syntax.Throw(Http1ParseError.BareLineFeed);
        }

        line = line[..^1];
        if (line.Contains(Http1Syntax.CR))
        {
            Http1Syntax.Throw(Http1ParseError.BareCarriageReturn);
        }

        int methodEnd = line.IndexOfAnyExcept(Http1Syntax.Token);
        if (methodEnd <= 0 || line[methodEnd] != Http1Syntax.SP)
        {
            ThrowInvalidMethod(line, methodEnd);
        }

        ReadOnlySpan<byte> rest = line[(methodEnd + 1)..];
        int targetEnd = rest.IndexOfAnyExcept(Http1Syntax.TargetChar);
        if (targetEnd <= 0 || rest[targetEnd] != Http1Syntax.SP)
        {
            // No SP at all: the version is missing. SP first: two SPs in a row (RFC 9112 section 3
            // allows exactly one), which also means an empty target.
            Http1Syntax.Throw(targetEnd >= 0 && rest[targetEnd] != Http1Syntax.SP
                ? Http1ParseError.InvalidTarget
                : Http1ParseError.InvalidRequestLine);
        }

        Http1Version version = ParseVersion(rest[(targetEnd + 1)..], Http1ParseError.InvalidRequestLine);
        handler.OnRequestLine(line[..methodEnd], rest[..targetEnd], version);
    }

    /// <summary>HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 section 2.3); only 1.0 and 1.1 are served.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Http1Version ParseVersion(ReadOnlySpan<byte> version, Http1ParseError extraSpaceError)
    {
        if (version.Length == 8)
        {
            ulong value = BinaryPrimitives.ReadUInt64LittleEndian(version);
            if (value == Http11)
            {
                return Http1Version.Http11;
            }

            if (value == Http10)
            {
                return Http1Version.Http10;
            }
        }

        ThrowInvalidVersion(version, extraSpaceError);
        return default;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowInvalidVersion(ReadOnlySpan<byte> version, Http1ParseError extraSpaceError)
    {
        if (!version.IsEmpty && version[0] == Http1Syntax.SP)
        {
            Http1Syntax.Throw(extraSpaceError);
        }

        bool wellFormed = version.Length == 8
            && version.StartsWith("HTTP/"u8)
            && char.IsAsciiDigit((char)version[5])
            && version[6] == (byte)'.'
            && char.IsAsciiDigit((char)version[7]);
        Http1Syntax.Throw(wellFormed ? Http1ParseError.UnsupportedVersion : Http1ParseError.InvalidVersion);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowInvalidMethod(ReadOnlySpan<byte> line, int methodEnd)
    {
        // No SP at all, or a line starting with SP: the parts are missing or misplaced.
        if (methodEnd < 0 || line[methodEnd] == Http1Syntax.SP)
        {
            Http1Syntax.Throw(Http1ParseError.InvalidRequestLine);
        }

        Http1Syntax.Throw(Http1ParseError.InvalidMethod);
    }
}
