using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using FastGate.Gateway.Async;
using FastGate.Gateway.Model;
using FastGate.Gateway.Pipeline;
using FastGate.Gateway.Routing;
using FastGate.Gateway.Upstream;
using FastGate.Protocols.Buffers;
using FastGate.Protocols.Http1;
using FastGate.Protocols.Text;

namespace FastGate.Gateway.Server;

internal sealed partial class Http1Connection
{
    /// <summary>How one attempt at an upstream exchange ended.</summary>
    private enum ExchangeResult : byte
    {
        /// <summary>The response went to the client in full; the client connection may continue.</summary>
        CompletedKeepAlive,
        /// <summary>The response went to the client in full; the client connection must close.</summary>
        CompletedClose,
        /// <summary>Nothing reached the client and the request may be sent again.</summary>
        Retry,
        /// <summary>Nothing reached the client; answer <see cref="_exchangeProblem"/>.</summary>
        Problem,
        /// <summary>The client's response was started or the client failed: the connection ends.</summary>
        Abort,
    }

    private GatewayProblem _exchangeProblem;

    // Fields that never cross to the client as they were received (RFC 9110 section 7.6.1): the
    // gateway writes its own framing and connection handling.
    private static readonly bool[] SkipOnResponse = UpstreamRequestWriter.BuildSkip(
        KnownHeader.Connection, KnownHeader.KeepAlive, KnownHeader.ProxyConnection, KnownHeader.TE, KnownHeader.Trailer,
        KnownHeader.TransferEncoding, KnownHeader.Upgrade, KnownHeader.ContentLength);


    private bool ClientWantsKeepAlive =>
        !_request.ConnectionClose && (_request.Version == Http1Version.Http11 || _request.ConnectionKeepAlive);

    private bool IsUpgradeRequest => _request.IsUpgrade;

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ForwardAsync(GatewayModel model, RouteModel route, RouteValues values)
    {
        var limits = model.Limits;
        if (_request.IsChunked)
        {
            var check = await PrevalidateChunkedBodyAsync(limits).ConfigureAwait(false);
            if (check != BodyCheck.Valid)
            {
                return check == BodyCheck.Closed
                    ? false
                    : await RejectAsync(check == BodyCheck.TooLarge ? GatewayProblem.BodyTooLarge : GatewayProblem.MalformedRequest).ConfigureAwait(false);
            }
        }

        // Only proxy routes come here; aggregate and batch routes have no upstream of their own.
        var upstream = _runtime.Upstreams.Get(route.Upstream!);
        EndpointState? failedEndpoint = null;
        var lastFailure = UpstreamFailure.None;
        int connectAttemptsLeft = upstream.Model.Endpoints.Count;
        int retriesLeft = route.Retries;
        bool staleRetryUsed = false;

        if (!_exchangeCancellation.TryReset())
        {
            _exchangeCancellation.Dispose();
            _exchangeCancellation = new CancellationTokenSource();
        }

        UpstreamTimedOut = false;
        Volatile.Write(ref _upstreamDeadline, Environment.TickCount64 + (long)route.Timeout.TotalMilliseconds);
        try
        {
            while (true)
            {
                var endpoint = upstream.Pick(new BalanceContext(HashKey(upstream.Model)), failedEndpoint);
                if (endpoint is null)
                {
                    var problem = lastFailure is UpstreamFailure.ConnectRefused or UpstreamFailure.ConnectTimeout
                        ? GatewayProblem.UpstreamUnreachable
                        : GatewayProblem.NoHealthyEndpoint;
                    _runtime.Metrics.OnUpstreamFailure(lastFailure == UpstreamFailure.None ? UpstreamFailure.NoHealthyEndpoint : lastFailure);
                    return await AnswerProblemAsync(problem, CanKeepAliveAfterProblem).ConfigureAwait(false);
                }

                LeaseResult lease;
                try
                {
                    lease = await endpoint.Pool.LeaseAsync(_exchangeCancellation.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    lease = new LeaseResult(null, UpstreamTimedOut ? UpstreamFailure.Timeout : UpstreamFailure.PoolExhausted);
                }

                if (lease.Connection is not { } connection)
                {
                    lastFailure = UpstreamTimedOut ? UpstreamFailure.Timeout : lease.Failure;
                    if (lastFailure is UpstreamFailure.ConnectRefused or UpstreamFailure.ConnectTimeout)
                    {
                        // A refused connection costs the client nothing yet: try another endpoint.
                        endpoint.MarkDown();
                        failedEndpoint = endpoint;
                        _runtime.Metrics.OnUpstreamFailure(lastFailure);
                        if (--connectAttemptsLeft > 0)
                        {
                            continue;
                        }

                        return await AnswerProblemAsync(GatewayProblem.UpstreamUnreachable, CanKeepAliveAfterProblem).ConfigureAwait(false);
                    }

                    _runtime.Metrics.OnUpstreamFailure(lastFailure);
                    return await AnswerProblemAsync(
                        lastFailure == UpstreamFailure.Timeout ? GatewayProblem.UpstreamTimeout : GatewayProblem.PoolExhausted,
                        CanKeepAliveAfterProblem).ConfigureAwait(false);
                }

                Volatile.Write(ref _activeUpstream, connection);
                endpoint.OnRequestStart();
                ExchangeResult result;
                try
                {
                    result = await ExchangeAsync(model, route, values, connection).ConfigureAwait(false);
                }
                finally
                {
                    endpoint.OnRequestEnd();
                    Volatile.Write(ref _activeUpstream, null);
                }

                switch (result)
                {
                    case ExchangeResult.CompletedKeepAlive:
                        return !_closeRequested;
                    case ExchangeResult.CompletedClose:
                    case ExchangeResult.Abort:
                        return false;
                    case ExchangeResult.Retry:
                        // A reused keep-alive connection may have been closed by the upstream just as we
                        // sent on it; one retry on a fresh connection is always safe for a request that
                        // had no body and is idempotent (RFC 9110 section 9.2.2).
                        if (!staleRetryUsed && connection.IsReused)
                        {
                            staleRetryUsed = true;
                            continue;
                        }

                        if (retriesLeft-- > 0)
                        {
                            failedEndpoint = endpoint;
                            continue;
                        }

                        return await AnswerProblemAsync(GatewayProblem.BadUpstreamAnswer, CanKeepAliveAfterProblem).ConfigureAwait(false);
                    default:
                        return await AnswerProblemAsync(_exchangeProblem, CanKeepAliveAfterProblem && _exchangeProblem != GatewayProblem.MalformedRequest).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _upstreamDeadline, long.MaxValue);
        }
    }

    /// <summary>The bytes the hash balancer hashes: a header's value or the client's address.</summary>
    private ReadOnlySpan<byte> HashKey(UpstreamModel upstream)
    {
        if (upstream.Balance != BalanceMode.Hash)
        {
            return default;
        }

        if (upstream.HashKey == HashKeyKind.Header && upstream.HashHeader is { } name)
        {
            for (int i = 0; i < _request.HeaderCount; i++)
            {
                if (System.Text.Ascii.EqualsIgnoreCase(_request.HeaderName(i), name))
                {
                    return _request.HeaderValue(i);
                }
            }

            return default;
        }

        return ClientAddress;
    }

    /// <summary>
    /// The client's address: the peer, or when the peer is a trusted proxy, the last address its
    /// X-Forwarded-For names (the one the trusted proxy saw).
    /// </summary>
    private ReadOnlySpan<byte> ClientAddress
    {
        get
        {
            if (_peerIsTrustedProxy && _request.ForwardedForIndex >= 0)
            {
                int last = _request.ForwardedForIndex;
                for (int i = last + 1; i < _request.HeaderCount; i++)
                {
                    if (_request.Header(i).Kind == KnownHeader.XForwardedFor)
                    {
                        last = i;
                    }
                }

                var list = _request.HeaderValue(last);
                int comma = list.LastIndexOf((byte)',');
                var lastHop = Ascii8.TrimOws(comma < 0 ? list : list[(comma + 1)..]);
                if (!lastHop.IsEmpty)
                {
                    return lastHop;
                }
            }

            return _peerBytes.AsSpan(0, _peerBytesLength);
        }
    }

    /// <summary>One attempt: request out, response back.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<ExchangeResult> ExchangeAsync(GatewayModel model, RouteModel route, RouteValues values, UpstreamConnection connection)
    {
        var pool = connection.Endpoint.Pool;
        UpstreamRequestWriter.WriteHead(connection.Output, _request, route, values, connection.Endpoint.Model, PeerText, _peerIsTrustedProxy, RequestId, _policy, ValidatedClaims);

        if (!_request.HasBody)
        {
            try
            {
                var flush = await connection.Output.FlushAsync().ConfigureAwait(false);
                if (flush.IsCanceled || flush.IsCompleted)
                {
                    pool.Discard(connection);
                    if (UpstreamTimedOut)
                    {
                        return Fail(GatewayProblem.UpstreamTimeout, UpstreamFailure.Timeout);
                    }

                    // The connection's send loop stopped: the socket failed (a stale pooled connection the
                    // upstream closed). Nothing of the answer exists yet, so an idempotent request is retried.
                    _runtime.Metrics.OnUpstreamFailure(UpstreamFailure.RequestWriteFailed);
                    return _request.IsIdempotent ? ExchangeResult.Retry : Fail(GatewayProblem.BadUpstreamAnswer, UpstreamFailure.None);
                }
            }
            catch (Exception ex) when (IsConnectionFailure(ex))
            {
                pool.Discard(connection);
                _runtime.Metrics.OnUpstreamFailure(UpstreamFailure.RequestWriteFailed);
                return _request.IsIdempotent ? ExchangeResult.Retry : Fail(GatewayProblem.BadUpstreamAnswer, UpstreamFailure.RequestWriteFailed);
            }
        }
        else
        {
            var body = await SendRequestBodyAsync(model.Limits, connection).ConfigureAwait(false);
            if (body != BodyCopy.Complete)
            {
                pool.Discard(connection);
                return body switch
                {
                    BodyCopy.Malformed => Fail(GatewayProblem.MalformedRequest, UpstreamFailure.None),
                    BodyCopy.TooLarge => Fail(GatewayProblem.BodyTooLarge, UpstreamFailure.None),
                    BodyCopy.UpstreamFailed => Fail(UpstreamTimedOut ? GatewayProblem.UpstreamTimeout : GatewayProblem.BadUpstreamAnswer, UpstreamFailure.RequestWriteFailed),
                    _ => ExchangeResult.Abort,
                };
            }
        }

        // The response head: interim 1xx answers are relayed (or dropped) until the final one.
        var head = await ReadResponseHeadAsync(connection).ConfigureAwait(false);
        if (head != ResponseHeadStatus.Final)
        {
            pool.Discard(connection);
            return head switch
            {
                ResponseHeadStatus.TimedOut => Fail(GatewayProblem.UpstreamTimeout, UpstreamFailure.Timeout),
                ResponseHeadStatus.NoResponse when !_request.HasBody && _request.IsIdempotent => RetryAfter(UpstreamFailure.ResponseHeadFailed),
                ResponseHeadStatus.ClientFailed => ExchangeResult.Abort,
                _ => Fail(GatewayProblem.BadUpstreamAnswer, head == ResponseHeadStatus.Malformed ? UpstreamFailure.MalformedResponse : UpstreamFailure.ResponseHeadFailed),
            };
        }

        // The route timeout bounds the wait for the response head; the body is bounded per read.
        Volatile.Write(ref _upstreamDeadline, long.MaxValue);

        if (_response.StatusCode == 101)
        {
            if (!IsUpgradeRequest)
            {
                pool.Discard(connection);
                return Fail(GatewayProblem.BadUpstreamAnswer, UpstreamFailure.MalformedResponse);
            }

            await TunnelAsync(connection).ConfigureAwait(false);
            return ExchangeResult.Abort;
        }

        var framing = _response.Framing(_request.IsHead);
        bool clientKeepAlive = ClientWantsKeepAlive && !_closeRequested && !_runtime.IsStopping;
        // An HTTP/1.0 client cannot receive chunked: a body of unknown length ends with the connection.
        bool chunkToClient = framing is ResponseFraming.Chunked or ResponseFraming.CloseDelimited;
        if (chunkToClient && _request.Version == Http1Version.Http10)
        {
            chunkToClient = false;
            clientKeepAlive = false;
        }

        TapResponseHead();
        WriteResponseHead(framing, chunkToClient, clientKeepAlive);
        _runtime.Metrics.OnResponse(_response.StatusCode);

        var copy = await RelayResponseBodyAsync(model.Limits, connection, framing, chunkToClient).ConfigureAwait(false);
        if (copy != BodyCopy.Complete)
        {
            pool.Discard(connection);
            if (copy == BodyCopy.UpstreamFailed)
            {
                _runtime.Metrics.OnUpstreamFailure(UpstreamFailure.ResponseBodyFailed);
            }

            // Whatever reached the client must not look complete: the connection ends without the
            // final chunk or the rest of the declared length.
            _context.Abort();
            return ExchangeResult.Abort;
        }

        CompleteCacheFill();
        if (framing != ResponseFraming.CloseDelimited && _response.AllowsReuse && !HasStrayBytes(connection))
        {
            pool.Return(connection);
        }
        else
        {
            pool.Discard(connection);
        }

        return clientKeepAlive ? ExchangeResult.CompletedKeepAlive : ExchangeResult.CompletedClose;
    }

    private ExchangeResult Fail(GatewayProblem problem, UpstreamFailure failure)
    {
        if (failure != UpstreamFailure.None)
        {
            _runtime.Metrics.OnUpstreamFailure(failure);
        }

        _exchangeProblem = problem;
        return ExchangeResult.Problem;
    }

    private ExchangeResult RetryAfter(UpstreamFailure failure)
    {
        _runtime.Metrics.OnUpstreamFailure(failure);
        _exchangeProblem = GatewayProblem.BadUpstreamAnswer;
        return ExchangeResult.Retry;
    }

    private static bool IsConnectionFailure(Exception ex) =>
        ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or InvalidOperationException or OperationCanceledException;

    /// <summary>
    /// Reuse only after a clean exchange: anything the upstream sent beyond the response (or a close)
    /// means the connection's state is unknown.
    /// </summary>
    private static bool HasStrayBytes(UpstreamConnection connection)
    {
        if (!connection.Input.TryRead(out var result))
        {
            return false;
        }

        bool stray = !result.Buffer.IsEmpty || result.IsCompleted || result.IsCanceled;
        connection.Input.AdvanceTo(result.Buffer.Start, result.Buffer.Start);
        return stray;
    }

    private void WriteResponseHead(ResponseFraming framing, bool chunkToClient, bool keepAlive)
    {
        var cursor = new BufferCursor(_output, 1024);
        WriteStatusLine(ref cursor);
        WriteResponseFields(ref cursor);

        switch (framing)
        {
            case ResponseFraming.ContentLength:
                cursor.Write("Content-Length: "u8);
                cursor.WriteDecimal(_response.ContentLength);
                cursor.Write("\r\n"u8);
                break;
            case ResponseFraming.NoBody:
                // A HEAD or 304 answer may state the length the body would have (RFC 9110 sections
                // 8.6 and 15.4.5); a 204 never does.
                if (_response.ContentLength >= 0 && _response.StatusCode != 204 && _response.StatusCode >= 200)
                {
                    cursor.Write("Content-Length: "u8);
                    cursor.WriteDecimal(_response.ContentLength);
                    cursor.Write("\r\n"u8);
                }

                break;
            default:
                if (chunkToClient)
                {
                    cursor.Write("Transfer-Encoding: chunked\r\n"u8);
                }

                break;
        }

        if (_policy?.Cache is not null)
        {
            cursor.Write("X-Cache: MISS\r\n"u8);
        }

        if (!keepAlive)
        {
            cursor.Write("Connection: close\r\n"u8);
        }
        else if (_request.Version == Http1Version.Http10)
        {
            cursor.Write("Connection: keep-alive\r\n"u8);
        }

        cursor.Write("\r\n"u8);
        cursor.Commit();
    }

    private void WriteStatusLine(ref BufferCursor cursor)
    {
        cursor.Write("HTTP/1.1 "u8);
        cursor.WriteDecimal(_response.StatusCode);
        cursor.Write((byte)' ');
        cursor.Write(_response.ReasonPhrase);
        cursor.Write("\r\n"u8);
    }

    private void WriteResponseFields(ref BufferCursor cursor)
    {
        var skip = SkipOnResponse;
        bool checkConnectionList = _response.ConnectionListsOtherNames;
        for (int i = 0; i < _response.HeaderCount; i++)
        {
            var kind = _response.Header(i).Kind;
            if (skip[(int)kind])
            {
                continue;
            }

            var name = _response.HeaderName(i);
            if (checkConnectionList && _response.IsListedInConnection(name))
            {
                continue;
            }

            cursor.WriteField(name, _response.HeaderValue(i));
        }
    }
}
