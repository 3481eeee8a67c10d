using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using FastGate.Gateway.Async;
using FastGate.Gateway.Pipeline;
using FastGate.Gateway.Routing;
using FastGate.Gateway.Transport;
using FastGate.Protocols.Http1;
using FastGate.Protocols.Http2;
using Microsoft.AspNetCore.Connections;

namespace FastGate.Gateway.Server;

/// <summary>What the connection is waiting for; names the deadline the heartbeat enforces.</summary>
internal enum WaitKind : byte
{
    None,
    /// <summary>Keep-alive: between requests (idle_timeout).</summary>
    Idle,
    /// <summary>From the first byte of a head to its end (request_head_timeout).</summary>
    Head,
    /// <summary>Reading a request body or writing a response to a slow client (idle_timeout per step).</summary>
    Client,
}

/// <summary>
/// The server side of one HTTP/1.1 client connection (RFC 9112): reads heads with the strict parser,
/// routes them, and forwards each request upstream, one at a time and in order, so pipelined requests
/// are answered in order. Allocated once per connection; nothing is allocated per request in the
/// steady state.
/// </summary>
internal sealed partial class Http1Connection : IHeartbeatClient, IUpstreamExchange, IDisposable
{
    private readonly GatewayRuntime _runtime;
    private readonly ConnectionContext _context;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly ClientPeer _peer;

    // The request's objects, rented from Http1RequestState's pool for one request and returned after
    // it: null while the connection waits for its next head. Published with Volatile.Write for the heartbeat
    // thread's Volatile.Read; the connection's own reads (many per request) stay plain loads.
    private Http1RequestState? _state;
    private int _requestIdLength;

    // Deadlines, in Environment.TickCount64 milliseconds; written by the connection, read by the heartbeat.
    private long _clientDeadline = long.MaxValue;
    private volatile WaitKind _waitKind;
    private bool _clientTimedOut;

    private bool _closeRequested;
    private RoutePolicy? _policy;
    private bool _firstRequest = true;
    // Until the first bytes decided the protocol (see the constructor's sniffsHttp2Preface).
    private bool _sniffing;

    /// <param name="sniffsHttp2Preface">
    /// for a cleartext connection straight from a listener: its first bytes decide between HTTP/1.1 and
    /// HTTP/2 with prior knowledge (RFC 9113 section 3.3), and a connection that opens with the HTTP/2
    /// preface is handed to <see cref="Http2Connection"/>. Sniffing here, in the wait for the first head,
    /// keeps an idle connection at one state machine and one heartbeat entry.
    /// </param>
    public Http1Connection(GatewayRuntime runtime, ConnectionContext context, bool sniffsHttp2Preface = false)
    {
        _sniffing = sniffsHttp2Preface;
        _runtime = runtime;
        _context = context;
        _input = context.Transport.Input;
        _output = context.Transport.Output;
        _peer = new ClientPeer(runtime, context);
    }

    private Http1RequestState State => _state!;

    private RequestHead Request => State.Request;

    private Upstream.ResponseHead Response => State.Response;

    private ReadOnlySpan<byte> RequestId => State.RequestId.AsSpan(0, _requestIdLength);

    public async Task RunAsync()
    {
        // Kestrel starts this on a thread-pool thread. On the epoll transport the connection moves to its
        // loop first: a first request whose bytes have already arrived would otherwise run here, and open
        // its upstream connection on another loop than the one serving its client.
        var loop = _context.Features.Get<IEpollLoopFeature>()?.Loop;
        if (loop is not null)
        {
            await loop.SwitchTo();
        }

        _runtime.Metrics.OnConnectionOpened();
        _runtime.Heartbeat.Add(this);
        bool http2 = false;
        try
        {
            while (true)
            {
                // Keep-alive: the wait for the next head's first byte is the connection's longest, so it
                // is awaited here, in the connection's own state machine; the request's objects go back to
                // their pool in between (Http1RequestState), and an idle connection holds none of them.
                BeginIdleWait();
                IdleRead next;
                do
                {
                    next = _closeRequested ? IdleRead.Close : OnIdleRead(await _input.ReadAsync().ConfigureAwait(false));
                }
                while (next == IdleRead.Wait);

                if (next == IdleRead.Http2)
                {
                    http2 = true;
                    break;
                }

                if (next == IdleRead.Close)
                {
                    break;
                }

                bool goOn;
                if (await ProcessRequestAsync().ConfigureAwait(false) is { } answered)
                {
                    goOn = answered;
                }
                else
                {
                    // A request to proxy is forwarded here rather than in ProcessRequestAsync: this
                    // method's box is the connection's own, made once, so the wait for the upstream's
                    // answer suspends one pooled method less per request.
                    try
                    {
                        var result = await State.Forwarder.ForwardAsync(State.ProxyModel!, State.ProxyRoute!, State.ProxyValues, this).ConfigureAwait(false);
                        goOn = result switch
                        {
                            ExchangeResult.CompletedKeepAlive => !_closeRequested,
                            ExchangeResult.CompletedClose or ExchangeResult.Abort => false,
                            _ => await AnswerProblemAsync(State.Forwarder.Problem, CanKeepAliveAfterProblem && State.Forwarder.Problem != GatewayProblem.MalformedRequest).ConfigureAwait(false),
                        };
                    }
                    finally
                    {
                        EndRequest();
                    }
                }

                if (!goOn)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ConnectionResetException or ConnectionAbortedException or OperationCanceledException or InvalidOperationException)
        {
            // The client went away or a write failed: nothing left to answer on this connection.
        }
        finally
        {
            _runtime.Heartbeat.Remove(this);
            Dispose();
            if (!http2)
            {
                _runtime.Metrics.OnConnectionClosed();
                await _output.CompleteAsync().ConfigureAwait(false);
                await _input.CompleteAsync().ConfigureAwait(false);
            }
        }

        if (http2)
        {
            await new Http2Connection(_runtime, _context, loop, countedByHttp1: true).RunAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Gives the request's objects back (the connection closed in the middle of a request).</summary>
    public void Dispose() => ReturnState();

    private void BeginIdleWait()
    {
        var limits = _runtime.Model.Limits;
        // The first request of a connection gets the head timeout from accept; later ones wait idle.
        SetClientDeadline(WaitKind.Idle, _firstRequest ? limits.RequestHeadTimeout : limits.IdleTimeout);
        _firstRequest = false;
    }

    private enum IdleRead : byte
    {
        /// <summary>Nothing decided yet: read again.</summary>
        Wait,
        /// <summary>A head has begun; nothing is consumed or examined, so the head reader gets its bytes at once.</summary>
        Head,
        /// <summary>EOF, the idle timeout or a drain: the connection closes without an answer.</summary>
        Close,
        /// <summary>The connection opened with the HTTP/2 client preface.</summary>
        Http2,
    }

    /// <summary>One read of the keep-alive wait (or, for a sniffing connection, of the wait for its first bytes).</summary>
    private IdleRead OnIdleRead(in ReadResult result)
    {
        var buffer = result.Buffer;
        if (result.IsCanceled)
        {
            _input.AdvanceTo(buffer.Start, buffer.End);
            if (_clientTimedOut)
            {
                ClearClientDeadline();
                return IdleRead.Close;
            }

            return IdleRead.Wait;
        }

        if (!buffer.IsEmpty)
        {
            if (_sniffing)
            {
                // A proper prefix of the preface waits for more bytes; a prefix then a close goes to HTTP/1.1,
                // which answers it as the malformed request it is.
                bool? preface = Http2Protocol.MatchClientPreface(buffer);
                if (preface is null && !result.IsCompleted)
                {
                    _input.AdvanceTo(buffer.Start, buffer.End);
                    return IdleRead.Wait;
                }

                _sniffing = false;
                if (preface == true)
                {
                    _input.AdvanceTo(buffer.Start);
                    ClearClientDeadline();
                    return IdleRead.Http2;
                }
            }

            _input.AdvanceTo(buffer.Start);
            return IdleRead.Head;
        }

        _input.AdvanceTo(buffer.End);
        if (result.IsCompleted)
        {
            ClearClientDeadline();
            return IdleRead.Close;
        }

        return IdleRead.Wait;
    }

    /// <summary>Graceful shutdown (SIGTERM): an idle connection closes now; a busy one after its response.</summary>
    public void OnStopping()
    {
        _closeRequested = true;
        if (_waitKind == WaitKind.Idle)
        {
            _input.CancelPendingRead();
        }
    }

    public void OnHeartbeat(long now)
    {
        if (now > Volatile.Read(ref _clientDeadline))
        {
            _clientTimedOut = true;
            Volatile.Write(ref _clientDeadline, long.MaxValue);
            _input.CancelPendingRead();
            _output.CancelPendingFlush();
        }

        // The state may already serve another connection's request: its forwarder's deadline is then that
        // request's own, so checking it here is still right.
        Volatile.Read(ref _state)?.Forwarder.OnHeartbeat(now);
    }

    private void SetClientDeadline(WaitKind kind, TimeSpan timeout)
    {
        _clientTimedOut = false;
        _waitKind = kind;
        Volatile.Write(ref _clientDeadline, Environment.TickCount64 + (long)timeout.TotalMilliseconds);
    }

    private void ClearClientDeadline()
    {
        Volatile.Write(ref _clientDeadline, long.MaxValue);
        _waitKind = WaitKind.None;
    }

    private void RentState()
    {
        var state = Http1RequestState.Rent(_runtime);
        state.Request.IsHttps = _peer.IsHttps;
        Volatile.Write(ref _state, state);
    }

    /// <summary>Releases the request's buffers and gives its objects back to the pool.</summary>
    private void ReturnState()
    {
        if (_state is not { } state)
        {
            return;
        }

        Volatile.Write(ref _state, null);
        Http1RequestState.Return(state);
    }

    /// <summary>
    /// One request: reads its head and answers it, or returns null for a request to proxy, whose model,
    /// route and captured values are then in the request's state (<see cref="Http1RequestState.ProxyRoute"/>),
    /// still rented: <see cref="RunAsync"/> forwards it. False when the connection must close.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool?> ProcessRequestAsync()
    {
        var active = _runtime.Active;
        var model = active.Model;
        var limits = model.Limits;
        _requestIdLength = 0;
        _policy = null;
        RentState();
        State.Phases.Reset();
        var status = await ReadHeadAsync(limits).ConfigureAwait(false);
        bool proxy = false;
        try
        {
            switch (status)
            {
                case HeadStatus.Closed:
                    return false;
                case HeadStatus.TimedOut:
                    return await RejectAsync(GatewayProblem.RequestTimeout).ConfigureAwait(false);
                case HeadStatus.TargetTooLong:
                    return await RejectAsync(GatewayProblem.TargetTooLong).ConfigureAwait(false);
                case HeadStatus.HeadTooLarge:
                    return await RejectAsync(GatewayProblem.HeadTooLarge).ConfigureAwait(false);
                case HeadStatus.Malformed:
                    return await RejectAsync(GatewayProblem.MalformedRequest).ConfigureAwait(false);
            }

            _runtime.Metrics.OnRequest();
            Request.Complete();
            SetRequestId();

            var values = default(RouteValues);
            switch (RequestAdmission.Resolve(Request, model, ref values, out var route, out var refusal))
            {
                case Admission.Refused:
                    return await RejectAsync(refusal).ConfigureAwait(false);
                case Admission.MethodNotAllowed:
                    return await AnswerMethodNotAllowedAsync(model.Table).ConfigureAwait(false);
                case Admission.NoRoute:
                    return await AnswerProblemAsync(GatewayProblem.NoRoute, CanKeepAliveAfterProblem).ConfigureAwait(false);
            }

            var policy = active.Policies.For(route!);
            _policy = policy;
            if (policy is not null)
            {
                var outcome = await State.Phases.RunAsync(policy, Request, _peer).ConfigureAwait(false);
                if (!outcome.Proceed)
                {
                    return await AnswerProblemAsync(outcome.Problem, CanKeepAliveAfterProblem, State.Phases.Fields).ConfigureAwait(false);
                }
            }

            if (route!.Action != Model.RouteAction.Proxy)
            {
                return await ComposeAsync(model, route, values).ConfigureAwait(false);
            }

            if (policy?.Cache is not null)
            {
                var cached = await TryAnswerFromCacheAsync(policy).ConfigureAwait(false);
                if (cached != CacheOutcome.Miss)
                {
                    return cached == CacheOutcome.AnsweredKeepAlive;
                }
            }

            if (Request.IsChunked && await RefuseBadChunkedBodyAsync(limits).ConfigureAwait(false) is { } goOn)
            {
                return goOn;
            }

            State.ProxyModel = model;
            State.ProxyRoute = route;
            State.ProxyValues = values;
            proxy = true;
            return null;
        }
        finally
        {
            if (!proxy)
            {
                EndRequest();
            }
        }
    }

    /// <summary>The request's end, whatever it was: its buffers and objects go back to their pools.</summary>
    private void EndRequest()
    {
        // A fill the exchange did not complete (an error, a retry, a refusal) releases its waiters.
        AbandonCacheFill();
        ReturnState();
    }

    private enum HeadStatus : byte
    {
        Complete,
        Closed,
        TimedOut,
        Malformed,
        TargetTooLong,
        HeadTooLarge,
    }

    /// <summary>
    /// Reads one head under the head-size budget: the input is sliced to what is left of the budget
    /// before parsing, so the parser never checks sizes (the limit is enforced before memory is used).
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<HeadStatus> ReadHeadAsync(Model.LimitsModel limits)
    {
        // WaitForRequestAsync saw the first byte: the head timeout runs from here.
        Request.Begin(limits.MaxRequestHead + limits.MaxRequestTarget + 16);
        SetClientDeadline(WaitKind.Head, limits.RequestHeadTimeout);

        bool requestLineDone = false;
        long headBytes = 0;
        int budget = limits.MaxRequestHead;

        while (true)
        {
            var result = await _input.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            if (result.IsCanceled)
            {
                _input.AdvanceTo(buffer.Start, buffer.End);
                if (_clientTimedOut)
                {
                    ClearClientDeadline();
                    return HeadStatus.TimedOut;
                }

                continue;
            }

            long left = budget - headBytes;
            bool trimmed = buffer.Length > left;
            var reader = new SequenceReader<byte>(trimmed ? buffer.Slice(0, left) : buffer);
            var handler = new RequestHeadHandler(Request);
            bool done;
            try
            {
                if (!requestLineDone)
                {
                    requestLineDone = Http1RequestParser.TryParseRequestLine(ref handler, ref reader);
                }

                done = requestLineDone && Http1RequestParser.TryParseHeaders(ref handler, ref reader);
            }
            catch (Http1ParseException)
            {
                _input.AdvanceTo(buffer.Start, buffer.End);
                ClearClientDeadline();
                _runtime.Metrics.OnBadRequest();
                return HeadStatus.Malformed;
            }

            headBytes += reader.Consumed;
            if (done)
            {
                _input.AdvanceTo(reader.Position);
                ClearClientDeadline();
                return HeadStatus.Complete;
            }

            _input.AdvanceTo(reader.Position, buffer.End);
            if (!requestLineDone && reader.Remaining > limits.MaxRequestTarget + 32)
            {
                // The request line alone is already past the target limit plus method and version.
                ClearClientDeadline();
                return HeadStatus.TargetTooLong;
            }

            if (trimmed)
            {
                ClearClientDeadline();
                return requestLineDone ? HeadStatus.HeadTooLarge : HeadStatus.TargetTooLong;
            }

            if (result.IsCompleted)
            {
                // The client closed in the middle of a head: there is no one left to answer.
                return HeadStatus.Closed;
            }
        }
    }

    private void SetRequestId() => _requestIdLength = Request.WriteRequestId(State.RequestId);

    /// <summary>
    /// Answers with a problem and closes: after a refused head the framing cannot be trusted, and a
    /// body the client may still send would be read as the next request.
    /// </summary>
    private ValueTask<bool> RejectAsync(GatewayProblem problem) => AnswerProblemAsync(problem, keepAlive: false);

    /// <summary>
    /// Answers with a problem after a sound head. The connection stays open only when the request
    /// had no body (nothing unread is left on it) and both sides want keep-alive.
    /// </summary>
    /// <param name="extraFields">field lines a refusing phase asked for (WWW-Authenticate, Retry-After …)</param>
    private ValueTask<bool> AnswerProblemAsync(GatewayProblem problem, bool keepAlive, ReadOnlySpan<byte> extraFields = default)
    {
        if (_requestIdLength == 0)
        {
            // The head was refused before its id was read.
            _requestIdLength = Observability.RequestIds.Write(State.RequestId);
        }

        ProblemResponse.Write(_output, problem, RequestId, close: !keepAlive, extraFields: extraFields);
        _runtime.Metrics.OnResponse(ProblemResponse.StatusOf(problem));
        return FlushAndContinueAsync(keepAlive);
    }

    /// <summary>405 with the Allow field (RFC 9110 section 15.5.6) listing what the matching routes accept.</summary>
    private ValueTask<bool> AnswerMethodNotAllowedAsync(RouteTable table)
    {
        Span<byte> allow = stackalloc byte[256];
        int written = table.WriteAllowedMethods(Request.Authority, Request.Path, allow);
        bool keepAlive = CanKeepAliveAfterProblem;
        ProblemResponse.Write(_output, GatewayProblem.MethodNotAllowed, RequestId, close: !keepAlive, written > 0 ? allow[..written] : default);
        _runtime.Metrics.OnResponse(405);
        return FlushAndContinueAsync(keepAlive);
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> FlushAndContinueAsync(bool keepAlive)
    {
        var flush = await _output.FlushAsync().ConfigureAwait(false);
        return keepAlive && !flush.IsCompleted && !flush.IsCanceled;
    }

    /// <summary>Can this request's connection stay open after a gateway-made answer?</summary>
    private bool CanKeepAliveAfterProblem =>
        !Request.HasBody && !_closeRequested && !Request.ConnectionClose
        && (Request.Version == Http1Version.Http11 || Request.ConnectionKeepAlive);
}
