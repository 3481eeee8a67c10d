using FastGate.Protocols.Http1;
using FastGate.Protocols.Text;

namespace FastGate.Gateway.Upstream;

/// <summary>How the end of a response body is found (RFC 9112 section 6.3).</summary>
internal enum ResponseFraming : byte
{
    NoBody,
    ContentLength,
    Chunked,
    /// <summary>The body ends when the upstream closes the connection.</summary>
    CloseDelimited,
}

/// <summary>
/// An upstream's response head, copied into a pooled buffer. Parsed as strictly as a request: an
/// answer that could be read two ways is a 502 and its connection is discarded.
/// </summary>
internal sealed class ResponseHead
{
    private readonly Http1HeadStore _store = new();

    public int HeaderCount => _store.FieldCount;
    public Http1Version Version { get; private set; }
    public int StatusCode { get; private set; }
    public bool IsMalformed { get; private set; }
    public long ContentLength { get; private set; } = -1;
    public bool IsChunked { get; private set; }
    public bool HasTransferEncoding { get; private set; }
    public bool ConnectionClose { get; private set; }
    public bool ConnectionKeepAlive { get; private set; }
    public bool ConnectionListsOtherNames { get; private set; }

    private int _reasonStart, _reasonLength;

    public ReadOnlySpan<byte> ReasonPhrase => _store.Slice(_reasonStart, _reasonLength);

    public ref readonly Http1Field Header(int index) => ref _store.Field(index);

    public ReadOnlySpan<byte> HeaderName(int index) => _store.Name(index);

    public ReadOnlySpan<byte> HeaderValue(int index) => _store.Value(index);

    /// <summary>Takes a small buffer for the next head; it grows up to <paramref name="limit"/> bytes if needed.</summary>
    public void Begin(int limit)
    {
        _store.Begin(limit);
        Reset();
    }

    /// <summary>Forgets the previous head (an interim 1xx) and keeps the buffer.</summary>
    public void Reset()
    {
        _store.Clear();
        StatusCode = 0;
        IsMalformed = false;
        ContentLength = -1;
        IsChunked = HasTransferEncoding = false;
        ConnectionClose = ConnectionKeepAlive = ConnectionListsOtherNames = false;
        _reasonLength = 0;
    }

    /// <summary>Gives the buffer back to its pool; the head's spans are invalid afterwards.</summary>
    public void Release() => _store.Release();

    /// <summary>Ends the head and keeps a buffer of the initial size for the next one (a pooled owner).</summary>
    public void Recycle() => _store.Recycle();

    public void SetStatusLine(Http1Version version, int statusCode, ReadOnlySpan<byte> reason)
    {
        Version = version;
        StatusCode = statusCode;
        _reasonStart = _store.Copy(reason);
        _reasonLength = reason.Length;
    }

    public void AddHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        var kind = KnownHeaders.Classify(name);
        _store.AddField(name, value, kind);

        switch (kind)
        {
            case KnownHeader.ContentLength:
                // RFC 9112 section 6.3 rule 3: Content-Length with Transfer-Encoding "ought to be handled
                // as an error" (a smuggling or splitting sign); with a differing or malformed value the
                // length is unknowable (rule 5). Either way the answer is refused, as a request would be.
                if (!Ascii8.TryParseContentLength(value, out long length) || (ContentLength >= 0 && ContentLength != length)
                    || HasTransferEncoding)
                {
                    IsMalformed = true;
                }

                ContentLength = length;
                break;
            case KnownHeader.TransferEncoding:
                // Only exactly "chunked" is accepted, as for requests. Another final coding would make the
                // body close-delimited (RFC 9112 section 6.3 rule 4), and "gzip, chunked" carries a coding
                // that re-framing for the client would silently drop (the gateway sends its own framing),
                // so the client would take compressed bytes for the body. A second line is ambiguous.
                if (HasTransferEncoding || ContentLength >= 0 || !Ascii8.EqualsIgnoreCase(value, "chunked"u8))
                {
                    IsMalformed = true;
                }

                HasTransferEncoding = true;
                IsChunked = true;
                break;
            case KnownHeader.Connection:
                // Only names other than the options make fields hop-by-hop beyond the fixed set (Keep-Alive
                // and Upgrade are in it): the usual "keep-alive" costs no scan of the fields per field.
                var options = ConnectionOptionsParser.Parse(value);
                ConnectionClose |= (options & ConnectionOptions.Close) != 0;
                ConnectionKeepAlive |= (options & ConnectionOptions.KeepAlive) != 0;
                ConnectionListsOtherNames |= (options & (ConnectionOptions.OtherNames | ConnectionOptions.Close)) != 0;
                break;
        }
    }

    /// <summary>The body framing for a request of the given kind (RFC 9112 section 6.3).</summary>
    public ResponseFraming Framing(bool requestWasHead)
    {
        if (requestWasHead || StatusCode < 200 || StatusCode == 204 || StatusCode == 304)
        {
            return ResponseFraming.NoBody;
        }

        // A head with any other Transfer-Encoding than "chunked" was refused as malformed.
        if (IsChunked)
        {
            return ResponseFraming.Chunked;
        }

        return ContentLength >= 0 ? ResponseFraming.ContentLength : ResponseFraming.CloseDelimited;
    }

    /// <summary>May the upstream connection carry another request after this answer?</summary>
    public bool AllowsReuse => !ConnectionClose && (Version == Http1Version.Http11 || ConnectionKeepAlive);

    public bool IsListedInConnection(ReadOnlySpan<byte> name) => _store.IsListedInConnection(name);

    // Fields that never cross to the client as they were received (RFC 9110 section 7.6.1): the
    // gateway writes its own framing and connection handling.
    private static readonly bool[] HopByHop = Server.UpstreamRequestWriter.BuildSkip(
        KnownHeader.Connection, KnownHeader.KeepAlive, KnownHeader.ProxyConnection, KnownHeader.TE, KnownHeader.Trailer,
        KnownHeader.TransferEncoding, KnownHeader.Upgrade, KnownHeader.ContentLength);

    /// <summary>
    /// Does field <paramref name="index"/> stay behind (hop-by-hop, named by Connection, or framing the
    /// gateway writes itself) rather than cross to the client?
    /// </summary>
    public bool StaysBehind(int index) =>
        HopByHop[(int)_store.Field(index).Kind] || (ConnectionListsOtherNames && IsListedInConnection(_store.Name(index)));
}

internal struct ResponseHeadHandler : IHttp1ResponseHeadHandler
{
    public ResponseHead Head;

    public ResponseHeadHandler(ResponseHead head) => Head = head;

    public readonly void OnStatusLine(Http1Version version, int statusCode, ReadOnlySpan<byte> reasonPhrase) =>
        Head.SetStatusLine(version, statusCode, reasonPhrase);

    public readonly void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => Head.AddHeader(name, value);
}
