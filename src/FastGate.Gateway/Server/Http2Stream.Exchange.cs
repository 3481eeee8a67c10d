using System.Buffers;
using System.Runtime.CompilerServices;
using FastGate.Gateway.Async;
using FastGate.Gateway.Model;
using FastGate.Gateway.Pipeline;
using FastGate.Gateway.Routing;
using FastGate.Gateway.Upstream;
using FastGate.Protocols.Http1;

namespace FastGate.Gateway.Server;

/// <summary>
/// The worker's side of a stream: the request goes through the same admission, phases and upstream
/// forwarding as HTTP/1.1 (a stream becomes an HTTP/1.1 upstream request); the answer comes back as
/// HEADERS and DATA frames within the client's windows.
/// </summary>
internal sealed partial class Http2Stream
{
    private RoutePolicy? _policy;
    private UpstreamBodyReader _responseBody;

    // Trailer fields both ways: the client's (a trailing HEADERS block) for a chunked upstream request,
    // the upstream's (a chunked trailer section) for a trailing HEADERS block to the client.
    private TrailerFields _requestTrailers;
    private TrailerFields _responseTrailers;
    private readonly RequestCache _cache = new();

    // The request ProcessAsync left to proxy (model, route and captured values), for the worker.
    private GatewayModel? _proxyModel;
    private RouteModel? _proxyRoute;
    private RouteValues _proxyValues;

    // The body of a gateway-made answer: the problem document, at most ~600 bytes with a 128-byte id.
    private readonly byte[] _problemBody = new byte[1024];

    private ReadOnlySpan<byte> RequestId => _requestId.AsSpan(0, _requestIdLength);

    /// <summary>
    /// Answers the request, or returns null for one to proxy, whose model, route and captured values
    /// are then in <see cref="_proxyModel"/>, <see cref="_proxyRoute"/> and <see cref="_proxyValues"/>
    /// (the worker awaits the forward itself, see <see cref="RunWorkerAsync"/>). False when the stream
    /// ended without a complete answer.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool?> ProcessAsync()
    {
        var active = _runtime.Active;
        var model = active.Model;
        _phases.Reset();
        _policy = null;
        _runtime.Metrics.OnRequest();
        _requestIdLength = _headTooLarge ? Observability.RequestIds.Write(_requestId) : _request.WriteRequestId(_requestId);
        if (Aborted)
        {
            // Reset before its worker ran (Rapid Reset): no upstream work at all.
            return false;
        }

        if (_headTooLarge)
        {
            return await AnswerProblemAsync(GatewayProblem.HeadTooLarge).ConfigureAwait(false);
        }

        var values = default(RouteValues);
        switch (RequestAdmission.Resolve(_request, model, ref values, out var route, out var refusal))
        {
            case Admission.Refused:
            case Admission.NoRoute:
                return await AnswerProblemAsync(refusal).ConfigureAwait(false);
            case Admission.MethodNotAllowed:
                int written = model.Table.WriteAllowedMethods(_request.Authority, _request.Path, _problemBody);
                return await AnswerProblemAsync(GatewayProblem.MethodNotAllowed, allowLength: written).ConfigureAwait(false);
        }

        var policy = active.Policies.For(route!);
        _policy = policy;
        if (policy is not null)
        {
            var outcome = await _phases.RunAsync(policy, _request, _connection.Peer).ConfigureAwait(false);
            if (!outcome.Proceed)
            {
                return await AnswerProblemAsync(outcome.Problem, withPhaseFields: true).ConfigureAwait(false);
            }
        }

        if (route!.Action != RouteAction.Proxy)
        {
            return await ComposeAsync(model, route, values).ConfigureAwait(false);
        }

        if (policy?.Cache is not null && await _cache.FindAsync(policy, _request).ConfigureAwait(false) is { } entry)
        {
            return await AnswerFromCacheAsync(entry).ConfigureAwait(false);
        }

        if (Aborted)
        {
            return false;
        }

        _proxyModel = model;
        _proxyRoute = route;
        _proxyValues = values;
        return null;
    }

    ReadOnlySpan<byte> IUpstreamExchange.HashKey(UpstreamModel upstream) => _connection.Peer.HashKey(upstream, _request);

    ValueTask<BodyCopy> IUpstreamExchange.SendBodyAsync(UpstreamConnection connection) =>
        SendRequestBodyAsync(_forwarder.Model!.Limits, connection);

    /// <summary>One attempt: request out, response back.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    public async ValueTask<ExchangeResult> ExchangeAsync(UpstreamConnection connection)
    {
        var model = _forwarder.Model!;
        var pool = connection.Endpoint.Pool;
        _forwarder.WriteRequestHead(connection, _request, _connection.Peer, RequestId, _policy, _phases.ValidatedClaims);
        if (await _forwarder.SendRequestAsync(connection, _request, this).ConfigureAwait(false) is { } failed)
        {
            return failed;
        }

        // Interim (1xx) answers other than 100 (which was for the gateway: the stream's window already
        // lets the client send its body) go to the client as HEADERS without END_STREAM before the final
        // ones (RFC 9113 section 8.1), e.g. 103 Early Hints.
        _response.Begin(UpstreamForwarder.MaxResponseHead);
        _forwarder.BeginResponseHead(_response, afterInterim: false);
        ResponseHeadStatus head;
        while (true)
        {
            if (await _forwarder.ReadResponseHeadPart(connection.Input) is not { } read)
            {
                continue;
            }

            head = read;
            if (head != ResponseHeadStatus.Interim)
            {
                break;
            }

            if (_response.StatusCode != 100)
            {
                WriteInterimHead();
            }

            _response.Reset();
            _forwarder.BeginResponseHead(_response, afterInterim: true);
        }

        if (head != ResponseHeadStatus.Final || _response.StatusCode == 101)
        {
            // RFC 9113 section 8.6: HTTP/2 has no 101 (Switching Protocols); a stream cannot be upgraded.
            pool.Discard(connection);
            return head == ResponseHeadStatus.Final
                ? _forwarder.Fail(GatewayProblem.BadUpstreamAnswer, UpstreamFailure.MalformedResponse)
                : _forwarder.OnHeadFailure(head, mayRetry: !_request.HasBody && _request.IsIdempotent);
        }

        // The route timeout bounds the wait for the response head; the body is bounded per read.
        _forwarder.Disarm();
        var framing = _response.Framing(_request.IsHead);
        _responseBody.Begin(framing, _response.ContentLength);
        _cache.TapHead(_response);
        if (!WriteResponseHead(framing, endStream: _responseBody.IsComplete))
        {
            pool.Discard(connection);
            return ExchangeResult.Abort;
        }

        _runtime.Metrics.OnResponse(_response.StatusCode);
        var copy = _responseBody.IsComplete ? BodyCopy.Complete : await RelayResponseBodyAsync(model.Limits, connection).ConfigureAwait(false);
        if (copy != BodyCopy.Complete)
        {
            pool.Discard(connection);
            if (copy == BodyCopy.UpstreamFailed)
            {
                _runtime.Metrics.OnUpstreamFailure(UpstreamFailure.ResponseBodyFailed);
            }

            // What reached the client must not look complete: the stream is reset, not ended.
            _connection.ResetStream(this, Protocols.Http2.Http2ErrorCode.InternalError);
            return ExchangeResult.Abort;
        }

        _cache.Complete();
        if (framing != ResponseFraming.CloseDelimited && _response.AllowsReuse)
        {
            pool.Return(connection);
        }
        else
        {
            pool.Discard(connection);
        }

        return ExchangeResult.CompletedKeepAlive;
    }

    /// <summary>Streams the request body upstream as DATA arrives: as it is with a Content-Length, else chunked.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<BodyCopy> SendRequestBodyAsync(LimitsModel limits, UpstreamConnection connection)
    {
        var upstream = connection.Output;
        bool chunked = _request.IsChunked;
        long total = 0;
        try
        {
            while (true)
            {
                if (await ReadBodyAsync(limits.IdleTimeout).ConfigureAwait(false) is not { } result)
                {
                    return BodyCopy.ClientFailed;
                }

                var buffer = result.Buffer;
                if (!buffer.IsEmpty)
                {
                    total += buffer.Length;
                    if (total > limits.MaxRequestBody)
                    {
                        _body.Reader.AdvanceTo(buffer.Start, buffer.End);
                        return BodyCopy.TooLarge;
                    }

                    Http1HeadWriter.WriteBody(upstream, buffer, chunked);
                }

                bool done = result.IsCompleted;
                if (!ConsumeBody(result))
                {
                    return BodyCopy.ClientFailed;
                }

                if (done && chunked)
                {
                    if (_requestTrailers.IsEmpty)
                    {
                        Http1HeadWriter.WriteChunkTerminator(upstream);
                    }
                    else
                    {
                        // The client's trailing HEADERS go upstream as the chunked trailer section
                        // (with a Content-Length there is no place for them: they are dropped, RFC 9110 section 6.5.1).
                        bool lastChunkWritten = false;
                        Http1HeadWriter.WriteTrailerPart(upstream, _requestTrailers.Lines, ref lastChunkWritten, end: true);
                    }
                }

                var flush = await upstream.FlushAsync().ConfigureAwait(false);
                if (flush.IsCanceled || flush.IsCompleted)
                {
                    return BodyCopy.UpstreamFailed;
                }

                if (done)
                {
                    return BodyCopy.Complete;
                }
            }
        }
        catch (Exception ex) when (UpstreamForwarder.IsConnectionFailure(ex))
        {
            return BodyCopy.UpstreamFailed;
        }
    }

    /// <summary>The next body bytes the client sent, within the idle timeout; null (nothing consumed) when it stalled.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<System.IO.Pipelines.ReadResult?> ReadBodyAsync(TimeSpan idleTimeout)
    {
        SetClientDeadline(idleTimeout);
        var result = await _body.Reader.ReadAsync().ConfigureAwait(false);
        ClearClientDeadline();
        if (result.IsCanceled)
        {
            _body.Reader.AdvanceTo(result.Buffer.Start);
            return null;
        }

        return result;
    }

    /// <summary>
    /// Consumes all of a <see cref="ReadBodyAsync"/> result and credits it back to the client's windows.
    /// False when the body ended without END_STREAM: the client reset the stream.
    /// </summary>
    private bool ConsumeBody(in System.IO.Pipelines.ReadResult result)
    {
        // The length is taken before AdvanceTo hands the segments back to the pipe.
        int consumed = (int)result.Buffer.Length;
        _body.Reader.AdvanceTo(result.Buffer.End);
        _connection.OnBodyConsumed(this, consumed);
        return !result.IsCompleted || _bodyEnded;
    }

    /// <summary>Relays the response body as DATA frames, as the client's windows allow.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<BodyCopy> RelayResponseBodyAsync(LimitsModel limits, UpstreamConnection connection)
    {
        var input = connection.Input;
        try
        {
            while (true)
            {
                if (await _forwarder.ReadBodyAsync(input, limits.IdleTimeout).ConfigureAwait(false) is not { } result)
                {
                    return Aborted ? BodyCopy.ClientFailed : BodyCopy.UpstreamFailed;
                }

                var buffer = result.Buffer;

                var rest = buffer;
                while (true)
                {
                    UpstreamBodyStatus status;
                    ReadOnlySequence<byte> data;
                    SequencePosition consumed;
                    try
                    {
                        status = _responseBody.Read(rest, result.IsCompleted, out data, out consumed);
                    }
                    catch (Http1ParseException)
                    {
                        input.AdvanceTo(buffer.Start, buffer.End);
                        return BodyCopy.UpstreamFailed;
                    }

                    if (status == UpstreamBodyStatus.Data)
                    {
                        _cache.TapBody(data);
                        if (!await _connection.WriteDataAsync(this, data, _responseBody.IsComplete, limits.IdleTimeout).ConfigureAwait(false))
                        {
                            input.AdvanceTo(buffer.Start, buffer.End);
                            return BodyCopy.ClientFailed;
                        }

                        rest = rest.Slice(consumed);
                        if (!_responseBody.IsComplete)
                        {
                            continue;
                        }

                        input.AdvanceTo(rest.Start);
                        return BodyCopy.Complete;
                    }

                    if (status == UpstreamBodyStatus.Trailer)
                    {
                        if (!_responseTrailers.Append(data))
                        {
                            input.AdvanceTo(buffer.Start, buffer.End);
                            return BodyCopy.UpstreamFailed;
                        }

                        rest = rest.Slice(consumed);
                        continue;
                    }

                    if (status == UpstreamBodyStatus.Complete)
                    {
                        bool kept = _responseTrailers.Append(data);
                        input.AdvanceTo(consumed);
                        if (!kept)
                        {
                            return BodyCopy.UpstreamFailed;
                        }

                        if (!_responseTrailers.IsEmpty)
                        {
                            // Trailer fields end the stream as a trailing HEADERS block (RFC 9113 section 8.1).
                            return WriteTrailers(_responseTrailers) ? BodyCopy.Complete : BodyCopy.ClientFailed;
                        }

                        // The chunked or close-delimited end: END_STREAM on an empty DATA frame.
                        return await _connection.WriteDataAsync(this, default, endStream: true, limits.IdleTimeout).ConfigureAwait(false)
                            ? BodyCopy.Complete
                            : BodyCopy.ClientFailed;
                    }

                    input.AdvanceTo(consumed, buffer.End);
                    if (status == UpstreamBodyStatus.Truncated)
                    {
                        return BodyCopy.UpstreamFailed;
                    }

                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            return BodyCopy.UpstreamFailed;
        }
    }

    /// <summary>An interim answer's HEADERS (no END_STREAM): its status and end-to-end fields, lowercase.</summary>
    private void WriteInterimHead()
    {
        if (!_connection.BeginHeaders(this))
        {
            // The stream is gone; the final answer's write finds that out too.
            return;
        }

        try
        {
            _connection.EncodeStatus(_response.StatusCode);
            for (int i = 0; i < _response.HeaderCount; i++)
            {
                if (!_response.StaysBehind(i))
                {
                    _connection.EncodeField(_response.HeaderName(i), _response.HeaderValue(i));
                }
            }
        }
        finally
        {
            _connection.EndHeaders(this, endStream: false);
        }
    }

    /// <summary>
    /// The upstream's trailer fields as a HEADERS block with END_STREAM, lowercase, without
    /// connection-specific fields (RFC 9113 sections 8.1 and 8.2.2); false when the stream is gone.
    /// </summary>
    private bool WriteTrailers(in TrailerFields trailers)
    {
        if (!_connection.BeginHeaders(this))
        {
            return false;
        }

        try
        {
            var fields = new Http1FieldLines(trailers.Lines);
            while (fields.MoveNext(out _, out var name, out var value))
            {
                if (!Http1FieldLines.IsConnectionSpecific(name))
                {
                    _connection.EncodeField(name, value);
                }
            }
        }
        finally
        {
            _connection.EndHeaders(this, endStream: true);
        }

        return true;
    }

    /// <summary>HEADERS for the upstream's answer: its end-to-end fields, lowercase (RFC 9113 section 8.2.2).</summary>
    private bool WriteResponseHead(ResponseFraming framing, bool endStream)
    {
        if (!_connection.BeginHeaders(this))
        {
            return false;
        }

        try
        {
            _connection.EncodeStatus(_response.StatusCode);
            for (int i = 0; i < _response.HeaderCount; i++)
            {
                if (!_response.StaysBehind(i))
                {
                    _connection.EncodeField(_response.HeaderName(i), _response.HeaderValue(i));
                }
            }

            // The same rule as on HTTP/1.1: a declared length goes along, except on 204 and 1xx.
            if (framing == ResponseFraming.ContentLength
                || (framing == ResponseFraming.NoBody && _response.ContentLength >= 0 && _response.StatusCode != 204 && _response.StatusCode >= 200))
            {
                _connection.EncodeNumber("content-length"u8, _response.ContentLength);
            }

            if (_policy?.Cache is not null)
            {
                _connection.EncodeField("x-cache"u8, "MISS"u8);
            }
        }
        finally
        {
            _connection.EndHeaders(this, endStream);
        }

        return true;
    }

    /// <summary>A gateway-made answer: the same problem document as on HTTP/1.1, as HEADERS and DATA.</summary>
    /// <param name="allowLength">for 405: the length of the Allow value already in the problem buffer</param>
    /// <param name="detail">a detail of its own (e.g. naming a failed part) instead of the problem's</param>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> AnswerProblemAsync(GatewayProblem problem, bool withPhaseFields = false, int allowLength = 0, byte[]? detail = null)
    {
        int length = WriteProblemHead(problem, withPhaseFields, allowLength, detail is null ? ProblemResponse.DetailOf(problem) : detail);
        if (length < 0)
        {
            return false;
        }

        _runtime.Metrics.OnResponse(ProblemResponse.StatusOf(problem));
        var limits = _runtime.Active.Model.Limits;
        return await _connection.WriteDataAsync(this, new ReadOnlySequence<byte>(_problemBody, 0, length), endStream: true, limits.IdleTimeout).ConfigureAwait(false);
    }

    /// <summary>Writes the problem's HEADERS and its body into the problem buffer; -1 when the stream is gone.</summary>
    private int WriteProblemHead(GatewayProblem problem, bool withPhaseFields, int allowLength, ReadOnlySpan<byte> detail)
    {
        if (!_connection.BeginHeaders(this))
        {
            return -1;
        }

        try
        {
            _connection.EncodeStatus(ProblemResponse.StatusOf(problem));
            _connection.EncodeField("content-type"u8, "application/problem+json"u8);
            _connection.EncodeNumber("content-length"u8, ProblemResponse.BodyLength(problem, RequestId, detail));
            int retryAfter = ProblemResponse.RetryAfterSeconds(problem);
            if (retryAfter > 0)
            {
                _connection.EncodeNumber("retry-after"u8, retryAfter);
            }

            if (allowLength > 0)
            {
                _connection.EncodeField("allow"u8, _problemBody.AsSpan(0, allowLength));
            }

            if (withPhaseFields)
            {
                _connection.EncodeFieldLines(_phases.Fields);
            }

            _connection.EncodeField("x-request-id"u8, RequestId);
        }
        finally
        {
            _connection.EndHeaders(this, endStream: false);
        }

        return ProblemResponse.WriteBody(problem, RequestId, detail, _problemBody);
    }

    /// <summary>A fresh cache entry, as HEADERS and DATA: the same fields an HTTP/1.1 client gets.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> AnswerFromCacheAsync(Traffic.CacheEntry entry)
    {
        bool endStream = _request.IsHead || entry.Body.IsEmpty;
        if (!WriteCachedHead(entry, endStream))
        {
            return false;
        }

        _runtime.Metrics.OnResponse(entry.StatusCode);
        return endStream || await _connection.WriteDataAsync(this, new ReadOnlySequence<byte>(entry.BodyMemory), endStream: true, _runtime.Active.Model.Limits.IdleTimeout).ConfigureAwait(false);
    }

    private bool WriteCachedHead(Traffic.CacheEntry entry, bool endStream)
    {
        if (!_connection.BeginHeaders(this))
        {
            return false;
        }

        try
        {
            _connection.EncodeStatus(entry.StatusCode);
            _connection.EncodeFieldLines(entry.HeaderLines);
            _connection.EncodeNumber("content-length"u8, entry.Body.Length);
            Span<byte> age = stackalloc byte[32];
            if (entry.TryWriteAge(System.Diagnostics.Stopwatch.GetTimestamp(), age, out int written))
            {
                _connection.EncodeField("age"u8, age[..written]);
            }

            _connection.EncodeField("x-cache"u8, "HIT"u8);
            _connection.EncodeField("x-request-id"u8, RequestId);
        }
        finally
        {
            _connection.EndHeaders(this, endStream);
        }

        return true;
    }
}
