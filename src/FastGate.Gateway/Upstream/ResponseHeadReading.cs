using System.Buffers;
using System.IO.Pipelines;
using FastGate.Protocols.Http1;

namespace FastGate.Gateway.Upstream;

/// <summary>What one <see cref="ResponseHeadReading.Read"/> step found.</summary>
internal enum ResponseHeadStep : byte
{
    /// <summary>The head is not complete yet; read again.</summary>
    NeedMore,
    /// <summary>A whole, well-formed head was parsed; its status code says what it is (final, interim, 101).</summary>
    Complete,
    /// <summary>Unparseable, ambiguous, or longer than <see cref="ResponseHeadReading.MaxHead"/>.</summary>
    Malformed,
    /// <summary>The upstream closed in the middle of a head (or after an interim one).</summary>
    Truncated,
    /// <summary>The upstream closed before sending a byte (a stale keep-alive connection).</summary>
    NoResponse,
}

/// <summary>
/// The synchronous step of reading an upstream's response head from its receive pipe, shared by every
/// caller that awaits the reads (proxied answers, aggregate parts): the input is sliced to the head
/// budget before parsing, parsed strictly into a <see cref="ResponseHead"/>, the pipe is advanced, and
/// the outcome classified. The caller owns the awaiting, cancellation and timeouts.
/// </summary>
internal struct ResponseHeadReading
{
    /// <summary>Bound of an upstream's response head. Upstreams are trusted more than clients but not blindly.</summary>
    public const int MaxHead = 64 * 1024;

    private readonly ResponseHead _head;
    private long _headBytes;
    private bool _statusLineDone;
    private bool _anyByte;

    /// <param name="head">begun (or reset) by the caller</param>
    /// <param name="afterInterim">an interim head came first, so a close now is a truncated answer</param>
    public ResponseHeadReading(ResponseHead head, bool afterInterim)
    {
        _head = head;
        _anyByte = afterInterim;
    }

    /// <summary>The head being read into.</summary>
    public readonly ResponseHead Head => _head;

    /// <summary>How the connection's failure (a reset, an I/O error) reads at this point of the head.</summary>
    public readonly ResponseHeadStep Closed => _anyByte ? ResponseHeadStep.Truncated : ResponseHeadStep.NoResponse;

    /// <summary>Parses what <paramref name="result"/> holds (not a cancelled read) and advances <paramref name="input"/> past what it used.</summary>
    public ResponseHeadStep Read(PipeReader input, in ReadResult result)
    {
        var buffer = result.Buffer;
        _anyByte |= !buffer.IsEmpty;

        // Limits by slicing: the parser never sees more than the budget left, so a longer head is one
        // that did not end within it.
        long left = MaxHead - _headBytes;
        bool trimmed = buffer.Length > left;
        var reader = new SequenceReader<byte>(trimmed ? buffer.Slice(0, left) : buffer);
        var handler = new ResponseHeadHandler(_head);
        bool done;
        try
        {
            if (!_statusLineDone)
            {
                _statusLineDone = Http1ResponseParser.TryParseStatusLine(ref handler, ref reader);
            }

            done = _statusLineDone && Http1ResponseParser.TryParseHeaders(ref handler, ref reader);
        }
        catch (Http1ParseException)
        {
            input.AdvanceTo(buffer.Start, buffer.End);
            return ResponseHeadStep.Malformed;
        }

        _headBytes += reader.Consumed;
        if (!done)
        {
            input.AdvanceTo(reader.Position, buffer.End);
            if (trimmed)
            {
                return ResponseHeadStep.Malformed;
            }

            return result.IsCompleted ? Closed : ResponseHeadStep.NeedMore;
        }

        input.AdvanceTo(reader.Position);
        return _head.IsMalformed ? ResponseHeadStep.Malformed : ResponseHeadStep.Complete;
    }
}
