using System.Buffers;
using FastGate.Protocols.Http1;
using FastGate.Protocols.Http2;

namespace FastGate.Gateway.Server;

/// <summary>
/// The request header block of a stream, as the HPACK decoder delivers it field by field: validated
/// (RFC 9113 sections 8.2 and 8.3) and turned into the same <see cref="RequestHead"/> an HTTP/1.1
/// request becomes, so routing, phases and the upstream request writer need not know the protocol.
/// </summary>
internal sealed partial class Http2Stream
{
    private Http2RequestFieldValidator _validator;
    private bool _trailers;
    private bool _malformed;
    private bool _headTooLarge;

    // Pseudo-header values and the cookie crumbs. The pooled stream object keeps a small buffer from
    // request to request and grows it (up to the head limit) only for a large block: renting a
    // head-limit-sized array per request from the shared pool, rented on the frame loop and returned
    // by the worker on another thread, ran the pool's per-core stacks dry at 160 streams in flight
    // and allocated ~23 KB per request under h2load (perf-results/README.md).
    private const int ScratchSize = 1024;
    private byte[] _scratch = [];
    private int _scratchLength;
    private int _scratchLimit;
    private int _methodStart = -1, _methodLength;
    private int _pathStart = -1, _pathLength;
    private int _authorityStart = -1, _authorityLength;
    private int _cookieStart = -1;

    /// <summary>The request as the header block built it (for benchmarks and tests).</summary>
    internal RequestHead Request => _request;

    /// <summary>The decoded header list passed SETTINGS_MAX_HEADER_LIST_SIZE (answered with 431).</summary>
    public bool HeadTooLarge => _headTooLarge;

    /// <summary>Starts a header block: the request's, or trailers after DATA.</summary>
    public void BeginHeaderBlock(int headLimit, bool trailers)
    {
        _trailers = trailers;
        _validator.Begin(trailers);
        _malformed = false;
        if (trailers)
        {
            return;
        }

        _headTooLarge = false;
        _requestTrailers.Clear();
        _request.Begin(headLimit);
        if (_scratch.Length == 0)
        {
            _scratch = ArrayPool<byte>.Shared.Rent(Math.Min(ScratchSize, headLimit));
        }

        _scratchLimit = headLimit;

        _scratchLength = 0;
        _methodStart = _pathStart = _authorityStart = _cookieStart = -1;
        _methodLength = _pathLength = _authorityLength = 0;
    }

    /// <summary>Gives a buffer grown for a large block back; the small one stays with the stream.</summary>
    private void ShrinkScratch()
    {
        if (_scratch.Length > ScratchSize)
        {
            ReturnScratch();
        }
    }

    private void ReturnScratch()
    {
        if (_scratch.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_scratch);
            _scratch = [];
        }
    }

    /// <summary>One decoded field of the current block.</summary>
    public void OnField(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (_malformed)
        {
            return;
        }

        var kind = _validator.Check(name, value, out var pseudo);
        if (kind == Http2FieldKind.Malformed)
        {
            _malformed = true;
            return;
        }

        if (_trailers)
        {
            // Kept for a chunked upstream request (see SendRequestBodyAsync). The header list limit
            // bounds them below TrailerFields.MaxLength, so nothing is cut here.
            _requestTrailers.Append(name, value);
            return;
        }

        if (kind == Http2FieldKind.Pseudo)
        {
            // :scheme is validated by presence only: the gateway speaks for itself upstream.
            switch (pseudo)
            {
                case Http2PseudoHeader.Method:
                    _methodStart = Keep(value, out _methodLength);
                    break;
                case Http2PseudoHeader.Path:
                    _pathStart = Keep(value, out _pathLength);
                    break;
                case Http2PseudoHeader.Authority:
                    _authorityStart = Keep(value, out _authorityLength);
                    break;
            }

            return;
        }

        if (name.SequenceEqual("cookie"u8))
        {
            // RFC 9113 section 8.2.3: crumbs are joined with "; " before an HTTP/1.1 hop.
            if (_cookieStart >= 0)
            {
                Keep("; "u8, out _);
            }
            else
            {
                _cookieStart = _scratchLength;
            }

            Keep(value, out _);
            return;
        }

        if (name.SequenceEqual("host"u8) && _authorityStart >= 0)
        {
            // RFC 9113 section 8.3.1: Host and :authority must not disagree; :authority becomes Host.
            if (!value.SequenceEqual(Scratch(_authorityStart, _authorityLength)))
            {
                _malformed = true;
            }

            return;
        }

        _request.AddHeader(name, value);
    }

    private ReadOnlySpan<byte> Scratch(int start, int length) => _scratch.AsSpan(start, length);

    private int Keep(ReadOnlySpan<byte> value, out int length)
    {
        length = value.Length;
        int needed = _scratchLength + value.Length;
        if (needed > _scratch.Length)
        {
            if (needed > _scratchLimit)
            {
                // The decoder bounds the header list, so this only trips on pseudo-headers and cookies
                // that together pass the head limit.
                _headTooLarge = true;
                return _scratchLength;
            }

            var larger = ArrayPool<byte>.Shared.Rent(Math.Min(Math.Max(needed, _scratch.Length * 2), _scratchLimit));
            _scratch.AsSpan(0, _scratchLength).CopyTo(larger);
            ReturnScratch();
            _scratch = larger;
        }

        int start = _scratchLength;
        value.CopyTo(_scratch.AsSpan(start));
        _scratchLength += value.Length;
        return start;
    }

    /// <summary>The decoder found the header list too large (after decoding all of it).</summary>
    public void OnHeadTooLarge() => _headTooLarge = true;

    /// <summary>
    /// The request's header block ended: false when it is malformed (a stream error PROTOCOL_ERROR,
    /// RFC 9113 section 8.1.1). A head that is sound HTTP/2 but refused by the gateway's own rules
    /// (too large, no Host, bad target) is answered by the worker with a problem instead.
    /// </summary>
    public bool CompleteRequestHead(bool endStream)
    {
        if (_malformed)
        {
            return false;
        }

        if (_headTooLarge)
        {
            return true;
        }

        var method = Scratch(Math.Max(0, _methodStart), _methodLength);
        bool isConnect = method.SequenceEqual("CONNECT"u8);
        if (!_validator.Complete(isConnect))
        {
            return false;
        }

        // CONNECT has no :path; its target is the authority (and it is answered with 501).
        var target = isConnect ? Scratch(_authorityStart, _authorityLength) : Scratch(_pathStart, _pathLength);
        _request.SetRequestLine(method, target, Http1Version.Http11);
        if (_authorityStart >= 0)
        {
            _request.AddHeader("host"u8, Scratch(_authorityStart, _authorityLength));
        }

        if (_cookieStart >= 0)
        {
            _request.AddHeader("cookie"u8, Scratch(_cookieStart, _scratchLength - _cookieStart));
        }

        _request.Complete();
        if (!endStream && _request.ContentLength < 0)
        {
            _request.SetStreamedBody();
        }

        // RFC 9113 section 8.1.1: a Content-Length that the DATA frames (none here) do not match.
        return !(endStream && _request.ContentLength > 0);
    }

    /// <summary>Trailers ended: false when malformed (pseudo-headers, bad fields, no END_STREAM).</summary>
    public bool CompleteTrailers(bool endStream) => !_malformed && endStream;
}
