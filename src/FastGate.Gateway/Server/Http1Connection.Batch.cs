using System.Buffers;
using System.Runtime.CompilerServices;
using FastGate.Gateway.Async;
using FastGate.Gateway.Composition;
using FastGate.Gateway.Model;
using FastGate.Gateway.Pipeline;
using FastGate.Protocols.Http1;

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
        var credentials = CompositionRequest.BatchCredentials(_request, _peer, RequestId);
        if (CompositionRequest.ParseBatch(body.WrittenSpan, batch, credentials, out var requests) is { } refusal)
        {
            return await AnswerProblemAsync(refusal, keepAlive).ConfigureAwait(false);
        }

        var runner = new BatchRunner(_runtime, this);
        if (!await runner.RunAsync(requests, credentials, batch.MaxConcurrency, _context.ConnectionClosed).ConfigureAwait(false))
        {
            _context.Abort();
            return false;
        }

        return _composedKeepAlive;
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
