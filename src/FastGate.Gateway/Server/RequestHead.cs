using FastGate.Protocols.Http1;
using FastGate.Protocols.Text;

namespace FastGate.Gateway.Server;

/// <summary>Form of the request-target (RFC 9112 section 3.2).</summary>
internal enum TargetForm : byte
{
    Origin,
    Absolute,
    Authority,
    Asterisk,
}

/// <summary>Why a parsed head is refused before anything is sent upstream.</summary>
internal enum RequestHeadError : byte
{
    None,
    MissingHost,
    RepeatedHost,
    InvalidContentLength,
    ContentLengthWithTransferEncoding,
    UnsupportedTransferEncoding,
    TransferEncodingInHttp10,
    InvalidTarget,
    InvalidPath,
    UnsupportedExpectation,
    MethodNotSupported,
    TooManyHeaders,
}

/// <summary>
/// One request head, copied out of the connection's input into a pooled buffer so that the pipe can
/// be advanced and the head replayed on a retry. Reused for every request of a connection; the buffer
/// goes back to the pool between requests so an idle keep-alive connection holds no head memory.
/// </summary>
internal sealed class RequestHead
{
    // Bounds the number of field lines; the head size limit already bounds their bytes. A line takes
    // at least 4 bytes ("a:\r\n"), so a 16 KiB head has at most ~4,000; browsers send 10-30.
    private const int MaxHeaderCount = 256;

    private readonly Http1HeadStore _store = new();

    public int HeaderCount => _store.FieldCount;
    public Http1Version Version { get; private set; }
    public TargetForm Form { get; private set; }
    public RequestHeadError Error { get; private set; }

    private int _methodStart, _methodLength;
    private int _targetStart, _targetLength;
    private int _pathStart, _pathLength;
    private int _queryStart, _queryLength;          // the query including its leading '?', or empty
    private int _authorityStart, _authorityLength;  // absolute-form authority
    private int _normalizedStart, _normalizedLength;

    public int HostIndex { get; private set; } = -1;
    public long ContentLength { get; private set; } = -1;
    public bool IsChunked { get; private set; }
    public bool HasTransferEncoding { get; private set; }
    public bool ConnectionClose { get; private set; }
    public bool ConnectionKeepAlive { get; private set; }
    public bool ConnectionUpgrade { get; private set; }
    /// <summary>Connection lists names other than close/keep-alive/upgrade: those fields are hop-by-hop too.</summary>
    public bool ConnectionListsOtherNames { get; private set; }
    public int UpgradeIndex { get; private set; } = -1;
    public bool ExpectContinue { get; private set; }
    public int ForwardedForIndex { get; private set; } = -1;
    public int RequestIdIndex { get; private set; } = -1;
    public int TraceparentIndex { get; private set; } = -1;

    /// <summary>
    /// The request came over TLS (the scheme is https, RFC 9110 section 4.2.2). A property of the
    /// connection, so <see cref="Begin"/> keeps it.
    /// </summary>
    public bool IsHttps { get; set; }

    public bool IsHead { get; private set; }
    public bool IsIdempotent { get; private set; }

    public ReadOnlySpan<byte> Method => _store.Slice(_methodStart, _methodLength);
    public ReadOnlySpan<byte> Target => _store.Slice(_targetStart, _targetLength);
    /// <summary>The path as received (origin-form path, or the path of an absolute-form target).</summary>
    public ReadOnlySpan<byte> RawPath => _store.Slice(_pathStart, _pathLength);
    /// <summary>The query including '?', or empty.</summary>
    public ReadOnlySpan<byte> Query => _store.Slice(_queryStart, _queryLength);
    /// <summary>The normalized path that routing matched (see PathNormalizer).</summary>
    public ReadOnlySpan<byte> Path => _store.Slice(_normalizedStart, _normalizedLength);

    /// <summary>The authority the request is for: the absolute-form authority, else the Host field.</summary>
    public ReadOnlySpan<byte> Authority =>
        _authorityLength > 0 ? _store.Slice(_authorityStart, _authorityLength)
        : HostIndex >= 0 ? HeaderValue(HostIndex) : default;

    public bool HasBody => IsChunked || ContentLength > 0;

    /// <summary>An Upgrade field that Connection names (RFC 9110 section 7.8).</summary>
    public bool IsUpgrade => UpgradeIndex >= 0 && ConnectionUpgrade;

    public ref readonly Http1Field Header(int index) => ref _store.Field(index);

    public ReadOnlySpan<byte> HeaderName(int index) => _store.Name(index);

    public ReadOnlySpan<byte> HeaderValue(int index) => _store.Value(index);

    /// <summary>Takes a small buffer for the next head; it grows up to <paramref name="limit"/> bytes if needed.</summary>
    public void Begin(int limit)
    {
        _store.Begin(limit);
        Error = RequestHeadError.None;
        Form = TargetForm.Origin;
        _methodLength = _targetLength = _pathLength = _queryLength = _authorityLength = _normalizedLength = 0;
        _methodStart = _targetStart = _pathStart = _queryStart = _authorityStart = _normalizedStart = 0;
        HostIndex = UpgradeIndex = ForwardedForIndex = RequestIdIndex = TraceparentIndex = -1;
        ContentLength = -1;
        IsChunked = HasTransferEncoding = false;
        ConnectionClose = ConnectionKeepAlive = ConnectionUpgrade = ConnectionListsOtherNames = false;
        ExpectContinue = false;
        IsHead = IsIdempotent = false;
    }

    /// <summary>
    /// An HTTP/2 request with a body and no Content-Length (RFC 9113 section 8.1): the body's end is
    /// END_STREAM, so it goes upstream chunked.
    /// </summary>
    public void SetStreamedBody() => IsChunked = true;

    /// <summary>The answer to a head refused for <see cref="Error"/>.</summary>
    public Pipeline.GatewayProblem ErrorProblem => Error switch
    {
        RequestHeadError.UnsupportedExpectation => Pipeline.GatewayProblem.ExpectationFailed,
        RequestHeadError.MethodNotSupported => Pipeline.GatewayProblem.MethodNotImplemented,
        RequestHeadError.TooManyHeaders => Pipeline.GatewayProblem.HeadTooLarge,
        _ => Pipeline.GatewayProblem.MalformedRequest,
    };

    /// <summary>Gives the buffer back to its pool; the head's spans are invalid afterwards.</summary>
    public void Release() => _store.Release();

    /// <summary>Ends the head and keeps a buffer of the initial size for the next one (a pooled owner).</summary>
    public void Recycle() => _store.Recycle();

    private int Copy(ReadOnlySpan<byte> bytes) => _store.Copy(bytes);

    public void SetRequestLine(ReadOnlySpan<byte> method, ReadOnlySpan<byte> target, Http1Version version)
    {
        Version = version;
        _methodStart = Copy(method);
        _methodLength = method.Length;
        _targetStart = Copy(target);
        _targetLength = target.Length;
        IsHead = method.SequenceEqual("HEAD"u8);
        IsIdempotent = IsHead || method.SequenceEqual("GET"u8) || method.SequenceEqual("PUT"u8)
            || method.SequenceEqual("DELETE"u8) || method.SequenceEqual("OPTIONS"u8) || method.SequenceEqual("TRACE"u8);
        ParseTarget(method);
    }

    // RFC 9112 section 3.2: origin-form, absolute-form, authority-form (CONNECT only), asterisk-form.
    private void ParseTarget(ReadOnlySpan<byte> method)
    {
        var target = Target;
        if (target[0] == (byte)'/')
        {
            Form = TargetForm.Origin;
            SplitPathAndQuery(_targetStart, _targetLength);
        }
        else if (target.Length == 1 && target[0] == (byte)'*')
        {
            Form = TargetForm.Asterisk;
            if (!method.SequenceEqual("OPTIONS"u8))
            {
                SetError(RequestHeadError.InvalidTarget);
            }
        }
        else if (method.SequenceEqual("CONNECT"u8))
        {
            Form = TargetForm.Authority;
            SetError(RequestHeadError.MethodNotSupported);
        }
        else
        {
            Form = TargetForm.Absolute;
            int schemeLength = Ascii8.StartsWithIgnoreCase(target, "http://"u8) ? 7
                : Ascii8.StartsWithIgnoreCase(target, "https://"u8) ? 8 : 0;
            if (schemeLength == 0)
            {
                SetError(RequestHeadError.InvalidTarget);
                return;
            }

            var rest = target[schemeLength..];
            int end = rest.IndexOfAny((byte)'/', (byte)'?');
            int authorityLength = end < 0 ? rest.Length : end;
            // RFC 9110 section 4.2.1: userinfo is deprecated and a sender must not generate it.
            if (authorityLength == 0 || rest[..authorityLength].Contains((byte)'@'))
            {
                SetError(RequestHeadError.InvalidTarget);
                return;
            }

            _authorityStart = _targetStart + schemeLength;
            _authorityLength = authorityLength;
            if (end < 0)
            {
                // "http://host" means the path "/" (RFC 9112 section 3.2.2 via RFC 9110 section 4.2.3).
                _pathStart = Copy("/"u8);
                _pathLength = 1;
            }
            else if (rest[end] == (byte)'?')
            {
                _pathStart = Copy("/"u8);
                _pathLength = 1;
                _queryStart = _authorityStart + end;
                _queryLength = rest.Length - end;
            }
            else
            {
                SplitPathAndQuery(_authorityStart + end, rest.Length - end);
            }
        }
    }

    private void SplitPathAndQuery(int start, int length)
    {
        var span = _store.Slice(start, length);
        // A fragment is not part of a request-target (RFC 9112 section 3.2).
        if (span.Contains((byte)'#'))
        {
            SetError(RequestHeadError.InvalidTarget);
        }

        int q = span.IndexOf((byte)'?');
        _pathStart = start;
        _pathLength = q < 0 ? length : q;
        _queryStart = q < 0 ? start + length : start + q;
        _queryLength = q < 0 ? 0 : length - q;
    }

    /// <summary>Normalizes the path into the tail of the buffer; false when it is unsafe (400).</summary>
    public bool NormalizePath()
    {
        if (Form != TargetForm.Origin && Form != TargetForm.Absolute)
        {
            return false;
        }

        // The normalized path is never longer than the raw one. Reserve first: it may move the buffer.
        var destination = _store.Reserve(_pathLength);
        if (!Routing.PathNormalizer.TryNormalize(RawPath, destination, out int written))
        {
            return false;
        }

        _normalizedStart = _store.Commit(written);
        _normalizedLength = written;
        return true;
    }

    public void AddHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (HeaderCount == MaxHeaderCount)
        {
            SetError(RequestHeadError.TooManyHeaders);
            return;
        }

        var kind = KnownHeaders.Classify(name);
        int index = _store.AddField(name, value, kind);

        switch (kind)
        {
            case KnownHeader.Host:
                if (HostIndex >= 0)
                {
                    // RFC 9112 section 3.2: more than one Host field line is a 400.
                    SetError(RequestHeadError.RepeatedHost);
                }

                HostIndex = index;
                break;
            case KnownHeader.ContentLength:
                OnContentLength(value);
                break;
            case KnownHeader.TransferEncoding:
                OnTransferEncoding(value);
                break;
            case KnownHeader.Connection:
                OnConnection(value);
                break;
            case KnownHeader.Upgrade:
                UpgradeIndex = index;
                break;
            case KnownHeader.Expect:
                // RFC 9110 section 10.1.1: 100-continue is the only expectation defined; others get 417.
                if (Ascii8.EqualsIgnoreCase(value, "100-continue"u8))
                {
                    ExpectContinue = true;
                }
                else
                {
                    SetError(RequestHeadError.UnsupportedExpectation);
                }

                break;
            case KnownHeader.XForwardedFor:
                ForwardedForIndex = ForwardedForIndex < 0 ? index : ForwardedForIndex;
                break;
            case KnownHeader.XRequestId:
                RequestIdIndex = index;
                break;
            case KnownHeader.Traceparent:
                TraceparentIndex = index;
                break;
        }
    }

    // RFC 9112 section 6.3 (rule 5) and RFC 9110 section 8.6: one decimal value; repeated identical
    // values may be accepted, differing or malformed values are unrecoverable framing errors.
    private void OnContentLength(ReadOnlySpan<byte> value)
    {
        if (!Ascii8.TryParseContentLength(value, out long length))
        {
            SetError(RequestHeadError.InvalidContentLength);
            return;
        }

        if (ContentLength >= 0 && ContentLength != length)
        {
            SetError(RequestHeadError.InvalidContentLength);
            return;
        }

        ContentLength = length;
    }

    // RFC 9112 section 6.1: chunked must be the final coding. FastGate accepts exactly "chunked" and
    // nothing else: any other coding would have to be understood to find the message's end.
    private void OnTransferEncoding(ReadOnlySpan<byte> value)
    {
        if (HasTransferEncoding || !Ascii8.EqualsIgnoreCase(value, "chunked"u8))
        {
            SetError(RequestHeadError.UnsupportedTransferEncoding);
        }

        HasTransferEncoding = true;
        IsChunked = true;
    }

    private void OnConnection(ReadOnlySpan<byte> value)
    {
        var options = ConnectionOptionsParser.Parse(value);
        ConnectionClose |= (options & ConnectionOptions.Close) != 0;
        ConnectionKeepAlive |= (options & ConnectionOptions.KeepAlive) != 0;
        ConnectionUpgrade |= (options & ConnectionOptions.Upgrade) != 0;
        ConnectionListsOtherNames |= (options & ConnectionOptions.OtherNames) != 0;
    }

    /// <summary>Checks what needs the whole head (RFC 9112 sections 3.2 and 6.3).</summary>
    public void Complete()
    {
        if (Version == Http1Version.Http11 && HostIndex < 0)
        {
            SetError(RequestHeadError.MissingHost);
        }

        if (HasTransferEncoding)
        {
            if (ContentLength >= 0)
            {
                // RFC 9112 section 6.3: both present is a smuggling attempt until proven otherwise.
                SetError(RequestHeadError.ContentLengthWithTransferEncoding);
            }

            if (Version == Http1Version.Http10)
            {
                SetError(RequestHeadError.TransferEncodingInHttp10);
            }
        }
    }

    /// <summary>The value of the first field of a known kind, or empty.</summary>
    public ReadOnlySpan<byte> Find(KnownHeader kind)
    {
        for (int i = 0; i < HeaderCount; i++)
        {
            if (_store.Field(i).Kind == kind)
            {
                return _store.Value(i);
            }
        }

        return default;
    }

    /// <summary>The value of the first field with this name (ASCII, any case), or empty.</summary>
    public ReadOnlySpan<byte> Find(ReadOnlySpan<byte> name)
    {
        for (int i = 0; i < HeaderCount; i++)
        {
            if (Ascii8.EqualsIgnoreCase(_store.Name(i), name))
            {
                return _store.Value(i);
            }
        }

        return default;
    }

    /// <summary>
    /// Writes the request's id into <paramref name="destination"/> (128 bytes): the client's
    /// X-Request-Id when it is sane (1 to 128 visible ASCII characters), or a new one. Returns its length.
    /// </summary>
    public int WriteRequestId(Span<byte> destination)
    {
        if (RequestIdIndex >= 0)
        {
            var value = HeaderValue(RequestIdIndex);
            if (value.Length is > 0 and <= 128 && !value.ContainsAnyExceptInRange((byte)0x21, (byte)0x7E))
            {
                value.CopyTo(destination);
                return value.Length;
            }
        }

        return Observability.RequestIds.Write(destination);
    }

    /// <summary>Is the named field listed in a Connection field (and so hop-by-hop)?</summary>
    public bool IsListedInConnection(ReadOnlySpan<byte> name) => _store.IsListedInConnection(name);

    private void SetError(RequestHeadError error)
    {
        if (Error == RequestHeadError.None)
        {
            Error = error;
        }
    }
}

/// <summary>The struct handler the stateless parser calls; copies into the connection's head.</summary>
internal struct RequestHeadHandler : IHttp1RequestHeadHandler
{
    public RequestHead Head;

    public RequestHeadHandler(RequestHead head) => Head = head;

    public readonly void OnRequestLine(ReadOnlySpan<byte> method, ReadOnlySpan<byte> target, Http1Version version) =>
        Head.SetRequestLine(method, target, version);

    public readonly void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => Head.AddHeader(name, value);
}
