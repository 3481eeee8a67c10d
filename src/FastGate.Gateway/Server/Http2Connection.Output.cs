using System.Buffers;
using System.Buffers.Text;
using FastGate.Gateway.Async;
using FastGate.Protocols.Http2;

namespace FastGate.Gateway.Server;

/// <summary>
/// The connection's one output. Every frame is written under <see cref="_lock"/> straight into the
/// transport's pipe (no frame object, no queue, no allocation), so frames of concurrent streams never
/// interleave and HPACK blocks reach the client in the order they were encoded. One flush loop per
/// connection flushes what was written; writers only signal it, so a client that does not read
/// stalls the flush loop and nothing else. What a stalled client can make the gateway hold is bounded:
/// DATA by the client's own windows, control answers by <see cref="MaxUnflushedOutput"/>.
/// </summary>
internal sealed partial class Http2Connection
{
    // Control frames the client provokes (PING and SETTINGS acknowledgements, RST_STREAM) that may
    // wait unflushed; past it the client is flooding without reading (ENHANCE_YOUR_CALM). It is
    // larger than the connection window so DATA the client allowed never trips it.
    private const int MaxUnflushedOutput = 1024 * 1024 + 64 * 1024;

    private readonly Lock _lock = new();
    private readonly AsyncSignal _flushSignal;
    private readonly ArrayBufferWriter<byte> _headerBlock = new(1024);
    private Http2FlowWindow _sendWindow = new(Http2Protocol.DefaultInitialWindowSize);

    // DATA sent on the connection that the client has not credited back yet (lock held).
    private long _sentUncredited;
    private bool _outputClosed;

    /// <summary>Flushes what the writers wrote, one flush at a time, until the connection ends.</summary>
    private async Task RunOutputLoopAsync()
    {
        try
        {
            while (await _flushSignal.WaitAsync().ConfigureAwait(false))
            {
                ValueTask<System.IO.Pipelines.FlushResult> flush;
                lock (_lock)
                {
                    if (_outputClosed)
                    {
                        break;
                    }

                    flush = _output.FlushAsync();
                }

                SetFlushDeadline();
                var result = await flush.ConfigureAwait(false);
                ClearFlushDeadline();
                if (result.IsCompleted || result.IsCanceled)
                {
                    // The client is gone or stalled past the idle timeout.
                    Abort();
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException or Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            Abort();
        }
    }

    /// <summary>Writes a control frame the client asked for; false (connection error) when it floods without reading.</summary>
    private void CheckUnflushedOutput()
    {
        if (_output.CanGetUnflushedBytes && _output.UnflushedBytes > MaxUnflushedOutput)
        {
            Http2Throw.Connection(Http2ErrorCode.EnhanceYourCalm);
        }
    }

    private void WriteSettingsAck()
    {
        lock (_lock)
        {
            if (_outputClosed)
            {
                return;
            }

            CheckUnflushedOutput();
            Http2FrameWriter.WriteSettingsAck(_output);
        }

        _flushSignal.Set();
    }

    private void WritePingAck(ulong opaque)
    {
        lock (_lock)
        {
            if (_outputClosed)
            {
                return;
            }

            CheckUnflushedOutput();
            Http2FrameWriter.WritePing(_output, opaque, ack: true);
        }

        _flushSignal.Set();
    }

    private void WriteWindowUpdate(int streamId, int increment)
    {
        // Caller holds the lock.
        if (!_outputClosed)
        {
            Http2FrameWriter.WriteWindowUpdate(_output, streamId, increment);
        }
    }

    /// <summary>RST_STREAM for a stream that has no object (refused, or unknown and closed).</summary>
    private void WriteReset(int streamId, Http2ErrorCode code)
    {
        lock (_lock)
        {
            if (_outputClosed)
            {
                return;
            }

            CheckUnflushedOutput();
            Http2FrameWriter.WriteRstStream(_output, streamId, code);
            RememberReset(streamId);
        }

        _flushSignal.Set();
    }

    /// <summary>Resets a stream with an object: closes it and stops its worker.</summary>
    public void ResetStream(Http2Stream stream, Http2ErrorCode code)
    {
        lock (_lock)
        {
            if (stream.State == Http2StreamState.Closed)
            {
                return;
            }

            CloseStream(stream);
            stream.Abort();
            if (!_outputClosed)
            {
                Http2FrameWriter.WriteRstStream(_output, stream.Id, code);
                RememberReset(stream.Id);
            }
        }

        _flushSignal.Set();
    }

    /// <summary>
    /// Starts a header block for <paramref name="stream"/>: takes the lock and keeps it until
    /// <see cref="EndHeaders"/>, so the block is encoded and written as one unit. False (and no lock)
    /// when the stream can no longer send: nothing may then be encoded, or the HPACK state would move.
    /// </summary>
    public bool BeginHeaders(Http2Stream stream)
    {
        _lock.Enter();
        if (_outputClosed || stream.Aborted || stream.State is Http2StreamState.Closed or Http2StreamState.HalfClosedLocal)
        {
            _lock.Exit();
            return false;
        }

        _headerBlock.ResetWrittenCount();
        _encoder.BeginHeaderBlock(_headerBlock);
        return true;
    }

    /// <summary>Encodes ":status" (lock held).</summary>
    public void EncodeStatus(int status)
    {
        Span<byte> digits = stackalloc byte[3];
        Utf8Formatter.TryFormat(status, digits, out int written);
        _encoder.EncodeHeader(":status"u8, digits[..written], _headerBlock);
    }

    /// <summary>Encodes a field with its name lowercased (lock held).</summary>
    public void EncodeField(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        Span<byte> lower = stackalloc byte[256];
        if (name.Length <= lower.Length)
        {
            System.Text.Ascii.ToLower(name, lower, out int written);
            _encoder.EncodeHeader(lower[..written], value, _headerBlock);
            return;
        }

        // Longer names are rare enough to rent for.
        byte[] rented = ArrayPool<byte>.Shared.Rent(name.Length);
        System.Text.Ascii.ToLower(name, rented, out int length);
        _encoder.EncodeHeader(rented.AsSpan(0, length), value, _headerBlock);
        ArrayPool<byte>.Shared.Return(rented);
    }

    /// <summary>Encodes "Name: value\r\n" lines, as the phases and the cache keep fields for either protocol (lock held).</summary>
    public void EncodeFieldLines(ReadOnlySpan<byte> lines)
    {
        var fields = new Protocols.Http1.Http1FieldLines(lines);
        while (fields.MoveNext(out _, out var name, out var value))
        {
            EncodeField(name, value);
        }
    }

    /// <summary>Encodes a field with a decimal value (lock held).</summary>
    public void EncodeNumber(ReadOnlySpan<byte> name, long value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out int written);
        _encoder.EncodeHeader(name, digits[..written], _headerBlock);
    }

    /// <summary>Writes the block as HEADERS and CONTINUATION frames and releases the lock.</summary>
    public void EndHeaders(Http2Stream stream, bool endStream)
    {
        try
        {
            Http2FrameWriter.WriteHeaders(_output, stream.Id, _headerBlock.WrittenSpan, endStream, _peerMaxFrameSize);
            if (endStream)
            {
                OnEndStreamSent(stream);
            }
        }
        finally
        {
            _lock.Exit();
        }

        _flushSignal.Set();
    }

    private void OnEndStreamSent(Http2Stream stream)
    {
        stream.State = Http2StreamStates.OnEndStreamSent(stream.State);
        if (stream.State == Http2StreamState.Closed)
        {
            CloseStream(stream);
        }
    }

    /// <summary>
    /// Sends <paramref name="data"/> as DATA frames as the stream's and the connection's windows allow
    /// (RFC 9113 section 6.9), waiting for WINDOW_UPDATE when they are spent, each wait bounded by the
    /// idle timeout. False when the stream was reset, the connection ended or the client stalled.
    /// </summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    public async ValueTask<bool> WriteDataAsync(Http2Stream stream, ReadOnlySequence<byte> data, bool endStream, TimeSpan idleTimeout)
    {
        while (true)
        {
            bool wait;
            lock (_lock)
            {
                if (_outputClosed || stream.Aborted || stream.State is Http2StreamState.Closed or Http2StreamState.HalfClosedLocal)
                {
                    return false;
                }

                long allowed = Math.Min(Math.Min(data.Length, _peerMaxFrameSize), Math.Min(stream.SendWindow.Available, _sendWindow.Available));
                if (allowed > 0 || data.IsEmpty)
                {
                    int length = (int)Math.Max(allowed, 0);
                    bool last = length == data.Length;
                    stream.SendWindow.TryConsume(length);
                    _sendWindow.TryConsume(length);
                    _sentUncredited += length;
                    Http2FrameWriter.WriteData(_output, stream.Id, data.Slice(0, length), last && endStream, _peerMaxFrameSize);
                    data = data.Slice(length);
                    if (last && endStream)
                    {
                        OnEndStreamSent(stream);
                    }

                    wait = false;
                }
                else
                {
                    // Woken by a WINDOW_UPDATE on the stream or the connection, or a SETTINGS change.
                    _windowWaiters.Add(stream);
                    wait = true;
                }
            }

            _flushSignal.Set();
            if (!wait)
            {
                if (data.IsEmpty)
                {
                    return true;
                }

                continue;
            }

            if (!await stream.WaitForWindowAsync(idleTimeout).ConfigureAwait(false))
            {
                if (stream.ClientTimedOut)
                {
                    ResetStream(stream, Http2ErrorCode.Cancel);
                }

                return false;
            }
        }
    }

    /// <summary>Wakes the streams waiting for window (lock held).</summary>
    private void WakeWindowWaiters()
    {
        foreach (var waiter in _windowWaiters)
        {
            waiter.WindowSignal.Set();
        }

        _windowWaiters.Clear();
    }

    /// <summary>
    /// The worker consumed <paramref name="length"/> body bytes: credit them back to the client once
    /// half a window is due, so a steady upload needs few WINDOW_UPDATE frames.
    /// </summary>
    public void OnBodyConsumed(Http2Stream stream, int length)
    {
        if (length == 0)
        {
            return;
        }

        lock (_lock)
        {
            stream.BufferedBytes -= length;
            CreditConnection(length);
            if (stream.State is Http2StreamState.Open or Http2StreamState.HalfClosedLocal)
            {
                stream.UncreditedBytes += length;
                if (stream.UncreditedBytes >= StreamReceiveWindow / 2)
                {
                    WriteWindowUpdate(stream.Id, stream.UncreditedBytes);
                    stream.ReceiveWindow += stream.UncreditedBytes;
                    stream.UncreditedBytes = 0;
                }
            }
        }

        _flushSignal.Set();
    }

    /// <summary>Returns received bytes to the connection window (lock held).</summary>
    private void CreditConnection(int length)
    {
        _uncreditedConnectionBytes += length;
        if (_uncreditedConnectionBytes >= ConnectionReceiveWindow / 2)
        {
            WriteWindowUpdate(0, _uncreditedConnectionBytes);
            _receiveWindow += _uncreditedConnectionBytes;
            _uncreditedConnectionBytes = 0;
        }
    }
}
