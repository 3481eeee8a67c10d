using System.Buffers;
using FastGate.Protocols.Hpack;
using FastGate.Protocols.Http2;

namespace FastGate.Gateway.Server;

/// <summary>
/// The frame loop's handling of each frame type (RFC 9113 section 6) against the stream states
/// (section 5.1). Frame-level syntax errors are thrown by <see cref="Http2FrameReader"/>; the
/// checks here are those that need the connection's state. A stream error resets only its stream.
/// </summary>
internal sealed partial class Http2Connection
{
    private void ProcessFrame(in Http2FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        // Section 6.10: inside a header block only CONTINUATION of the same stream may come.
        if (_continuationStreamId != 0 && (header.Type != Http2FrameType.Continuation || header.StreamId != _continuationStreamId))
        {
            Http2Throw.Connection(Http2ErrorCode.ProtocolError);
        }

        if (!_settingsReceived)
        {
            // Section 3.4: the client preface ends with a SETTINGS frame.
            if (header.Type != Http2FrameType.Settings || header.HasFlag(Http2Flags.Ack))
            {
                Http2Throw.Connection(Http2ErrorCode.ProtocolError);
            }

            _settingsReceived = true;
        }

        try
        {
            switch (header.Type)
            {
                case Http2FrameType.Data:
                    OnData(header, payload);
                    break;
                case Http2FrameType.Headers:
                    OnHeaders(header, payload);
                    break;
                case Http2FrameType.Priority:
                    // Deprecated (section 5.3.2): validated, then ignored; allowed on any stream state.
                    ChargeControlFrame();
                    Http2FrameReader.ReadPriority(header, payload);
                    break;
                case Http2FrameType.RstStream:
                    OnRstStream(header, payload);
                    break;
                case Http2FrameType.Settings:
                    OnSettings(header, payload);
                    break;
                case Http2FrameType.PushPromise:
                    // Section 8.4: a client cannot push.
                    Http2Throw.Connection(Http2ErrorCode.ProtocolError);
                    break;
                case Http2FrameType.Ping:
                    OnPing(header, payload);
                    break;
                case Http2FrameType.GoAway:
                    Http2FrameReader.ReadGoAway(header, payload, out _, out _);
                    _goAwayReceived = true;
                    break;
                case Http2FrameType.WindowUpdate:
                    OnWindowUpdate(header, payload);
                    break;
                case Http2FrameType.Continuation:
                    OnContinuation(header, payload);
                    break;
                default:
                    // Section 4.1 and 5.5: unknown frame types are ignored.
                    break;
            }
        }
        catch (Http2StreamException ex)
        {
            OnStreamError(ex.StreamId, ex.ErrorCode);
        }
    }

    private void OnStreamError(int streamId, Http2ErrorCode code)
    {
        Http2Stream? stream;
        lock (_lock)
        {
            _streams.TryGetValue(streamId, out stream);
        }

        if (stream is not null)
        {
            ResetStream(stream, code);
        }
        else
        {
            WriteReset(streamId, code);
        }
    }

    private void OnData(in Http2FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        var data = Http2FrameReader.ReadData(header, payload);
        int id = header.StreamId;
        int flowLength = header.Length;
        bool endStream = header.HasFlag(Http2Flags.EndStream);
        if (data.IsEmpty && !endStream)
        {
            // An empty DATA frame carries nothing: a flood of them is work for nothing (CVE-2019-9518).
            ChargeControlFrame();
        }

        lock (_lock)
        {
            // Section 6.9.1: the whole frame (padding too) counts against both windows.
            if (flowLength > _receiveWindow)
            {
                Http2Throw.Connection(Http2ErrorCode.FlowControlError);
            }

            _receiveWindow -= flowLength;
            if (!_streams.TryGetValue(id, out var stream))
            {
                // Nothing will consume it: the connection window gets it back at once.
                CreditConnection(flowLength);
                _flushSignal.Set();
                if (id > _lastStreamId)
                {
                    // DATA on an idle stream (section 5.1).
                    Http2Throw.Connection(Http2ErrorCode.ProtocolError);
                }

                if (!WasResetRecently(id))
                {
                    if (ClosedOrUnknown(id) == Http2ErrorCode.ProtocolError)
                    {
                        Http2Throw.Connection(Http2ErrorCode.ProtocolError);
                    }

                    Http2Throw.Stream(id, Http2ErrorCode.StreamClosed);
                }

                return;
            }

            if (!Http2StreamStates.AcceptsClientFrames(stream.State))
            {
                CreditConnection(flowLength);
                Http2Throw.Stream(id, Http2ErrorCode.StreamClosed);
            }

            if (flowLength > stream.ReceiveWindow)
            {
                CreditConnection(flowLength);
                Http2Throw.Stream(id, Http2ErrorCode.FlowControlError);
            }

            stream.ReceiveWindow -= flowLength;
            stream.BodyReceived += data.Length;
            if (stream.ContentLength >= 0
                && (stream.BodyReceived > stream.ContentLength || (endStream && stream.BodyReceived != stream.ContentLength)))
            {
                // Section 8.1.1: DATA that does not add up to Content-Length makes the request malformed.
                CreditConnection(flowLength);
                Http2Throw.Stream(id, Http2ErrorCode.ProtocolError);
            }

            // Padding is never consumed by the worker: it is credited back now.
            int padding = flowLength - (int)data.Length;
            if (padding > 0)
            {
                CreditConnection(padding);
                stream.ReceiveWindow += padding;
                WriteWindowUpdate(id, padding);
            }

            if (!data.IsEmpty)
            {
                stream.BufferedBytes += data.Length;
                stream.AppendBody(data);
            }

            if (endStream)
            {
                stream.EndBody();
                OnEndStreamReceived(stream);
            }
        }

        _flushSignal.Set();
    }

    private void OnEndStreamReceived(Http2Stream stream)
    {
        stream.State = Http2StreamStates.OnEndStreamReceived(stream.State);
        if (stream.State == Http2StreamState.Closed)
        {
            CloseStream(stream);
        }
    }

    private void OnHeaders(in Http2FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        int id = header.StreamId;
        ReadOnlySequence<byte> fragment;
        bool dependsOnItself = false;
        try
        {
            fragment = Http2FrameReader.ReadHeaders(header, payload, out _);
        }
        catch (Http2StreamException)
        {
            // A stream depending on itself is a stream error PROTOCOL_ERROR (RFC 9113 section 5.3.1).
            // The block is read past the (ignored) priority fields and still decoded below, so HPACK
            // stays in step (section 4.3) and only this stream is reset.
            fragment = Http2FrameReader.ReadHeaders(header with { Flags = header.Flags & ~Http2Flags.Priority }, payload, out _).Slice(5);
            dependsOnItself = true;
        }

        if ((id & 1) == 0)
        {
            // Section 5.1.1: streams a client opens have odd identifiers.
            Http2Throw.Connection(Http2ErrorCode.ProtocolError);
        }

        bool endStream = header.HasFlag(Http2Flags.EndStream);
        _headerTarget = null;
        _headerTrailers = false;
        _headerEndStream = endStream;
        _headerRefusal = Http2ErrorCode.NoError;
        Http2Stream? existing;
        lock (_lock)
        {
            _streams.TryGetValue(id, out existing);
        }

        if (existing is not null)
        {
            // Trailers (section 8.1): allowed while the client's side is open, and they end it.
            if (!Http2StreamStates.AcceptsClientFrames(existing.State))
            {
                _headerRefusal = Http2ErrorCode.StreamClosed;
            }
            else if (dependsOnItself)
            {
                ResetStream(existing, Http2ErrorCode.ProtocolError);
            }
            else
            {
                _headerTarget = existing;
                _headerTrailers = true;
                existing.BeginHeaderBlock(0, trailers: true);
            }
        }
        else if (id <= _lastStreamId)
        {
            if (!WasResetRecently(id))
            {
                // HEADERS on a closed stream (section 5.1): a connection error STREAM_CLOSED; on a
                // lower identifier never opened, PROTOCOL_ERROR (section 5.1.1).
                Http2Throw.Connection(ClosedOrUnknown(id));
            }
        }
        else
        {
            _lastStreamId = id;
            RememberOpened(id);
            if (_goAwaySent)
            {
                // After GOAWAY new streams are ignored (section 6.8); the block still goes through HPACK.
            }
            else if (dependsOnItself)
            {
                _headerRefusal = Http2ErrorCode.ProtocolError;
            }
            else if (Volatile.Read(ref _busyStreams) >= _limits.H2MaxConcurrentStreams)
            {
                // Section 5.1.2. Reset streams whose workers still run count too, so resetting streams
                // never buys a client more concurrent upstream work (Rapid Reset). A client that
                // respects the limit is never refused; one that keeps opening past it is charged.
                _headerRefusal = Http2ErrorCode.RefusedStream;
                ChargeControlFrame();
            }
            else
            {
                _headerTarget = RentStream(id);
            }
        }

        _headerBlockBytes = 0;
        _headerBlockFrames = 0;
        DecodeFragment(id, fragment, header.HasFlag(Http2Flags.EndHeaders));
    }

    private void OnContinuation(in Http2FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        if (_continuationStreamId == 0)
        {
            // CONTINUATION without a header block under way (section 6.10).
            Http2Throw.Connection(Http2ErrorCode.ProtocolError);
        }

        var fragment = Http2FrameReader.ReadContinuation(header, payload);
        if (++_headerBlockFrames > MaxContinuationFrames)
        {
            Http2Throw.Connection(Http2ErrorCode.EnhanceYourCalm);
        }

        DecodeFragment(header.StreamId, fragment, header.HasFlag(Http2Flags.EndHeaders));
    }

    /// <summary>
    /// Decodes one fragment of the block at once (the decoder carries a cut field over), so the block
    /// is never buffered: its bytes are bounded, and past the bound the connection ends before any
    /// more memory is committed.
    /// </summary>
    private void DecodeFragment(int id, in ReadOnlySequence<byte> fragment, bool endHeaders)
    {
        _headerBlockBytes += (int)fragment.Length;
        if (_headerBlockBytes > _limits.MaxRequestHead + Http2Protocol.DefaultMaxFrameSize)
        {
            // A block this large in its compressed form would only be refused once decoded.
            Http2Throw.Connection(Http2ErrorCode.EnhanceYourCalm);
        }

        var handler = new FieldHandler(_headerTarget);
        bool tooLarge = false;
        try
        {
            _decoder.Decode(fragment, endHeaders, ref handler);
        }
        catch (HpackHeaderListTooLargeException)
        {
            // The decoder finished the block: HPACK is in step, the error stays on the stream.
            tooLarge = true;
        }

        if (!endHeaders)
        {
            _continuationStreamId = id;
            return;
        }

        _continuationStreamId = 0;
        EndHeaderBlock(id, tooLarge);
    }

    private void EndHeaderBlock(int id, bool tooLarge)
    {
        var stream = _headerTarget;
        _headerTarget = null;
        if (stream is null)
        {
            if (_headerRefusal != Http2ErrorCode.NoError)
            {
                WriteReset(id, _headerRefusal);
            }

            return;
        }

        if (_headerTrailers)
        {
            if (tooLarge || !stream.CompleteTrailers(_headerEndStream))
            {
                ResetStream(stream, Http2ErrorCode.ProtocolError);
                return;
            }

            lock (_lock)
            {
                if (stream.ContentLength >= 0 && stream.BodyReceived != stream.ContentLength)
                {
                    Http2Throw.Stream(id, Http2ErrorCode.ProtocolError);
                }

                stream.EndBody();
                OnEndStreamReceived(stream);
            }

            return;
        }

        if (tooLarge)
        {
            stream.OnHeadTooLarge();
        }

        bool valid = stream.CompleteRequestHead(_headerEndStream);
        lock (_lock)
        {
            _streams.Add(id, stream);
            if (_headerEndStream)
            {
                stream.EndBody();
                OnEndStreamReceived(stream);
            }
        }

        if (!valid)
        {
            // A malformed request (section 8.1.1) never reaches a worker, let alone an upstream.
            _runtime.Metrics.OnBadRequest();
            ResetStream(stream, Http2ErrorCode.ProtocolError);
        }

        // The worker runs even for a reset stream: it sees Aborted at once and returns the object.
        stream.Start();
    }

    private void OnRstStream(in Http2FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        Http2FrameReader.ReadRstStream(header, payload);
        int id = header.StreamId;
        if (id > _lastStreamId)
        {
            // RST_STREAM on an idle stream (section 6.4).
            Http2Throw.Connection(Http2ErrorCode.ProtocolError);
        }

        lock (_lock)
        {
            if (!_streams.TryGetValue(id, out var stream))
            {
                return;
            }

            // A client cancelling a request whose answer is still in the works costs upstream work:
            // such resets are charged to the flood budget (Rapid Reset, CVE-2023-44487).
            ChargeControlFrame();
            CloseStream(stream);
            stream.Abort();
        }
    }

    private void OnSettings(in Http2FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        var handler = new SettingsHandler(this);
        bool ack;
        lock (_lock)
        {
            ack = Http2FrameReader.ReadSettings(header, payload, ref handler);
        }

        if (!ack)
        {
            ChargeControlFrame();
            WriteSettingsAck();
        }
    }

    /// <summary>Applies one of the client's settings (section 6.5.2); lock held.</summary>
    private void ApplySetting(Http2SettingsParameter parameter, uint value)
    {
        switch (parameter)
        {
            case Http2SettingsParameter.InitialWindowSize:
            {
                // Section 6.9.2: every stream's send window moves by the difference.
                int old = _peerInitialWindow;
                _peerInitialWindow = (int)value;
                foreach (var stream in _streams.Values)
                {
                    stream.SendWindow.ApplyInitialSizeChange(old, (int)value);
                }

                WakeWindowWaiters();
                break;
            }

            case Http2SettingsParameter.MaxFrameSize:
                _peerMaxFrameSize = (int)value;
                break;
            case Http2SettingsParameter.HeaderTableSize:
                _encoder.SetPeerHeaderTableSize((int)Math.Min(value, int.MaxValue));
                break;
        }
    }

    private void OnPing(in Http2FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        ulong opaque = Http2FrameReader.ReadPing(header, payload);
        if (!header.HasFlag(Http2Flags.Ack))
        {
            ChargeControlFrame();
            WritePingAck(opaque);
        }
    }

    private void OnWindowUpdate(in Http2FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        int id = header.StreamId;
        int increment;
        try
        {
            increment = Http2FrameReader.ReadWindowUpdate(header, payload);
        }
        catch (Http2StreamException) when (id > _lastStreamId)
        {
            // A zero increment on an idle stream: the idle stream is the graver error.
            Http2Throw.Connection(Http2ErrorCode.ProtocolError);
            return;
        }

        lock (_lock)
        {
            if (increment < TinyWindowUpdate && (id != 0 || increment > _sentUncredited))
            {
                ChargeControlFrame();
            }

            if (id == 0)
            {
                _sentUncredited = Math.Max(0, _sentUncredited - increment);
                _sendWindow.Increase(increment, 0);
                WakeWindowWaiters();
                return;
            }

            if (id > _lastStreamId)
            {
                // WINDOW_UPDATE on an idle stream (section 5.1).
                Http2Throw.Connection(Http2ErrorCode.ProtocolError);
            }

            if (_streams.TryGetValue(id, out var stream))
            {
                stream.SendWindow.Increase(increment, id);
                stream.WindowSignal.Set();
                _windowWaiters.Remove(stream);
            }
        }
    }

    /// <summary>Delivers decoded fields to the stream being built, or drops them (a refused block).</summary>
    private readonly struct FieldHandler(Http2Stream? stream) : IHpackHeaderHandler
    {
        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => stream?.OnField(name, value);
    }

    private readonly struct SettingsHandler(Http2Connection connection) : IHttp2SettingsHandler
    {
        public void OnSetting(Http2SettingsParameter parameter, uint value) => connection.ApplySetting(parameter, value);
    }
}
