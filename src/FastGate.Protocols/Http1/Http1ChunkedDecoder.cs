using System.Buffers;
using System.Runtime.CompilerServices;

namespace FastGate.Protocols.Http1;

/// <summary>What <see cref="Http1ChunkedDecoder.Read"/> produced.</summary>
internal enum Http1ChunkedStatus : byte
{
    /// <summary>A non-empty slice of chunk payload; the reader moved past it.</summary>
    Data,

    /// <summary>Nothing complete to consume; call again with more input.</summary>
    NeedMoreData,

    /// <summary>
    /// The last-chunk, the trailer section and its final CRLF were consumed. With
    /// <see cref="Http1ChunkedDecoder.CaptureTrailers"/>, the data holds the trailer field lines not yet
    /// returned (possibly none), each with its CRLF, without the final CRLF.
    /// </summary>
    Completed,

    /// <summary>
    /// Only with <see cref="Http1ChunkedDecoder.CaptureTrailers"/>: complete trailer field lines (each
    /// with its CRLF), validated; more may follow before <see cref="Completed"/>.
    /// </summary>
    Trailer,
}

/// <summary>
/// Incremental, strict decoder for the chunked transfer coding (RFC 9112 section 7.1). It keeps its
/// position in the grammar in fields, so input may arrive in any pieces; memory never grows with the
/// input (chunk-size lines and the trailer section are bounded).
/// </summary>
/// <remarks>
/// Chunk extensions are validated and ignored (RFC 9112 section 7.1.1). Trailer fields are validated
/// like header fields; a caller that relays them (RFC 9110 section 6.5) sets <see cref="CaptureTrailers"/>
/// and gets their lines back, the others are discarded (which section 6.5.1 permits).
/// </remarks>
[SkipLocalsInit]
internal struct Http1ChunkedDecoder
{
    /// <summary>Longest chunk-size line (with extensions, without LF).</summary>
    public const int MaxChunkLineLength = 4096;

    /// <summary>Largest trailer section, final CRLF included.</summary>
    public const int MaxTrailerSection = 8 * 1024;

    /// <summary>Chunk sizes above 2^62 are rejected: far beyond any body limit, and safe from overflow.</summary>
    private const long MaxChunkSize = 1L << 62;

    private State _state;
    private long _chunkRemaining;
    private long _bytesDecoded;
    private int _trailerBytes;

    private enum State : byte
    {
        ChunkSize,
        ChunkData,
        ChunkDataEnd,
        Trailer,
        Completed,
    }

    /// <summary>Payload bytes returned so far, so that a caller can enforce a body limit.</summary>
    public readonly long BytesDecoded => _bytesDecoded;

    /// <summary>Return the trailer field lines (<see cref="Http1ChunkedStatus.Trailer"/>) instead of dropping them.</summary>
    public bool CaptureTrailers { readonly get; set; }

    /// <summary>
    /// Decodes from <paramref name="reader"/> until it can return payload, needs more input, or the body
    /// is complete. Complete chunk-size lines and CRLFs may be consumed even when NeedMoreData is returned.
    /// </summary>
    public Http1ChunkedStatus Read(ref SequenceReader<byte> reader, out ReadOnlySequence<byte> data)
    {
        data = default;
        while (true)
        {
            switch (_state)
            {
                case State.ChunkSize:
                    if (!TryReadChunkSizeLine(ref reader))
                    {
                        return Http1ChunkedStatus.NeedMoreData;
                    }

                    break;

                case State.ChunkData:
                    long available = reader.Remaining;
                    if (available == 0)
                    {
                        return Http1ChunkedStatus.NeedMoreData;
                    }

                    long take = Math.Min(available, _chunkRemaining);
                    data = reader.UnreadSequence.Slice(0, take);
                    reader.Advance(take);
                    _chunkRemaining -= take;
                    _bytesDecoded += take;
                    if (_chunkRemaining == 0)
                    {
                        _state = State.ChunkDataEnd;
                    }

                    return Http1ChunkedStatus.Data;

                case State.ChunkDataEnd:
                    if (!TryReadDataEnd(ref reader))
                    {
                        return Http1ChunkedStatus.NeedMoreData;
                    }

                    _state = State.ChunkSize;
                    break;

                case State.Trailer:
                {
                    long before = reader.Consumed;
                    var start = reader.Position;
                    bool done = TryReadTrailer(ref reader);
                    long lines = reader.Consumed - before - (done ? 2 : 0);
                    if (CaptureTrailers && lines > 0)
                    {
                        // The final line of a complete section is the CRLF the field parser requires.
                        data = reader.Sequence.Slice(start, lines);
                    }

                    if (done)
                    {
                        _state = State.Completed;
                        return Http1ChunkedStatus.Completed;
                    }

                    return CaptureTrailers && lines > 0 ? Http1ChunkedStatus.Trailer : Http1ChunkedStatus.NeedMoreData;
                }

                default:
                    return Http1ChunkedStatus.Completed;
            }
        }
    }

    private bool TryReadChunkSizeLine(ref SequenceReader<byte> reader)
    {
        ReadOnlySpan<byte> span = reader.UnreadSpan;
        int lf = span.IndexOf(Http1Syntax.LF);
        // NOTE: written as "found, then too long" on purpose. The earlier "(uint)lf <= max, else if
        // lf > max" form was miscompiled by the .NET 10.0.12 x64 JIT at tier 1 with dynamic PGO: for
        // lf == -1 (no LF yet) the signed test came out true and a valid body that merely ended after a
        // chunk was refused as ChunkLineTooLong (seen as random 400s, 502s and RST_STREAMs under load).
        if (lf >= 0)
        {
            if (lf > MaxChunkLineLength)
            {
                Http1Syntax.Throw(Http1ParseError.ChunkLineTooLong);
            }

            ParseChunkSizeLine(span[..lf]);
            reader.Advance(lf + 1);
            return true;
        }

        return TryReadSplitChunkSizeLine(ref reader);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryReadSplitChunkSizeLine(ref SequenceReader<byte> reader)
    {
        ReadOnlySequence<byte> rest = reader.UnreadSequence;
        if (rest.Length > MaxChunkLineLength + 1)
        {
            rest = rest.Slice(0, MaxChunkLineLength + 1);
        }

        SequencePosition? lf = rest.PositionOf(Http1Syntax.LF);
        if (lf is null)
        {
            Http1LineReader.CheckIncomplete(rest, MaxChunkLineLength, Http1ParseError.ChunkLineTooLong, Http1ParseError.InvalidChunkLine);
            return false;
        }

        ReadOnlySequence<byte> line = rest.Slice(0, lf.Value);
        int length = (int)line.Length;
        Span<byte> buffer = stackalloc byte[MaxChunkLineLength];
        line.CopyTo(buffer);
        ParseChunkSizeLine(buffer[..length]);
        reader.Advance(length + 1);
        return true;
    }

    /// <summary>chunk-size [ chunk-ext ] CRLF (RFC 9112 section 7.1), without the LF.</summary>
    private void ParseChunkSizeLine(ReadOnlySpan<byte> line)
    {
        if (line.IsEmpty || line[^1] != Http1Syntax.CR)
        {
            Http1Syntax.Throw(Http1ParseError.InvalidChunkLine);
        }

        line = line[..^1];
        long size = 0;
        int i = 0;
        for (; i < line.Length; i++)
        {
            int digit = HexValue(line[i]);
            if (digit < 0)
            {
                break;
            }

            if (size > MaxChunkSize >> 4)
            {
                Http1Syntax.Throw(Http1ParseError.InvalidChunkSize);
            }

            size = (size << 4) | (uint)digit;
        }

        if (i == 0 || size > MaxChunkSize)
        {
            Http1Syntax.Throw(Http1ParseError.InvalidChunkSize);
        }

        if (i < line.Length)
        {
            byte next = line[i];
            if (next != (byte)';' && !Http1Syntax.IsWhitespace(next))
            {
                Http1Syntax.Throw(next == Http1Syntax.CR ? Http1ParseError.InvalidChunkLine : Http1ParseError.InvalidChunkSize);
            }

            ValidateExtensions(line[i..]);
        }

        if (size == 0)
        {
            _state = State.Trailer;
        }
        else
        {
            _chunkRemaining = size;
            _state = State.ChunkData;
        }
    }

    /// <summary>
    /// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ),
    /// chunk-ext-val = token / quoted-string (RFC 9112 section 7.1.1).
    /// </summary>
    private static void ValidateExtensions(ReadOnlySpan<byte> ext)
    {
        int pos = 0;
        while (pos < ext.Length)
        {
            pos = SkipWhitespace(ext, pos);
            if (pos == ext.Length || ext[pos] != (byte)';')
            {
                Http1Syntax.Throw(Http1ParseError.InvalidChunkLine);
            }

            pos = SkipToken(ext, SkipWhitespace(ext, pos + 1));
            int afterName = pos;
            pos = SkipWhitespace(ext, pos);
            if (pos < ext.Length && ext[pos] == (byte)'=')
            {
                pos = SkipWhitespace(ext, pos + 1);
                pos = pos < ext.Length && ext[pos] == (byte)'"' ? SkipQuotedString(ext, pos) : SkipToken(ext, pos);
            }
            else
            {
                pos = afterName;
            }
        }
    }

    private static int SkipWhitespace(ReadOnlySpan<byte> s, int pos)
    {
        while (pos < s.Length && Http1Syntax.IsWhitespace(s[pos]))
        {
            pos++;
        }

        return pos;
    }

    /// <summary>Skips a non-empty token starting at <paramref name="pos"/>.</summary>
    private static int SkipToken(ReadOnlySpan<byte> s, int pos)
    {
        int length = s[pos..].IndexOfAnyExcept(Http1Syntax.Token);
        if (length < 0)
        {
            length = s.Length - pos;
        }

        if (length == 0)
        {
            Http1Syntax.Throw(Http1ParseError.InvalidChunkLine);
        }

        return pos + length;
    }

    /// <summary>quoted-string (RFC 9110 section 5.6.4) starting at the DQUOTE at <paramref name="pos"/>.</summary>
    private static int SkipQuotedString(ReadOnlySpan<byte> s, int pos)
    {
        for (pos++; pos < s.Length; pos++)
        {
            byte b = s[pos];
            if (b == (byte)'"')
            {
                return pos + 1;
            }

            if (b == (byte)'\\')
            {
                pos++;
                if (pos == s.Length || !Http1Syntax.FieldValueChar.Contains(s[pos]))
                {
                    break;
                }
            }
            else if (!Http1Syntax.FieldValueChar.Contains(b))
            {
                break;
            }
        }

        Http1Syntax.Throw(Http1ParseError.InvalidChunkLine);
        return pos;
    }

    private static int HexValue(byte b)
    {
        uint d = (uint)(b - '0');
        if (d <= 9)
        {
            return (int)d;
        }

        uint l = (uint)((b | 0x20) - 'a');
        return l <= 5 ? (int)l + 10 : -1;
    }

    /// <summary>The CRLF that ends chunk-data.</summary>
    private static bool TryReadDataEnd(ref SequenceReader<byte> reader)
    {
        if (reader.IsNext("\r\n"u8, advancePast: true))
        {
            return true;
        }

        // Fewer than two bytes: only a lone CR can still become valid.
        if (reader.Remaining >= 2 || (reader.TryPeek(out byte b) && b != Http1Syntax.CR))
        {
            Http1Syntax.Throw(Http1ParseError.InvalidChunkData);
        }

        return false;
    }

    /// <summary>trailer-section CRLF (RFC 9112 section 7.1.2), bounded by slicing the input.</summary>
    private bool TryReadTrailer(ref SequenceReader<byte> reader)
    {
        int budget = MaxTrailerSection - _trailerBytes;
        ReadOnlySequence<byte> rest = reader.UnreadSequence;
        bool trimmed = rest.Length > budget;
        var section = new SequenceReader<byte>(trimmed ? rest.Slice(0, budget) : rest);
        var discard = default(DiscardingFieldHandler);
        bool done = Http1FieldParser.TryParse(ref discard, ref section, trailer: true);
        reader.Advance(section.Consumed);
        _trailerBytes += (int)section.Consumed;
        if (!done && trimmed)
        {
            Http1Syntax.Throw(Http1ParseError.InvalidTrailer);
        }

        return done;
    }

    private struct DiscardingFieldHandler : IHttp1FieldHandler
    {
        public readonly void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
        }
    }
}
