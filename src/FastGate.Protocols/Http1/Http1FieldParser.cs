using System.Buffers;
using System.Runtime.CompilerServices;

namespace FastGate.Protocols.Http1;

/// <summary>
/// Field lines (RFC 9112 section 5) shared by request heads, response heads and chunked trailers.
/// Stateless: it consumes complete lines only, so a caller resumes by calling again with more data.
/// </summary>
[SkipLocalsInit]
internal static class Http1FieldParser
{
    /// <summary>
    /// Longest start line or field line accepted. The connection already bounds the whole head by
    /// slicing the input; this bound only caps the scratch copy of a line that crosses segments.
    /// </summary>
    public const int MaxLineLength = 64 * 1024;

    /// <summary>Lines up to this length are copied to the stack when they cross segments.</summary>
    public const int StackLineLength = 256;

    /// <summary>
    /// Consumes complete field lines, calling OnHeader for each. True once the empty line that ends the
    /// section is consumed; false when more data is needed (complete lines stay consumed).
    /// </summary>
    /// <param name="trailer">every violation is reported as <see cref="Http1ParseError.InvalidTrailer"/></param>
    public static bool TryParse<THandler>(ref THandler handler, ref SequenceReader<byte> reader, bool trailer)
        where THandler : struct, IHttp1FieldHandler
    {
        while (true)
        {
            ReadOnlySpan<byte> span = reader.UnreadSpan;
            int consumed = TryParseValidLine(ref handler, span, out bool ended);
            if (consumed > 0)
            {
                reader.Advance(consumed);
                if (ended)
                {
                    return true;
                }

                continue;
            }

            int lf = span.IndexOf(Http1Syntax.LF);
            if ((uint)lf <= MaxLineLength)
            {
                bool end = ParseLine(ref handler, span[..lf], trailer);
                reader.Advance(lf + 1);
                if (end)
                {
                    return true;
                }

                continue;
            }

            if (!TryParseSplitLine(ref handler, ref reader, trailer, out bool done))
            {
                return false;
            }

            if (done)
            {
                return true;
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool TryParseSplitLine<THandler>(ref THandler handler, ref SequenceReader<byte> reader, bool trailer, out bool end)
        where THandler : struct, IHttp1FieldHandler
    {
        end = false;
        Span<byte> stack = stackalloc byte[StackLineLength];
        if (!Http1LineReader.TryReadLine(ref reader, stack, out int length, out byte[]? rented, trailer ? Http1ParseError.InvalidTrailer : Http1ParseError.LineTooLong, trailer ? Http1ParseError.InvalidTrailer : Http1ParseError.BareCarriageReturn))
        {
            return false;
        }

        ReadOnlySpan<byte> line = rented is null ? stack[..length] : rented.AsSpan(0, length);

        try
        {
            end = ParseLine(ref handler, line, trailer);
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
    /// The common case in one pass: a complete, valid line inside <paramref name="span"/>. Returns the bytes
    /// consumed (through the LF), or 0 when the line is anything else (incomplete in this span, split, or
    /// invalid in any way), which the caller then parses along the checking path that picks the exact error.
    /// </summary>
    /// <remarks>
    /// A valid line is tchar+ ':' field-value-chars CR LF, so the first byte after the colon that is not a
    /// field-value byte must be its CR (RFC 9112 section 5): one scan over the value finds the line end and
    /// validates the value, where the checking path first searches the LF and then scans the value again.
    /// Both scans run over the rest of the span, not just the line, so they stay vectorized for short fields.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int TryParseValidLine<THandler>(ref THandler handler, ReadOnlySpan<byte> span, out bool ended)
        where THandler : struct, IHttp1FieldHandler
    {
        ended = false;
        int colon = span.IndexOfAnyExcept(Http1Syntax.Token);
        if (colon <= 0 || span[colon] != (byte)':')
        {
            if (colon == 0 && span.Length >= 2 && span[0] == Http1Syntax.CR && span[1] == Http1Syntax.LF)
            {
                ended = true;
                return 2;
            }

            return 0;
        }

        int valueStart = colon + 1;
        while ((uint)valueStart < (uint)span.Length && Http1Syntax.IsWhitespace(span[valueStart]))
        {
            valueStart++;
        }

        int cr = span[valueStart..].IndexOfAnyExcept(Http1Syntax.FieldValueChar);
        if (cr < 0)
        {
            return 0;
        }

        cr += valueStart;
        int lf = cr + 1;
        if ((uint)lf >= (uint)span.Length || span[cr] != Http1Syntax.CR || span[lf] != Http1Syntax.LF || lf > MaxLineLength)
        {
            return 0;
        }

        int valueEnd = cr;
        while (valueEnd > valueStart && Http1Syntax.IsWhitespace(span[valueEnd - 1]))
        {
            valueEnd--;
        }

        handler.OnHeader(span[..colon], span[valueStart..valueEnd]);
        return lf + 1;
    }

    /// <summary>Parses one line (without its LF). True for the empty line that ends the section.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool ParseLine<THandler>(ref THandler handler, ReadOnlySpan<byte> line, bool trailer)
        where THandler : struct, IHttp1FieldHandler
    {
        // RFC 9112 section 2.2: a bare LF as line terminator is not accepted (request smuggling vector).
        if (line.IsEmpty || line[^1] != Http1Syntax.CR)
        {
            Throw(Http1ParseError.BareLineFeed, trailer);
        }

        line = line[..^1];
        if (line.IsEmpty)
        {
            return true;
        }

        int colon = line.IndexOfAnyExcept(Http1Syntax.Token);
        if (colon <= 0 || line[colon] != (byte)':')
        {
            ThrowInvalidName(line, trailer);
        }

        ReadOnlySpan<byte> value = Http1Syntax.TrimWhitespace(line[(colon + 1)..]);
        int bad = value.IndexOfAnyExcept(Http1Syntax.FieldValueChar);
        if (bad >= 0)
        {
            Throw(value[bad] == Http1Syntax.CR ? Http1ParseError.BareCarriageReturn : Http1ParseError.InvalidHeaderValue, trailer);
        }

        handler.OnHeader(line[..colon], value);
        return false;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowInvalidName(ReadOnlySpan<byte> line, bool trailer)
    {
        // RFC 9112 section 5.2: a line starting with whitespace is obs-fold, which a server rejects.
        if (Http1Syntax.IsWhitespace(line[0]))
        {
            Throw(Http1ParseError.ObsoleteLineFolding, trailer);
        }

        int i = line.IndexOfAnyExcept(Http1Syntax.Token);
        if (i >= 0 && line[i] == Http1Syntax.CR)
        {
            Throw(Http1ParseError.BareCarriageReturn, trailer);
        }

        // RFC 9112 section 5.1: whitespace between field name and colon must be rejected with 400.
        if (i > 0 && Http1Syntax.IsWhitespace(line[i]))
        {
            int j = i;
            while (j < line.Length && Http1Syntax.IsWhitespace(line[j]))
            {
                j++;
            }

            if (j < line.Length && line[j] == (byte)':')
            {
                Throw(Http1ParseError.WhitespaceBeforeColon, trailer);
            }
        }

        if (line.IndexOf(Http1Syntax.CR) >= 0)
        {
            Throw(Http1ParseError.BareCarriageReturn, trailer);
        }

        Throw(Http1ParseError.InvalidHeaderName, trailer);
    }

    private static void Throw(Http1ParseError error, bool trailer)
        => Http1Syntax.Throw(trailer ? Http1ParseError.InvalidTrailer : error);
}
