using System.Buffers;
using System.IO.Pipelines;
using FastGate.Gateway.Async;
using FastGate.Gateway.Pipeline;
using FastGate.Protocols.Http2;

namespace FastGate.Gateway.Server;

/// <summary>
/// One stream of an HTTP/2 connection (RFC 9113 section 5): the request its header block describes,
/// its body as DATA arrives, its flow-control windows, and the worker that answers it through the
/// same phases, pools and retries as HTTP/1.1. Objects are pooled per connection: a stream object
/// (with its buffers, pipe and worker loop) serves request after request, so a warm connection
/// allocates nothing per stream.
/// </summary>
/// <remarks>
/// Ownership: fields marked "connection lock" change only under the connection's lock (the frame loop
/// and the worker both touch them); the header block fields belong to the frame loop until the worker
/// starts; the request, phases and forwarder belong to the worker from then on.
/// </remarks>
internal sealed partial class Http2Stream : IUpstreamExchange, IDisposable
{
    private readonly Http2Connection _connection;
    private readonly GatewayRuntime _runtime;
    private readonly RequestHead _request = new();
    private readonly Upstream.ResponseHead _response = new();
    private readonly RequestPhases _phases;
    private readonly UpstreamForwarder _forwarder;
    private readonly AsyncSignal _start;
    private readonly Pipe _body;
    private readonly byte[] _requestId = new byte[128];
    private int _requestIdLength;
    private Task? _worker;
    private bool _used;

    // Deadline of the client side of the worker (reading the body, waiting for window), in
    // Environment.TickCount64 milliseconds; checked by the connection's heartbeat.
    private long _clientDeadline = long.MaxValue;
    private volatile bool _clientTimedOut;

    public Http2Stream(Http2Connection connection, GatewayRuntime runtime, ClientPeer peer)
    {
        _connection = connection;
        _runtime = runtime;
        _start = new AsyncSignal(connection.Scheduler);
        _body = new Pipe(connection.BodyPipeOptions);
        WindowSignal = new AsyncSignal(connection.Scheduler);
        _phases = new RequestPhases(runtime);
        _forwarder = new UpstreamForwarder(runtime);
        _request.IsHttps = peer.IsHttps;
    }

    public int Id { get; private set; }

    /// <summary>Connection lock.</summary>
    public Http2StreamState State { get; set; }

    /// <summary>What we may still send (connection lock).</summary>
    public Http2FlowWindow SendWindow;

    /// <summary>What the client may still send (connection lock).</summary>
    public int ReceiveWindow { get; set; }

    /// <summary>Body bytes the worker consumed that were not yet credited back (connection lock).</summary>
    public int UncreditedBytes { get; set; }

    /// <summary>Body bytes received and not consumed by the worker (connection lock).</summary>
    public long BufferedBytes { get; set; }

    /// <summary>Body bytes received in DATA frames, for the Content-Length check (frame loop).</summary>
    public long BodyReceived { get; set; }

    /// <summary>The client reset the stream, or it failed: the worker stops as soon as it looks.</summary>
    public bool Aborted { get; private set; }

    /// <summary>The client's END_STREAM arrived: the body pipe's end is the body's end.</summary>
    private volatile bool _bodyEnded;

    /// <summary>Signalled when a window update may let the worker send more DATA.</summary>
    public AsyncSignal WindowSignal { get; }

    public long ContentLength => _request.ContentLength;

    /// <summary>Takes the stream object for stream <paramref name="id"/>; the frame loop calls this.</summary>
    public void Begin(int id, int sendWindow, int receiveWindow, int headLimit)
    {
        if (_used)
        {
            // Both ends were completed when the previous request ended.
            _body.Reset();
        }

        _used = true;
        Id = id;
        State = Http2StreamState.Open;
        SendWindow = new Http2FlowWindow(Math.Max(0, sendWindow));
        if (sendWindow < 0)
        {
            SendWindow.ApplyInitialSizeChange(0, sendWindow);
        }

        ReceiveWindow = receiveWindow;
        UncreditedBytes = 0;
        BufferedBytes = 0;
        BodyReceived = 0;
        Aborted = false;
        _bodyEnded = false;
        _clientTimedOut = false;
        WindowSignal.Reopen();
        BeginHeaderBlock(headLimit, trailers: false);
    }

    /// <summary>Appends DATA to the body pipe (frame loop, under the connection lock).</summary>
    public void AppendBody(in ReadOnlySequence<byte> data)
    {
        var writer = _body.Writer;
        foreach (var segment in data)
        {
            writer.Write(segment.Span);
        }

        // Never pauses (no threshold), so the flush completes at once.
        var flush = writer.FlushAsync();
        System.Diagnostics.Debug.Assert(flush.IsCompleted, "an unpaused pipe flushes synchronously");
        flush.GetAwaiter().GetResult();
    }

    /// <summary>The client's END_STREAM: the body is whole (frame loop, under the connection lock).</summary>
    public void EndBody()
    {
        _bodyEnded = true;
        _body.Writer.Complete();
    }

    /// <summary>The client reset the stream or a stream error closed it (under the connection lock).</summary>
    public void Abort()
    {
        if (Aborted)
        {
            return;
        }

        Aborted = true;
        if (!_bodyEnded)
        {
            _body.Writer.Complete();
        }

        _forwarder.Cancel();
        CancelComposition();
        WindowSignal.Set();
    }

    /// <summary>The worker ended: completes the body pipe's writer if the client never ended it.</summary>
    public void CompleteBodyWriter()
    {
        if (!_bodyEnded && !Aborted)
        {
            _body.Writer.Complete();
        }
    }

    /// <summary>Starts the worker on the request whose header block just ended.</summary>
    public void Start()
    {
        _worker ??= RunWorkerAsync();
        _start.Set();
    }

    /// <summary>Ends the worker loop once the current request is done (connection end).</summary>
    public Task StopAsync()
    {
        _start.Close();
        return _worker ?? Task.CompletedTask;
    }

    /// <summary>Gives back what the request held: head buffers, scratch, and the body pipe's reader.</summary>
    internal void EndRequest()
    {
        // A fill this request led but did not complete releases its waiters at once.
        _cache.Abandon();
        _request.Release();
        _response.Release();
        // The request's trailers belong to the frame loop, which may still be decoding a trailing
        // HEADERS block for this stream: it clears them when the object starts its next request.
        _responseTrailers.Release();
        ShrinkScratch();
        _body.Reader.Complete();
    }

    public void Dispose()
    {
        _forwarder.Dispose();
        _composeAbort?.Dispose();
        _requestTrailers.Release();
        _responseTrailers.Release();
        ReturnScratch();
    }

    public void OnHeartbeat(long now)
    {
        _forwarder.OnHeartbeat(now);
        if (now > Volatile.Read(ref _clientDeadline))
        {
            Volatile.Write(ref _clientDeadline, long.MaxValue);
            _clientTimedOut = true;
            _body.Reader.CancelPendingRead();
            WindowSignal.Set();
        }
    }

    private void SetClientDeadline(TimeSpan timeout) =>
        Volatile.Write(ref _clientDeadline, Environment.TickCount64 + (long)timeout.TotalMilliseconds);

    private void ClearClientDeadline() => Volatile.Write(ref _clientDeadline, long.MaxValue);

    /// <summary>Did the client stall past the idle timeout while the worker waited on it?</summary>
    public bool ClientTimedOut => _clientTimedOut;

    /// <summary>Waits for window on behalf of <see cref="Http2Connection.WriteDataAsync"/>, bounded by the idle timeout.</summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    public async ValueTask<bool> WaitForWindowAsync(TimeSpan idleTimeout)
    {
        SetClientDeadline(idleTimeout);
        bool signalled = await WindowSignal.WaitAsync().ConfigureAwait(false);
        ClearClientDeadline();
        return signalled && !_clientTimedOut && !Aborted;
    }

    private async Task RunWorkerAsync()
    {
        while (await _start.WaitAsync().ConfigureAwait(false))
        {
            try
            {
                // A request to proxy is forwarded here rather than in ProcessAsync: this method's box is
                // the stream's own, made once, so the wait for the upstream's answer suspends one pooled
                // method less per request.
                if (await ProcessAsync().ConfigureAwait(false) is null)
                {
                    var result = await _forwarder.ForwardAsync(_proxyModel!, _proxyRoute!, _proxyValues, this).ConfigureAwait(false);
                    if (result is ExchangeResult.Problem or ExchangeResult.Retry)
                    {
                        await AnswerProblemAsync(_forwarder.Problem).ConfigureAwait(false);
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException or ObjectDisposedException)
            {
                // The client connection failed under the worker: the stream ends with it.
            }
            finally
            {
                _proxyModel = null;
                _proxyRoute = null;
                EndRequest();
                _connection.ReleaseStream(this);
            }
        }
    }
}
