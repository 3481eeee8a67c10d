using System.Buffers;
using System.Runtime.CompilerServices;
using FastGate.Gateway.Async;
using FastGate.Gateway.Model;
using FastGate.Gateway.Pipeline;
using FastGate.Gateway.Upstream;
using FastGate.Protocols.Http1;

namespace FastGate.Gateway.Server;

/// <summary>How one attempt at an upstream exchange ended.</summary>
internal enum ExchangeResult : byte
{
    /// <summary>The response went to the client in full; the client connection may continue.</summary>
    CompletedKeepAlive,
    /// <summary>The response went to the client in full; the client connection must close.</summary>
    CompletedClose,
    /// <summary>Nothing reached the client and the request may be sent again.</summary>
    Retry,
    /// <summary>Nothing reached the client; answer <see cref="UpstreamForwarder.Problem"/>.</summary>
    Problem,
    /// <summary>The client's response was started or the client failed: the exchange ends here.</summary>
    Abort,
}

/// <summary>How copying a body from one side to the other ended.</summary>
internal enum BodyCopy : byte
{
    Complete,
    /// <summary>The client's chunked body is malformed (400).</summary>
    Malformed,
    /// <summary>The client's body passed max_request_body (413).</summary>
    TooLarge,
    /// <summary>The client closed, reset, stalled or failed to take the response.</summary>
    ClientFailed,
    /// <summary>The upstream failed: closed, reset or stalled.</summary>
    UpstreamFailed,
}

/// <summary>How an upstream response head read ended.</summary>
internal enum ResponseHeadStatus : byte
{
    Final,
    /// <summary>A 1xx other than 101 (RFC 9110 section 15.2): the final answer follows.</summary>
    Interim,
    /// <summary>The upstream closed before sending a byte (a stale keep-alive connection).</summary>
    NoResponse,
    /// <summary>Closed or reset in the middle of a head.</summary>
    Truncated,
    Malformed,
    TimedOut,
    /// <summary>The client failed while an interim answer was relayed to it.</summary>
    ClientFailed,
}

/// <summary>The protocol-specific half of forwarding: one request's attempt on a leased connection.</summary>
internal interface IUpstreamExchange
{
    /// <summary>The bytes the hash balancer hashes for this request.</summary>
    ReadOnlySpan<byte> HashKey(UpstreamModel upstream);

    /// <summary>Writes the request, relays the answer; returns how it ended.</summary>
    ValueTask<ExchangeResult> ExchangeAsync(UpstreamConnection connection);

    /// <summary>Streams the client's request body upstream after the head, re-framed as the head says.</summary>
    ValueTask<BodyCopy> SendBodyAsync(UpstreamConnection connection);
}

/// <summary>
/// The protocol-neutral half of forwarding, shared by HTTP/1.1 connections and HTTP/2 streams: picks
/// endpoints, leases pooled connections, applies the retry rules, and owns the route timeout that the
/// heartbeat enforces. One instance per HTTP/1.1 connection or HTTP/2 stream; nothing per request.
/// </summary>
internal sealed class UpstreamForwarder(GatewayRuntime runtime) : IDisposable
{
    /// <summary>Bound of an upstream's response head, for the callers that begin one.</summary>
    public const int MaxResponseHead = ResponseHeadReading.MaxHead;

    private long _deadline = long.MaxValue;
    private UpstreamConnection? _active;
    // Made by the first forwarded request (an idle or composing connection needs none), then reset and reused.
    private CancellationTokenSource? _cancellation;
    // The response head being read (BeginResponseHead, ReadResponseHeadPart).
    private ResponseHeadReading _headReading;

    /// <summary>Set by the heartbeat when the armed deadline passed.</summary>
    public bool TimedOut { get; private set; }

    /// <summary>The request being forwarded: the model it started with, its route and captured values.</summary>
    public Model.GatewayModel? Model { get; private set; }

    public RouteModel? Route { get; private set; }

    public Routing.RouteValues Values;

    /// <summary>Writes the upstream request head of the request being forwarded onto <paramref name="connection"/>.</summary>
    public void WriteRequestHead(UpstreamConnection connection, RequestHead request, ClientPeer peer, ReadOnlySpan<byte> requestId, RoutePolicy? policy, Security.JwtValidationContext? claims) =>
        UpstreamRequestWriter.WriteHead(connection.Output, request, Route!, Values, connection.Endpoint.Model, peer.Text, peer.IsTrustedProxy, requestId, policy, claims);

    /// <summary>What an exchange that ended with <see cref="ExchangeResult.Problem"/> asks to answer.</summary>
    public GatewayProblem Problem { get; private set; }

    public void Dispose() => _cancellation?.Dispose();

    /// <summary>Bounds the next upstream step by <paramref name="timeout"/>.</summary>
    public void Arm(TimeSpan timeout) =>
        Volatile.Write(ref _deadline, Environment.TickCount64 + (long)timeout.TotalMilliseconds);

    public void Disarm() => Volatile.Write(ref _deadline, long.MaxValue);

    public void OnHeartbeat(long now)
    {
        if (now <= Volatile.Read(ref _deadline))
        {
            return;
        }

        Volatile.Write(ref _deadline, long.MaxValue);
        TimedOut = true;
        // Race window: the request may have just returned this upstream connection to its pool; a
        // cancelled read is then seen by its next user, which re-checks its own deadline and simply
        // reads again.
        var upstream = Volatile.Read(ref _active);
        upstream?.Input.CancelPendingRead();
        upstream?.Output.CancelPendingFlush();
        try
        {
            Volatile.Read(ref _cancellation)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Ends an attempt with a problem to answer.</summary>
    public ExchangeResult Fail(GatewayProblem problem, UpstreamFailure failure)
    {
        if (failure != UpstreamFailure.None)
        {
            runtime.Metrics.OnUpstreamFailure(failure);
        }

        Problem = problem;
        return ExchangeResult.Problem;
    }

    /// <summary>Ends an attempt that may be tried again.</summary>
    public ExchangeResult RetryAfter(UpstreamFailure failure)
    {
        runtime.Metrics.OnUpstreamFailure(failure);
        Problem = GatewayProblem.BadUpstreamAnswer;
        return ExchangeResult.Retry;
    }

    /// <summary>
    /// Forwards one request: endpoint by endpoint, connection by connection, until an attempt completes,
    /// fails for good or the retries are spent. A result of <see cref="ExchangeResult.Problem"/> leaves
    /// the problem to answer in <see cref="Problem"/>; nothing has reached the client then.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    public async ValueTask<ExchangeResult> ForwardAsync<TExchange>(Model.GatewayModel model, RouteModel route, Routing.RouteValues values, TExchange exchange)
        where TExchange : class, IUpstreamExchange
    {
        Model = model;
        Route = route;
        Values = values;
        // Only proxy routes come here; aggregate and batch routes have no upstream of their own.
        var upstream = runtime.Upstreams.Get(route.Upstream!);
        EndpointState? failedEndpoint = null;
        var lastFailure = UpstreamFailure.None;
        int connectAttemptsLeft = upstream.Model.Endpoints.Count;
        int retriesLeft = route.Retries;
        bool staleRetryUsed = false;

        // The token's users (a lease wait, a connect) remove their registrations when they end, so a
        // source that was not cancelled is reused as it is (TryReset walks the registrations each time).
        if (_cancellation is null || _cancellation.IsCancellationRequested)
        {
            _cancellation?.Dispose();
            Volatile.Write(ref _cancellation, new CancellationTokenSource());
        }

        TimedOut = false;
        Arm(route.Timeout);
        try
        {
            while (true)
            {
                var endpoint = upstream.Pick(new BalanceContext(exchange.HashKey(upstream.Model)), failedEndpoint);
                if (endpoint is null)
                {
                    runtime.Metrics.OnUpstreamFailure(lastFailure == UpstreamFailure.None ? UpstreamFailure.NoHealthyEndpoint : lastFailure);
                    Problem = lastFailure is UpstreamFailure.ConnectRefused or UpstreamFailure.ConnectTimeout
                        ? GatewayProblem.UpstreamUnreachable
                        : GatewayProblem.NoHealthyEndpoint;
                    return ExchangeResult.Problem;
                }

                LeaseResult lease;
                try
                {
                    lease = await endpoint.Pool.LeaseAsync(_cancellation.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    lease = new LeaseResult(null, TimedOut ? UpstreamFailure.Timeout : UpstreamFailure.PoolExhausted);
                }

                if (lease.Connection is not { } connection)
                {
                    lastFailure = TimedOut ? UpstreamFailure.Timeout : lease.Failure;
                    runtime.Metrics.OnUpstreamFailure(lastFailure);
                    if (lastFailure is UpstreamFailure.ConnectRefused or UpstreamFailure.ConnectTimeout)
                    {
                        // A refused connection costs the client nothing yet: try another endpoint.
                        endpoint.MarkDown();
                        failedEndpoint = endpoint;
                        if (--connectAttemptsLeft > 0)
                        {
                            continue;
                        }

                        Problem = GatewayProblem.UpstreamUnreachable;
                        return ExchangeResult.Problem;
                    }

                    Problem = lastFailure == UpstreamFailure.Timeout ? GatewayProblem.UpstreamTimeout : GatewayProblem.PoolExhausted;
                    return ExchangeResult.Problem;
                }

                Volatile.Write(ref _active, connection);
                endpoint.OnRequestStart();
                ExchangeResult result;
                try
                {
                    result = await exchange.ExchangeAsync(connection).ConfigureAwait(false);
                }
                finally
                {
                    endpoint.OnRequestEnd();
                    Volatile.Write(ref _active, null);
                }

                if (result != ExchangeResult.Retry)
                {
                    return result;
                }

                // A reused keep-alive connection may have been closed by the upstream just as we sent on
                // it; one retry on a fresh connection is always safe for a request that had no body and
                // is idempotent (RFC 9110 section 9.2.2).
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

                Problem = GatewayProblem.BadUpstreamAnswer;
                return ExchangeResult.Problem;
            }
        }
        finally
        {
            Disarm();
            Model = null;
            Route = null;
        }
    }

    /// <summary>
    /// Begins reading one response head into <paramref name="response"/> (begun or reset by the caller),
    /// under <see cref="MaxResponseHead"/>, strictly. The caller then awaits <see cref="ReadResponseHeadPart"/>
    /// until it gives a status: the reads are awaited in the caller's own method, so the wait for the
    /// upstream's answer suspends no method of this class (one pooled box and resumption less per request).
    /// </summary>
    /// <param name="afterInterim">an interim head came first, so a close now is a truncated answer</param>
    public void BeginResponseHead(ResponseHead response, bool afterInterim) =>
        _headReading = new ResponseHeadReading(response, afterInterim);

    /// <summary>
    /// One read of the head begun by <see cref="BeginResponseHead"/>: its status once the head is complete
    /// (an interim 1xx is returned as such; the caller relays or drops it, resets the head and begins
    /// again) or has failed, null when more bytes are needed.
    /// </summary>
    public HeadPartRead ReadResponseHeadPart(System.IO.Pipelines.PipeReader input)
    {
        try
        {
            return new HeadPartRead(this, input, input.ReadAsync(), failed: false);
        }
        catch (Exception ex) when (IsConnectionFailure(ex))
        {
            return new HeadPartRead(this, input, default, failed: true);
        }
    }

    private ResponseHeadStatus? TakeHeadPart(System.IO.Pipelines.PipeReader input, in System.IO.Pipelines.ReadResult result)
    {
        if (result.IsCanceled)
        {
            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            return TimedOut ? ResponseHeadStatus.TimedOut : null;
        }

        switch (_headReading.Read(input, result))
        {
            case ResponseHeadStep.NeedMore:
                return null;
            case ResponseHeadStep.Malformed:
                return ResponseHeadStatus.Malformed;
            case ResponseHeadStep.Truncated:
                return ResponseHeadStatus.Truncated;
            case ResponseHeadStep.NoResponse:
                return ResponseHeadStatus.NoResponse;
        }

        int status = _headReading.Head.StatusCode;
        return status >= 200 || status == 101 ? ResponseHeadStatus.Final : ResponseHeadStatus.Interim;
    }

    private ResponseHeadStatus ClosedHeadStatus =>
        _headReading.Closed == ResponseHeadStep.Truncated ? ResponseHeadStatus.Truncated : ResponseHeadStatus.NoResponse;

    /// <summary>
    /// The awaitable of <see cref="ReadResponseHeadPart"/>: the pipe's read, then the parse step, with a
    /// connection failure (thrown by the read) read as the head's end at this point.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1815", Justification = "An awaitable, awaited once and never compared.")]
    public readonly struct HeadPartRead : ICriticalNotifyCompletion
    {
        private readonly UpstreamForwarder _forwarder;
        private readonly System.IO.Pipelines.PipeReader _input;
        private readonly ValueTask<System.IO.Pipelines.ReadResult> _read;
        private readonly bool _failed;

        internal HeadPartRead(UpstreamForwarder forwarder, System.IO.Pipelines.PipeReader input, ValueTask<System.IO.Pipelines.ReadResult> read, bool failed)
        {
            _forwarder = forwarder;
            _input = input;
            _read = read;
            _failed = failed;
        }

        public bool IsCompleted => _failed || _read.IsCompleted;

        public HeadPartRead GetAwaiter() => this;

        public ResponseHeadStatus? GetResult()
        {
            if (_failed)
            {
                return _forwarder.ClosedHeadStatus;
            }

            try
            {
                var result = _read.GetAwaiter().GetResult();
                return _forwarder.TakeHeadPart(_input, result);
            }
            catch (Exception ex) when (IsConnectionFailure(ex))
            {
                return _forwarder.ClosedHeadStatus;
            }
        }

        public void OnCompleted(Action continuation) => _read.ConfigureAwait(false).GetAwaiter().OnCompleted(continuation);

        public void UnsafeOnCompleted(Action continuation) => _read.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(continuation);
    }

    /// <summary>
    /// Sends the request whose head is written on <paramref name="connection"/>: the head alone, or with
    /// the body the exchange streams. Null when it went out; otherwise how the attempt ends (the
    /// connection was discarded).
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    public async ValueTask<ExchangeResult?> SendRequestAsync<TExchange>(UpstreamConnection connection, RequestHead request, TExchange exchange)
        where TExchange : class, IUpstreamExchange
    {
        if (!request.HasBody)
        {
            return await SendHeadAsync(connection, request.IsIdempotent).ConfigureAwait(false);
        }

        var body = await exchange.SendBodyAsync(connection).ConfigureAwait(false);
        if (body == BodyCopy.Complete)
        {
            return null;
        }

        connection.Endpoint.Pool.Discard(connection);
        return OnBodyFailure(body);
    }

    /// <summary>
    /// Sends a request head that has no body. Null when it went out; otherwise the connection was
    /// discarded and the result says how the attempt ends.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<ExchangeResult?> SendHeadAsync(UpstreamConnection connection, bool idempotent)
    {
        try
        {
            var flush = await connection.Output.FlushAsync().ConfigureAwait(false);
            if (!flush.IsCanceled && !flush.IsCompleted)
            {
                return null;
            }

            connection.Endpoint.Pool.Discard(connection);
            if (TimedOut)
            {
                return Fail(GatewayProblem.UpstreamTimeout, UpstreamFailure.Timeout);
            }

            // The connection's output ended: the socket failed (a stale pooled connection the
            // upstream closed). Nothing of the answer exists yet, so an idempotent request is retried.
            runtime.Metrics.OnUpstreamFailure(UpstreamFailure.RequestWriteFailed);
            return idempotent ? ExchangeResult.Retry : Fail(GatewayProblem.BadUpstreamAnswer, UpstreamFailure.None);
        }
        catch (Exception ex) when (IsConnectionFailure(ex))
        {
            connection.Endpoint.Pool.Discard(connection);
            runtime.Metrics.OnUpstreamFailure(UpstreamFailure.RequestWriteFailed);
            return idempotent ? ExchangeResult.Retry : Fail(GatewayProblem.BadUpstreamAnswer, UpstreamFailure.RequestWriteFailed);
        }
    }

    /// <summary>Maps a request body copy that did not complete to the attempt's end.</summary>
    public ExchangeResult OnBodyFailure(BodyCopy body) => body switch
    {
        BodyCopy.Malformed => Fail(GatewayProblem.MalformedRequest, UpstreamFailure.None),
        BodyCopy.TooLarge => Fail(GatewayProblem.BodyTooLarge, UpstreamFailure.None),
        BodyCopy.UpstreamFailed => Fail(TimedOut ? GatewayProblem.UpstreamTimeout : GatewayProblem.BadUpstreamAnswer, UpstreamFailure.RequestWriteFailed),
        _ => ExchangeResult.Abort,
    };

    /// <summary>Ends the current upstream step now, as a passed deadline would: the client is gone.</summary>
    public void Cancel()
    {
        Volatile.Write(ref _deadline, long.MinValue);
        OnHeartbeat(long.MinValue + 1);
    }

    /// <summary>
    /// Reads the next piece of a response body, each read bounded by <paramref name="idleTimeout"/>. A
    /// cancelled read that is not this request's deadline (left by the connection's previous user) is
    /// read past. Null when the deadline passed (or <see cref="Cancel"/> was called).
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    public async ValueTask<System.IO.Pipelines.ReadResult?> ReadBodyAsync(System.IO.Pipelines.PipeReader input, TimeSpan idleTimeout)
    {
        while (true)
        {
            Arm(idleTimeout);
            var result = await input.ReadAsync().ConfigureAwait(false);
            Disarm();
            if (!result.IsCanceled)
            {
                return result;
            }

            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            if (TimedOut)
            {
                return null;
            }
        }
    }

    /// <summary>Maps a failed response head read to the attempt's end.</summary>
    public ExchangeResult OnHeadFailure(ResponseHeadStatus head, bool mayRetry) => head switch
    {
        ResponseHeadStatus.TimedOut => Fail(GatewayProblem.UpstreamTimeout, UpstreamFailure.Timeout),
        ResponseHeadStatus.NoResponse when mayRetry => RetryAfter(UpstreamFailure.ResponseHeadFailed),
        ResponseHeadStatus.ClientFailed => ExchangeResult.Abort,
        _ => Fail(GatewayProblem.BadUpstreamAnswer, head == ResponseHeadStatus.Malformed ? UpstreamFailure.MalformedResponse : UpstreamFailure.ResponseHeadFailed),
    };

    public static bool IsConnectionFailure(Exception ex) =>
        ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or InvalidOperationException or OperationCanceledException;
}
