using System.Buffers;
using FastGate.Protocols.Http1;

namespace FastGate.Gateway.Upstream;

/// <summary>What <see cref="UpstreamBodyReader.Read"/> found.</summary>
internal enum UpstreamBodyStatus : byte
{
    /// <summary>A non-empty slice of the body; consume up to the returned position and call again.</summary>
    Data,
    /// <summary>Nothing complete in the input; read more (consume up to the returned position).</summary>
    NeedMore,
    /// <summary>The body ended; consume up to the returned position. A chunked body's last trailer field lines (if any) are in the data.</summary>
    Complete,
    /// <summary>Trailer field lines of a chunked body (RFC 9112 section 7.1.2), each with its CRLF; consume up to the returned position and call again.</summary>
    Trailer,
    /// <summary>The upstream closed before the end its framing declared.</summary>
    Truncated,
}

/// <summary>
/// Takes an HTTP/1.1 response body out of the upstream's input by its framing (RFC 9112 section 6.3:
/// Content-Length, chunked, or up to the close), as protocol-neutral slices of payload that the
/// client's codec re-frames (HTTP/2 DATA frames). Holds no buffer: the slices point into the input.
/// </summary>
internal struct UpstreamBodyReader
{
    private ResponseFraming _framing;
    private long _remaining;
    private Http1ChunkedDecoder _chunked;

    public void Begin(ResponseFraming framing, long contentLength)
    {
        _framing = framing;
        _remaining = contentLength;
        _chunked = new Http1ChunkedDecoder { CaptureTrailers = true };
        IsComplete = framing == ResponseFraming.NoBody || (framing == ResponseFraming.ContentLength && contentLength == 0);
    }

    /// <summary>The whole body was returned (known as soon as the last slice is, for a declared length).</summary>
    public bool IsComplete { get; private set; }

    /// <exception cref="Http1ParseException">the upstream's chunked framing is malformed</exception>
    public UpstreamBodyStatus Read(in ReadOnlySequence<byte> input, bool inputCompleted, out ReadOnlySequence<byte> data, out SequencePosition consumed)
    {
        data = default;
        consumed = input.Start;
        if (IsComplete)
        {
            return UpstreamBodyStatus.Complete;
        }

        switch (_framing)
        {
            case ResponseFraming.ContentLength:
                if (input.IsEmpty)
                {
                    return inputCompleted ? UpstreamBodyStatus.Truncated : UpstreamBodyStatus.NeedMore;
                }

                data = input.Length > _remaining ? input.Slice(0, _remaining) : input;
                _remaining -= data.Length;
                IsComplete = _remaining == 0;
                consumed = data.End;
                return UpstreamBodyStatus.Data;
            case ResponseFraming.Chunked:
            {
                var reader = new SequenceReader<byte>(input);
                var status = _chunked.Read(ref reader, out data);
                consumed = reader.Position;
                if (status == Http1ChunkedStatus.Data)
                {
                    return UpstreamBodyStatus.Data;
                }

                if (status == Http1ChunkedStatus.Completed)
                {
                    IsComplete = true;
                    return UpstreamBodyStatus.Complete;
                }

                if (status == Http1ChunkedStatus.Trailer)
                {
                    return UpstreamBodyStatus.Trailer;
                }

                return inputCompleted ? UpstreamBodyStatus.Truncated : UpstreamBodyStatus.NeedMore;
            }

            default:
                // Close-delimited: everything up to the close.
                if (!input.IsEmpty)
                {
                    data = input;
                    consumed = input.End;
                    return UpstreamBodyStatus.Data;
                }

                IsComplete = inputCompleted;
                return inputCompleted ? UpstreamBodyStatus.Complete : UpstreamBodyStatus.NeedMore;
        }
    }
}
