using System.Buffers;

namespace FastGate.Protocols.Http1;

/// <summary>
/// The slow path shared by the head parsers: a line that is not wholly inside the reader's current
/// span (it crosses segments, or its LF has not arrived yet).
/// </summary>
internal static class Http1LineReader
{
    /// <summary>
    /// Copies the next line (without its LF) into <paramref name="stack"/>, or into
    /// <paramref name="rented"/> when it does not fit, and advances past the LF. False, with the reader untouched, when no LF has arrived.
    /// The caller returns <paramref name="rented"/> to <see cref="ArrayPool{T}.Shared"/>.
    /// </summary>
    /// <param name="tooLong">error when the line exceeds <see cref="Http1FieldParser.MaxLineLength"/></param>
    /// <param name="bareCr">error when incomplete data already shows a CR followed by something other than LF</param>
    public static bool TryReadLine(
        ref SequenceReader<byte> reader,
        scoped Span<byte> stack,
        out int length,
        out byte[]? rented,
        Http1ParseError tooLong,
        Http1ParseError bareCr)
    {
        length = 0;
        rented = null;
        ReadOnlySequence<byte> rest = reader.UnreadSequence;
        SequencePosition? lf = rest.PositionOf(Http1Syntax.LF);
        if (lf is null)
        {
            CheckIncomplete(rest, Http1FieldParser.MaxLineLength, tooLong, bareCr);
            return false;
        }

        ReadOnlySequence<byte> lineSequence = rest.Slice(0, lf.Value);
        if (lineSequence.Length > Http1FieldParser.MaxLineLength)
        {
            Http1Syntax.Throw(tooLong);
        }

        length = (int)lineSequence.Length;
        lineSequence.CopyTo(length <= stack.Length ? stack : (rented = ArrayPool<byte>.Shared.Rent(length)));
        reader.Advance(length + 1);
        return true;
    }

    /// <summary>
    /// Fails early on an incomplete line that can never become valid, so a peer cannot hold memory
    /// with it: longer than <paramref name="maxLength"/>, or holding a CR that is not the last byte (RFC 9112
    /// section 2.2: a bare CR is invalid).
    /// </summary>
    public static void CheckIncomplete(in ReadOnlySequence<byte> rest, int maxLength, Http1ParseError tooLong, Http1ParseError bareCr)
    {
        if (rest.Length > maxLength)
        {
            Http1Syntax.Throw(tooLong);
        }

        SequencePosition? cr = rest.PositionOf(Http1Syntax.CR);
        if (cr is not null && !rest.Slice(cr.Value).Slice(1).IsEmpty)
        {
            Http1Syntax.Throw(bareCr);
        }
    }
}
