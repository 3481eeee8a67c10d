using System.Buffers;
using System.IO.Pipelines;
using FastGate.Gateway.Async;
using FastGate.Gateway.Model;
using FastGate.Gateway.Pipeline;
using FastGate.Protocols.Hpack;
using FastGate.Protocols.Http2;
using Microsoft.AspNetCore.Connections;

namespace FastGate.Gateway.Server;

/// <summary>
/// The server side of one HTTP/2 client connection (RFC 9113), cleartext with prior knowledge or
/// after ALPN "h2". One frame loop reads and validates every frame and keeps the stream state
/// machine; each stream's request runs on its own pooled worker, concurrently, through the same
/// admission, phases and upstream pools as HTTP/1.1; all output goes through one serialized writer
/// (see Http2Connection.Output.cs).
/// </summary>
internal sealed partial class Http2Connection : IHeartbeatClient, IDisposable
{
    // The receive windows we keep open. A stream's window bounds what one slow upstream makes the
    // gateway buffer; the connection's lets a handful of concurrent uploads run at full speed.
    private const int StreamReceiveWindow = Http2Protocol.DefaultInitialWindowSize;
    private const int ConnectionReceiveWindow = 1024 * 1024;

    // A header block may come in a HEADERS frame and at most this many CONTINUATION frames, each
    // full-sized (16 KiB) at worst; the header list size bounds its bytes (CONTINUATION flood,
    // CVE-2024-27316).
    private const int MaxContinuationFrames = 16;

    // Frames that cost the gateway work without carrying a request (SETTINGS, PING, PRIORITY, empty
    // DATA, tiny WINDOW_UPDATE, RST_STREAM of a stream still at work): a token bucket per connection.
    // Browsers send a few per page; a flood sends thousands in a second (CVE-2019-9512/9515/9518,
    // Rapid Reset CVE-2023-44487).
    private const int ControlFrameBurst = 1000;
    private const int ControlFramesPerSecond = 200;

    // A WINDOW_UPDATE this small, that does not give back DATA the gateway sent, makes the gateway
    // work per frame for almost no data (CVE-2019-9517 family). Credit for DATA received is never charged.
    private const int TinyWindowUpdate = 1024;

    private readonly GatewayRuntime _runtime;
    private readonly ConnectionContext _context;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly LimitsModel _limits;
    private readonly HpackDecoder _decoder;
    private readonly HpackEncoder _encoder = new();
    private readonly Dictionary<int, Http2Stream> _streams = [];
    private readonly Stack<Http2Stream> _idleStreams = new();
    private readonly List<Http2Stream> _windowWaiters = [];
    private Http2Stream[] _allStreams = [];

    // Streams we reset recently: frames the client sent before it saw the reset are ignored
    // (RFC 9113 section 5.4.2) rather than answered as errors on a closed stream.
    private readonly int[] _recentResets = new int[32];
    private int _recentResetIndex;

    // Streams opened recently: a frame on one of them is on a closed stream (STREAM_CLOSED); on any
    // other lower identifier it names a stream that was never opened (PROTOCOL_ERROR, section 5.1.1).
    private readonly int[] _recentStreams = new int[64];
    private int _recentStreamIndex;
    private bool _settingsReceived;

    // Frame loop state.
    private int _lastStreamId;
    private int _busyStreams;
    private int _receiveWindow = Http2Protocol.DefaultInitialWindowSize;
    private int _uncreditedConnectionBytes;
    private int _peerInitialWindow = Http2Protocol.DefaultInitialWindowSize;
    private int _peerMaxFrameSize = Http2Protocol.DefaultMaxFrameSize;
    private long _controlBudget = ControlFrameBurst;
    private long _controlBudgetTime = Environment.TickCount64;

    // The header block being received: its stream (null when it is decoded only to keep HPACK in step),
    // whether it holds trailers, and what is owed once it ends.
    private int _continuationStreamId;
    private Http2Stream? _headerTarget;
    private bool _headerTrailers;
    private bool _headerEndStream;
    private Http2ErrorCode _headerRefusal;
    private int _headerBlockBytes;
    private int _headerBlockFrames;

    // Deadlines (Environment.TickCount64 ms) the heartbeat enforces.
    private long _readDeadline = long.MaxValue;
    private long _flushDeadline = long.MaxValue;
    private volatile bool _readTimedOut;
    private volatile bool _closeRequested;
    private readonly bool _countedByHttp1;
    private bool _goAwaySent;
    private bool _goAwayReceived;

    /// <param name="scheduler">
    /// where the streams and the flush loop continue after a wait: the transport's epoll loop, so the
    /// whole connection runs on the thread that serves its socket; null: the thread pool
    /// </param>
    /// <param name="countedByHttp1">the connection came as HTTP/1.1's first bytes (prior knowledge, see
    /// <see cref="Http1Connection"/>), which already counted it as opened</param>
    public Http2Connection(GatewayRuntime runtime, ConnectionContext context, PipeScheduler? scheduler = null, bool countedByHttp1 = false)
    {
        _runtime = runtime;
        _countedByHttp1 = countedByHttp1;
        Scheduler = scheduler;
        BodyPipeOptions = scheduler is null ? ThreadPoolBodyPipeOptions : BodyPipeOptionsOn(scheduler);
        _flushSignal = new AsyncSignal(scheduler);
        _context = context;
        _input = context.Transport.Input;
        _output = context.Transport.Output;
        _limits = runtime.Model.Limits;
        // RFC 9113 section 6.5.2: SETTINGS_MAX_HEADER_LIST_SIZE is max_request_head, so an HTTP/2 head
        // is held to the same bound as an HTTP/1.1 head; the dynamic table keeps its default 4 KiB.
        _decoder = new HpackDecoder(HpackDecoder.DefaultHeaderTableSize, _limits.MaxRequestHead);
        Peer = new ClientPeer(runtime, context);
    }

    /// <summary>The client's address, shared by every stream.</summary>
    public ClientPeer Peer { get; }

    /// <summary>Where the connection's waits continue (null: the thread pool).</summary>
    public PipeScheduler? Scheduler { get; }

    /// <summary>
    /// The streams' request-body pipes: no writer pause, as the stream's receive window already bounds
    /// what one holds; the reader continues through <see cref="Scheduler"/>, never inline in the frame
    /// loop's flush (which holds the connection lock).
    /// </summary>
    public PipeOptions BodyPipeOptions { get; }

    private static readonly PipeOptions ThreadPoolBodyPipeOptions = BodyPipeOptionsOn(PipeScheduler.ThreadPool);

    private static PipeOptions BodyPipeOptionsOn(PipeScheduler scheduler) =>
        new(readerScheduler: scheduler, writerScheduler: scheduler, pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false);

    public async Task RunAsync()
    {
        if (!_countedByHttp1)
        {
            _runtime.Metrics.OnConnectionOpened();
        }

        _runtime.Heartbeat.Add(this);
        var outputLoop = RunOutputLoopAsync();
        try
        {
            if (await ReadPrefaceAsync().ConfigureAwait(false))
            {
                WriteServerPreface();
                await RunFrameLoopAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or ConnectionResetException or ConnectionAbortedException or OperationCanceledException or InvalidOperationException)
        {
            // The client went away or a write failed.
        }
        finally
        {
            _runtime.Heartbeat.Remove(this);
            await StopStreamsAsync().ConfigureAwait(false);
            lock (_lock)
            {
                _outputClosed = true;
            }

            _flushSignal.Close();
            await outputLoop.ConfigureAwait(false);
            await FlushLastFramesAsync().ConfigureAwait(false);
            Dispose();
            _runtime.Metrics.OnConnectionClosed();
            await _output.CompleteAsync().ConfigureAwait(false);
            await _input.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>What was written after the flush loop stopped (the GOAWAY) still goes out, within the idle timeout.</summary>
    private async Task FlushLastFramesAsync()
    {
        try
        {
            SetFlushDeadline();
            await _output.FlushAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException or ConnectionResetException)
        {
            // The client is gone: nothing more to tell it.
        }
        finally
        {
            ClearFlushDeadline();
        }
    }

    public void Dispose()
    {
        _decoder.Dispose();
        _encoder.Dispose();
        foreach (var stream in _allStreams)
        {
            stream.Dispose();
        }
    }

    /// <summary>Graceful shutdown: GOAWAY now; streams in flight finish, then the connection closes.</summary>
    public void OnStopping()
    {
        _closeRequested = true;
        _input.CancelPendingRead();
    }

    public void OnHeartbeat(long now)
    {
        if (now > Volatile.Read(ref _readDeadline))
        {
            Volatile.Write(ref _readDeadline, long.MaxValue);
            _readTimedOut = true;
            _input.CancelPendingRead();
        }

        if (now > Volatile.Read(ref _flushDeadline))
        {
            Volatile.Write(ref _flushDeadline, long.MaxValue);
            _output.CancelPendingFlush();
        }

        foreach (var stream in Volatile.Read(ref _allStreams))
        {
            stream.OnHeartbeat(now);
        }
    }

    private void SetReadDeadline(TimeSpan timeout) =>
        Volatile.Write(ref _readDeadline, Environment.TickCount64 + (long)timeout.TotalMilliseconds);

    private void SetFlushDeadline() =>
        Volatile.Write(ref _flushDeadline, Environment.TickCount64 + (long)_limits.IdleTimeout.TotalMilliseconds);

    private void ClearFlushDeadline() => Volatile.Write(ref _flushDeadline, long.MaxValue);

    /// <summary>Ends the connection at once: the transport is aborted, the frame loop's read ends.</summary>
    private void Abort()
    {
        _context.Abort();
        _input.CancelPendingRead();
    }

    /// <summary>The 24-octet client preface (RFC 9113 section 3.4), within the request head timeout.</summary>
    private async ValueTask<bool> ReadPrefaceAsync()
    {
        SetReadDeadline(_limits.RequestHeadTimeout);
        var received = new byte[Http2Protocol.ClientPrefaceLength];
        while (true)
        {
            var result = await _input.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            if (result.IsCanceled && (_readTimedOut || _closeRequested))
            {
                _input.AdvanceTo(buffer.Start, buffer.End);
                return false;
            }

            long length = Math.Min(buffer.Length, Http2Protocol.ClientPrefaceLength);
            buffer.Slice(0, length).CopyTo(received);
            if (!received.AsSpan(0, (int)length).SequenceEqual(Http2Protocol.ClientPreface[..(int)length]))
            {
                // Not HTTP/2: a connection error PROTOCOL_ERROR (section 3.4), GOAWAY and close.
                _input.AdvanceTo(buffer.Start, buffer.End);
                SendGoAway(Http2ErrorCode.ProtocolError);
                return false;
            }

            if (length == Http2Protocol.ClientPrefaceLength)
            {
                _input.AdvanceTo(buffer.GetPosition(length));
                return true;
            }

            _input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return false;
            }
        }
    }

    /// <summary>Our SETTINGS (section 3.4: the server preface) and the connection window we keep open.</summary>
    private void WriteServerPreface()
    {
        Span<Http2Setting> settings =
        [
            new(Http2SettingsParameter.MaxConcurrentStreams, (uint)_limits.H2MaxConcurrentStreams),
            new(Http2SettingsParameter.MaxHeaderListSize, (uint)_limits.MaxRequestHead),
            // A server never pushes; saying so costs nothing and helps clients that ask.
            new(Http2SettingsParameter.EnablePush, 0),
        ];
        lock (_lock)
        {
            Http2FrameWriter.WriteSettings(_output, settings);
            Http2FrameWriter.WriteWindowUpdate(_output, 0, ConnectionReceiveWindow - Http2Protocol.DefaultInitialWindowSize);
            _receiveWindow = ConnectionReceiveWindow;
        }

        _flushSignal.Set();
    }

    private async Task RunFrameLoopAsync()
    {
        while (true)
        {
            // Idle: no stream at work and no header block under way (idle_timeout); a header block
            // started is bounded by request_head_timeout.
            if (_continuationStreamId != 0)
            {
                SetReadDeadline(_limits.RequestHeadTimeout);
            }
            else if (Volatile.Read(ref _busyStreams) == 0)
            {
                SetReadDeadline(_limits.IdleTimeout);
            }
            else
            {
                Volatile.Write(ref _readDeadline, long.MaxValue);
            }

            if (_closeRequested && !_goAwaySent)
            {
                SendGoAway(Http2ErrorCode.NoError);
            }

            if ((_goAwaySent || _goAwayReceived) && Volatile.Read(ref _busyStreams) == 0 && _continuationStreamId == 0)
            {
                return;
            }

            var result = await _input.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            if (result.IsCanceled)
            {
                _input.AdvanceTo(buffer.Start, buffer.End);
                if (_readTimedOut)
                {
                    // Idle, or a header block that never ended: GOAWAY and close (section 6.8).
                    _readTimedOut = false;
                    SendGoAway(_continuationStreamId != 0 ? Http2ErrorCode.ProtocolError : Http2ErrorCode.NoError);
                    return;
                }

                continue;
            }

            var reader = new SequenceReader<byte>(buffer);
            try
            {
                while (Http2FrameReader.TryReadFrame(ref reader, Http2Protocol.DefaultMaxFrameSize, out var header, out var payload))
                {
                    ProcessFrame(header, payload);
                }
            }
            catch (Http2ConnectionException ex)
            {
                _input.AdvanceTo(buffer.End);
                SendGoAway(ex.ErrorCode);
                return;
            }
            catch (HpackDecodingException)
            {
                // RFC 9113 section 4.3: the decoder is out of step with the client's encoder.
                _input.AdvanceTo(buffer.End);
                SendGoAway(Http2ErrorCode.CompressionError);
                return;
            }

            _input.AdvanceTo(reader.Position, buffer.End);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }

    /// <summary>GOAWAY with the last stream we processed (section 6.8), once.</summary>
    private void SendGoAway(Http2ErrorCode code)
    {
        lock (_lock)
        {
            if (_outputClosed || (_goAwaySent && code == Http2ErrorCode.NoError))
            {
                return;
            }

            _goAwaySent = true;
            Http2FrameWriter.WriteGoAway(_output, _lastStreamId, code);
        }

        _flushSignal.Set();
    }

    /// <summary>Cancels what streams still do, waits for their workers, then ends their loops.</summary>
    private async Task StopStreamsAsync()
    {
        Http2Stream[] streams;
        lock (_lock)
        {
            foreach (var stream in _streams.Values)
            {
                stream.Abort();
            }

            streams = _allStreams;
        }

        foreach (var stream in streams)
        {
            await stream.StopAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Charges one frame that does work without carrying a request to the connection's budget, which
    /// refills with time; a client that spends it is flooding (connection error ENHANCE_YOUR_CALM).
    /// </summary>
    private void ChargeControlFrame()
    {
        long now = Environment.TickCount64;
        long elapsed = now - _controlBudgetTime;
        if (elapsed >= 100)
        {
            _controlBudget = Math.Min(ControlFrameBurst, _controlBudget + (elapsed * ControlFramesPerSecond / 1000));
            _controlBudgetTime = now;
        }

        if (--_controlBudget < 0)
        {
            _runtime.Metrics.OnBadRequest();
            Http2Throw.Connection(Http2ErrorCode.EnhanceYourCalm);
        }
    }

    private void RememberReset(int streamId)
    {
        _recentResets[_recentResetIndex] = streamId;
        _recentResetIndex = (_recentResetIndex + 1) % _recentResets.Length;
    }

    private bool WasResetRecently(int streamId) => Array.IndexOf(_recentResets, streamId) >= 0;

    private void RememberOpened(int streamId)
    {
        _recentStreams[_recentStreamIndex] = streamId;
        _recentStreamIndex = (_recentStreamIndex + 1) % _recentStreams.Length;
    }

    /// <summary>The error for a frame on a lower stream identifier that is not open.</summary>
    private Http2ErrorCode ClosedOrUnknown(int streamId) =>
        Array.IndexOf(_recentStreams, streamId) >= 0 ? Http2ErrorCode.StreamClosed : Http2ErrorCode.ProtocolError;

    /// <summary>Removes a stream from the open set (lock held); its object stays with its worker.</summary>
    private void CloseStream(Http2Stream stream)
    {
        stream.State = Http2StreamState.Closed;
        _streams.Remove(stream.Id);
    }

    /// <summary>
    /// The worker is done with the stream: it is closed if the client is still sending (RST_STREAM
    /// NO_ERROR after a complete answer, RFC 9113 section 8.1), its unread body is credited back to the
    /// connection window, and the object returns to the pool.
    /// </summary>
    public void ReleaseStream(Http2Stream stream)
    {
        lock (_lock)
        {
            if (stream.State != Http2StreamState.Closed)
            {
                var code = stream.State == Http2StreamState.HalfClosedLocal ? Http2ErrorCode.NoError : Http2ErrorCode.InternalError;
                CloseStream(stream);
                if (!_outputClosed)
                {
                    Http2FrameWriter.WriteRstStream(_output, stream.Id, code);
                    RememberReset(stream.Id);
                }
            }

            stream.CompleteBodyWriter();
            if (stream.BufferedBytes > 0)
            {
                CreditConnection((int)stream.BufferedBytes);
                stream.BufferedBytes = 0;
            }

            _windowWaiters.Remove(stream);
            _idleStreams.Push(stream);
            _busyStreams--;
        }

        _flushSignal.Set();
        if (Volatile.Read(ref _busyStreams) == 0 && (_goAwaySent || _goAwayReceived || _closeRequested))
        {
            // The frame loop may be waiting to close once the last stream is done.
            _input.CancelPendingRead();
        }
    }

    /// <summary>A stream object for a new stream: from the pool, or a new one (its worker starts later).</summary>
    private Http2Stream RentStream(int id)
    {
        lock (_lock)
        {
            if (!_idleStreams.TryPop(out var stream))
            {
                stream = new Http2Stream(this, _runtime, Peer);
                Volatile.Write(ref _allStreams, [.. _allStreams, stream]);
            }

            _busyStreams++;
            stream.Begin(id, _peerInitialWindow, StreamReceiveWindow, _limits.MaxRequestHead + _limits.MaxRequestTarget + 16);
            return stream;
        }
    }
}
