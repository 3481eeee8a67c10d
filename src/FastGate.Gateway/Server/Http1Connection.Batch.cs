using System.Buffers;
using System.Runtime.CompilerServices;
using FastGate.Gateway.Async;
using FastGate.Gateway.Composition;
using FastGate.Gateway.Model;
using FastGate.Gateway.Pipeline;
using FastGate.Protocols.Buffers;
using FastGate.Protocols.Http1;
using FastGate.Protocols.Text;

namespace FastGate.Gateway.Server;

/// <summary>Batch routes on HTTP/1.1: the body is read whole (bounded by max_request_body), the items run through <see cref="BatchRunner"/>.</summary>
internal sealed partial class Http1Connection
{
    /// <summary>This connection carries one item of a batch: a batch route is refused on it.</summary>
    internal bool IsBatchItem { get; init; }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> BatchAsync(GatewayModel model, BatchModel batch)
    {
        if (IsBatchItem)
        {
            return await AnswerProblemAsync(GatewayProblem.NestedBatch, keepAlive: false).ConfigureAwait(false);
        }

        var body = new ArrayBufferWriter<byte>(4096);
        var read = await ReadWholeBodyAsync(model.Limits, body).ConfigureAwait(false);
        switch (read)
        {
            case BodyCopy.ClientFailed:
                return false;
            case BodyCopy.TooLarge:
                return await RejectAsync(GatewayProblem.BodyTooLarge).ConfigureAwait(false);
            case BodyCopy.Malformed:
                return await RejectAsync(GatewayProblem.MalformedRequest).ConfigureAwait(false);
        }

        // The body was read to its end: the connection may go on after a refusal.
        bool keepAlive = ClientWantsKeepAlive && !_closeRequested;
        var credentials = new BatchCredentials(_request.Authority.ToArray(), CredentialFields(), RequestId.ToArray(), _context.RemoteEndPoint);
        switch (BatchRunner.Parse(body.WrittenSpan, batch.MaxRequests, credentials, out var requests))
        {
            case BatchParse.Malformed:
                return await AnswerProblemAsync(GatewayProblem.MalformedBatch, keepAlive).ConfigureAwait(false);
            case BatchParse.TooMany:
                return await AnswerProblemAsync(GatewayProblem.BatchTooLarge, keepAlive).ConfigureAwait(false);
        }

        var runner = new BatchRunner(_runtime, this);
        if (!await runner.RunAsync(requests, credentials, batch.MaxConcurrency, _context.ConnectionClosed).ConfigureAwait(false))
        {
            _context.Abort();
            return false;
        }

        return _composedKeepAlive;
    }

    /// <summary>What each item inherits: the batch's Authorization, the X-Forwarded-For a trusted proxy sent, traceparent.</summary>
    private byte[] CredentialFields()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        var cursor = new BufferCursor(buffer, 256);
        var authorization = _request.Find(KnownHeader.Authorization);
        if (!authorization.IsEmpty)
        {
            cursor.WriteField("Authorization"u8, authorization);
        }

        // The internal connection has the batch client's address as its peer; with the same X-Forwarded-For
        // from the same (trusted) peer it finds the same client address.
        if (_peer.IsTrustedProxy)
        {
            for (int i = 0; i < _request.HeaderCount; i++)
            {
                if (_request.Header(i).Kind == KnownHeader.XForwardedFor)
                {
                    cursor.WriteField("X-Forwarded-For"u8, _request.HeaderValue(i));
                }
            }
        }

        if (_request.TraceparentIndex >= 0)
        {
            cursor.WriteField("traceparent"u8, _request.HeaderValue(_request.TraceparentIndex));
        }

        cursor.Commit();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads the request body whole into <paramref name="body"/>, bounded by max_request_body.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<BodyCopy> ReadWholeBodyAsync(LimitsModel limits, ArrayBufferWriter<byte> body)
    {
        if (!_request.HasBody)
        {
            return BodyCopy.Complete;
        }

        if (!await SendContinueIfExpectedAsync().ConfigureAwait(false))
        {
            return BodyCopy.ClientFailed;
        }

        long remaining = _request.ContentLength;
        var decoder = default(Http1ChunkedDecoder);
        while (true)
        {
            SetClientDeadline(WaitKind.Client, limits.IdleTimeout);
            var result = await _input.ReadAsync().ConfigureAwait(false);
            ClearClientDeadline();
            var buffer = result.Buffer;
            if (result.IsCanceled)
            {
                _input.AdvanceTo(buffer.Start);
                return BodyCopy.ClientFailed;
            }

            bool done = false;
            if (_request.IsChunked)
            {
                var reader = new SequenceReader<byte>(buffer);
                try
                {
                    while (!done)
                    {
                        var status = decoder.Read(ref reader, out var data);
                        if (status == Http1ChunkedStatus.Data)
                        {
                            if (decoder.BytesDecoded > limits.MaxRequestBody)
                            {
                                _input.AdvanceTo(reader.Position, buffer.End);
                                return BodyCopy.TooLarge;
                            }

                            foreach (var segment in data)
                            {
                                body.Write(segment.Span);
                            }
                        }
                        else
                        {
                            done = status == Http1ChunkedStatus.Completed;
                            if (!done)
                            {
                                break;
                            }
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
            }
            else
            {
                var slice = buffer.Length > remaining ? buffer.Slice(0, remaining) : buffer;
                foreach (var segment in slice)
                {
                    body.Write(segment.Span);
                }

                remaining -= slice.Length;
                done = remaining == 0;
                _input.AdvanceTo(slice.End);
            }

            if (done)
            {
                return BodyCopy.Complete;
            }

            if (result.IsCompleted)
            {
                return BodyCopy.ClientFailed;
            }
        }
    }
}
