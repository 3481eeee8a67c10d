using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using FastGate.Gateway.Async;
using FastGate.Gateway.Model;
using FastGate.Gateway.Upstream;
using FastGate.Protocols.Http1;

namespace FastGate.Gateway.Server;

internal sealed partial class Http1Connection
{
    private enum BodyCheck : byte
    {
        Valid,
        Malformed,
        TooLarge,
        Closed,
    }

    private static readonly byte[] ContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray();

    /// <summary>
    /// Checks the chunked body bytes already received (and, unless the client waits for 100-continue,
    /// waits for the first of them) with a throw-away copy of the decoder, so that a malformed chunk
    /// line in the first bytes is refused before any upstream is contacted.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<BodyCheck> PrevalidateChunkedBodyAsync(LimitsModel limits)
    {
        ReadResult result;
        if (Request.ExpectContinue)
        {
            if (!_input.TryRead(out result))
            {
                return BodyCheck.Valid;
            }
        }
        else
        {
            SetClientDeadline(WaitKind.Client, limits.RequestHeadTimeout);
            result = await _input.ReadAsync().ConfigureAwait(false);
            ClearClientDeadline();
            if (result.IsCanceled)
            {
                _input.AdvanceTo(result.Buffer.Start);
                return BodyCheck.Closed;
            }
        }

        var decoder = default(Http1ChunkedDecoder);
        var reader = new SequenceReader<byte>(result.Buffer);
        var check = BodyCheck.Valid;
        try
        {
            while (decoder.Read(ref reader, out _) == Http1ChunkedStatus.Data)
            {
                if (decoder.BytesDecoded > limits.MaxRequestBody)
                {
                    check = BodyCheck.TooLarge;
                    break;
                }
            }
        }
        catch (Http1ParseException)
        {
            _runtime.Metrics.OnBadRequest();
            check = BodyCheck.Malformed;
        }

        // Nothing consumed and nothing examined: the copy loop sees the same bytes again at once.
        _input.AdvanceTo(result.Buffer.Start);
        return check;
    }

    /// <summary>Sends 100 Continue when the client waits for it and has sent nothing of the body yet.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> SendContinueIfExpectedAsync()
    {
        if (!Request.ExpectContinue || Request.Version != Http1Version.Http11)
        {
            return true;
        }

        if (_input.TryRead(out var buffered))
        {
            bool hasBody = !buffered.Buffer.IsEmpty;
            _input.AdvanceTo(buffered.Buffer.Start);
            if (hasBody)
            {
                return true;
            }
        }

        _output.Write(ContinueResponse);
        var flush = await _output.FlushAsync().ConfigureAwait(false);
        return !flush.IsCanceled && !flush.IsCompleted;
    }

    /// <summary>Streams the request body upstream as it arrives, re-framed, never buffered whole.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<BodyCopy> SendRequestBodyAsync(LimitsModel limits, UpstreamConnection connection)
    {
        var upstream = connection.Output;
        try
        {
            // Send the head with the first body bytes or right away when the client waits for 100.
            if (!await SendContinueIfExpectedAsync().ConfigureAwait(false))
            {
                return BodyCopy.ClientFailed;
            }

            var body = new ClientBody(Request);
            var sink = new UpstreamBodySink(upstream, Request.IsChunked);
            while (true)
            {
                if (await ReadClientBodyAsync(limits).ConfigureAwait(false) is not { } result)
                {
                    return BodyCopy.ClientFailed;
                }

                var step = ConsumeClientBody(limits, result, ref body, ref sink);
                if (step is BodyCopy.Malformed or BodyCopy.TooLarge)
                {
                    return step.Value;
                }

                var flush = await upstream.FlushAsync().ConfigureAwait(false);
                if (flush.IsCanceled || flush.IsCompleted)
                {
                    return BodyCopy.UpstreamFailed;
                }

                if (step == BodyCopy.Complete)
                {
                    return BodyCopy.Complete;
                }

                if (result.IsCompleted)
                {
                    // The client closed before the end of its body: the upstream never sees an end.
                    return BodyCopy.ClientFailed;
                }
            }
        }
        catch (Exception ex) when (UpstreamForwarder.IsConnectionFailure(ex))
        {
            return BodyCopy.UpstreamFailed;
        }
    }

    /// <summary>One read of the client's body, bounded by the idle timeout; null when it stalled or was cancelled.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<ReadResult?> ReadClientBodyAsync(LimitsModel limits)
    {
        SetClientDeadline(WaitKind.Client, limits.IdleTimeout);
        var result = await _input.ReadAsync().ConfigureAwait(false);
        ClearClientDeadline();
        if (result.IsCanceled)
        {
            _input.AdvanceTo(result.Buffer.Start);
            return null;
        }

        return result;
    }

    /// <summary>
    /// Takes what one read holds of the client's body (RFC 9112 section 6.3: a declared length or
    /// chunked), hands the payload and any trailer lines to <paramref name="sink"/>, and consumes it
    /// from the input. Returns <see cref="BodyCopy.Complete"/> at the body's end, null when more is to
    /// come (the caller checks for a close), or the refusal (malformed chunk, max_request_body passed).
    /// </summary>
    private BodyCopy? ConsumeClientBody<TSink>(LimitsModel limits, in ReadResult result, ref ClientBody body, ref TSink sink)
        where TSink : struct, IClientBodySink
    {
        var buffer = result.Buffer;
        if (!Request.IsChunked)
        {
            var slice = buffer.Length > body.Remaining ? buffer.Slice(0, body.Remaining) : buffer;
            sink.OnData(slice);
            body.Remaining -= slice.Length;
            _input.AdvanceTo(slice.End);
            return body.Remaining == 0 ? BodyCopy.Complete : null;
        }

        var reader = new SequenceReader<byte>(buffer);
        bool done = false;
        try
        {
            while (!done)
            {
                var status = body.Decoder.Read(ref reader, out var data);
                if (status == Http1ChunkedStatus.Data)
                {
                    if (body.Decoder.BytesDecoded > limits.MaxRequestBody)
                    {
                        _input.AdvanceTo(reader.Position, buffer.End);
                        return BodyCopy.TooLarge;
                    }

                    sink.OnData(data);
                }
                else if (status is Http1ChunkedStatus.Trailer or Http1ChunkedStatus.Completed)
                {
                    done = status == Http1ChunkedStatus.Completed;
                    sink.OnTrailer(data, end: done);
                }
                else
                {
                    break;
                }
            }
        }
        catch (Http1ParseException)
        {
            _runtime.Metrics.OnBadRequest();
            _input.AdvanceTo(buffer.Start, buffer.End);
            return BodyCopy.Malformed;
        }

        _input.AdvanceTo(reader.Position, done ? reader.Position : buffer.End);
        return done ? BodyCopy.Complete : null;
    }

    /// <summary>Where the request body is decoding: the chunked decoder or the bytes left of a declared length.</summary>
    private struct ClientBody(RequestHead request)
    {
        // Trailer lines are captured; a sink that cannot use them drops them.
        public Http1ChunkedDecoder Decoder = new() { CaptureTrailers = true };
        public long Remaining = request.ContentLength;
    }

    /// <summary>Receives a request body's payload and trailer lines as <see cref="ConsumeClientBody"/> decodes them.</summary>
    private interface IClientBodySink
    {
        void OnData(in ReadOnlySequence<byte> data);

        void OnTrailer(in ReadOnlySequence<byte> lines, bool end);
    }

    /// <summary>
    /// Re-frames the body for the upstream: as it came with a Content-Length, chunked otherwise, with
    /// the trailer section (RFC 9110 section 6.5) after the last chunk.
    /// </summary>
    private struct UpstreamBodySink(PipeWriter upstream, bool chunked) : IClientBodySink
    {
        private bool _lastChunkWritten;

        public readonly void OnData(in ReadOnlySequence<byte> data) => Http1HeadWriter.WriteBody(upstream, data, chunked);

        public void OnTrailer(in ReadOnlySequence<byte> lines, bool end) =>
            Http1HeadWriter.WriteTrailerPart(upstream, lines, ref _lastChunkWritten, end);
    }

    /// <summary>
    /// After an interim answer: relays it (or drops it) and reads heads until the final one. The first
    /// head is read by the exchange itself, so the usual answer waits in one method less.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<ResponseHeadStatus> ReadAfterInterimAsync(UpstreamConnection connection)
    {
        while (true)
        {
            // Interim answers (RFC 9110 section 15.2): 100 was for the gateway, which answered the
            // client's expectation itself; others (103 Early Hints) go to an HTTP/1.1 client.
            if (Response.StatusCode != 100 && Request.Version == Http1Version.Http11)
            {
                var cursor = new Protocols.Buffers.BufferCursor(_output, 512);
                WriteStatusLine(ref cursor);
                WriteResponseFields(ref cursor);
                cursor.Write("\r\n"u8);
                cursor.Commit();
                var flush = await _output.FlushAsync().ConfigureAwait(false);
                if (flush.IsCanceled || flush.IsCompleted)
                {
                    return ResponseHeadStatus.ClientFailed;
                }
            }

            Response.Reset();
            State.Forwarder.BeginResponseHead(Response, afterInterim: true);
            ResponseHeadStatus? head;
            while ((head = await State.Forwarder.ReadResponseHeadPart(connection.Input)) is null)
            {
            }

            if (head != ResponseHeadStatus.Interim)
            {
                return head.Value;
            }
        }
    }

    /// <summary>Streams the response body to the client as it arrives, re-framed when needed.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<BodyCopy> RelayResponseBodyAsync(LimitsModel limits, UpstreamConnection connection, ResponseFraming framing, bool chunkToClient)
    {
        if (framing == ResponseFraming.NoBody)
        {
            return await FlushClientAsync(limits).ConfigureAwait(false) ? BodyCopy.Complete : BodyCopy.ClientFailed;
        }

        var input = connection.Input;
        long remaining = Response.ContentLength;
        // Trailer fields go to a client that gets the body chunked; an HTTP/1.0 client cannot take them.
        var decoder = new Http1ChunkedDecoder { CaptureTrailers = chunkToClient };
        bool lastChunkWritten = false;
        try
        {
            while (true)
            {
                if (await State.Forwarder.ReadBodyAsync(input, limits.IdleTimeout).ConfigureAwait(false) is not { } result)
                {
                    return BodyCopy.UpstreamFailed;
                }

                var buffer = result.Buffer;

                bool done = false;
                switch (framing)
                {
                    case ResponseFraming.ContentLength:
                    {
                        var slice = buffer.Length > remaining ? buffer.Slice(0, remaining) : buffer;
                        foreach (var segment in slice)
                        {
                            _output.Write(segment.Span);
                        }

                        TapResponseBody(slice);
                        remaining -= slice.Length;
                        done = remaining == 0;
                        input.AdvanceTo(slice.End);
                        break;
                    }

                    case ResponseFraming.Chunked:
                    {
                        var reader = new SequenceReader<byte>(buffer);
                        try
                        {
                            while (!done)
                            {
                                var status = decoder.Read(ref reader, out var data);
                                if (status == Http1ChunkedStatus.Data)
                                {
                                    WriteBodyPart(data, chunkToClient);
                                }
                                else if (status is Http1ChunkedStatus.Trailer or Http1ChunkedStatus.Completed)
                                {
                                    done = status == Http1ChunkedStatus.Completed;
                                    if (chunkToClient)
                                    {
                                        Http1HeadWriter.WriteTrailerPart(_output, data, ref lastChunkWritten, end: done);
                                    }
                                }
                                else
                                {
                                    break;
                                }
                            }
                        }
                        catch (Http1ParseException)
                        {
                            input.AdvanceTo(buffer.Start, buffer.End);
                            return BodyCopy.UpstreamFailed;
                        }

                        input.AdvanceTo(reader.Position, done ? reader.Position : buffer.End);
                        break;
                    }

                    default:
                        if (!buffer.IsEmpty)
                        {
                            WriteBodyPart(buffer, chunkToClient);
                        }

                        input.AdvanceTo(buffer.End);
                        done = result.IsCompleted;
                        break;
                }

                if (done && chunkToClient && !lastChunkWritten)
                {
                    Http1HeadWriter.WriteChunkTerminator(_output);
                }

                if (!await FlushClientAsync(limits).ConfigureAwait(false))
                {
                    return BodyCopy.ClientFailed;
                }

                if (done)
                {
                    return BodyCopy.Complete;
                }

                if (result.IsCompleted)
                {
                    // The upstream closed before the declared end of the body.
                    return BodyCopy.UpstreamFailed;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            return BodyCopy.UpstreamFailed;
        }
    }

    private void WriteBodyPart(in ReadOnlySequence<byte> data, bool chunked)
    {
        TapResponseBody(data);
        Http1HeadWriter.WriteBody(_output, data, chunked);
    }

    /// <summary>Flushes to the client, bounded by the idle timeout so a reader that stalls is dropped.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> FlushClientAsync(LimitsModel limits)
    {
        SetClientDeadline(WaitKind.Client, limits.IdleTimeout);
        var flush = await _output.FlushAsync().ConfigureAwait(false);
        ClearClientDeadline();
        return !flush.IsCanceled && !flush.IsCompleted;
    }

    /// <summary>
    /// After a 101 (RFC 9110 section 15.2.2) the connection belongs to the upgraded protocol: bytes are
    /// copied both ways until either side closes, then both connections end.
    /// </summary>
    private async Task TunnelAsync(UpstreamConnection connection)
    {
        var cursor = new Protocols.Buffers.BufferCursor(_output, 512);
        WriteStatusLine(ref cursor);
        WriteResponseFields(ref cursor);
        cursor.Write("Connection: Upgrade\r\n"u8);
        for (int i = 0; i < Response.HeaderCount; i++)
        {
            if (Response.Header(i).Kind == Protocols.Text.KnownHeader.Upgrade)
            {
                cursor.WriteField("Upgrade"u8, Response.HeaderValue(i));
            }
        }

        cursor.Write("\r\n"u8);
        cursor.Commit();
        _runtime.Metrics.OnResponse(101);
        await _output.FlushAsync().ConfigureAwait(false);

        // Whichever side ends first stops the other pump by cancelling its pending read.
        var toUpstream = PumpAsync(_input, connection.Output, connection.Input);
        await PumpAsync(connection.Input, _output, _input).ConfigureAwait(false);
        await toUpstream.ConfigureAwait(false);
        connection.Endpoint.Pool.Discard(connection);
    }

    private static async Task PumpAsync(PipeReader from, PipeWriter to, PipeReader otherDirection)
    {
        try
        {
            while (true)
            {
                var result = await from.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                if (result.IsCanceled)
                {
                    from.AdvanceTo(buffer.Start);
                    break;
                }

                foreach (var segment in buffer)
                {
                    to.Write(segment.Span);
                }

                from.AdvanceTo(buffer.End);
                var flush = await to.FlushAsync().ConfigureAwait(false);
                if (result.IsCompleted || flush.IsCompleted || flush.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Either side may reset a tunnel at any time.
        }
        finally
        {
            otherDirection.CancelPendingRead();
        }
    }
}
