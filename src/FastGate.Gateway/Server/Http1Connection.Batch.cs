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
        var credentials = CompositionRequest.BatchCredentials(Request, _peer, RequestId);
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
        if (!Request.HasBody)
        {
            return BodyCopy.Complete;
        }

        if (!await SendContinueIfExpectedAsync().ConfigureAwait(false))
        {
            return BodyCopy.ClientFailed;
        }

        var state = new ClientBody(Request);
        var sink = new BufferBodySink(body);
        while (true)
        {
            if (await ReadClientBodyAsync(limits).ConfigureAwait(false) is not { } result)
            {
                return BodyCopy.ClientFailed;
            }

            if (ConsumeClientBody(limits, result, ref state, ref sink) is { } step)
            {
                return step;
            }

            if (result.IsCompleted)
            {
                // The client closed before the end of its body.
                return BodyCopy.ClientFailed;
            }
        }
    }

    /// <summary>Keeps a batch body whole (it is parsed as one JSON array); trailer fields are dropped.</summary>
    private readonly struct BufferBodySink(ArrayBufferWriter<byte> body) : IClientBodySink
    {
        public void OnData(in ReadOnlySequence<byte> data)
        {
            foreach (var segment in data)
            {
                body.Write(segment.Span);
            }
        }

        public void OnTrailer(in ReadOnlySequence<byte> lines, bool end)
        {
        }
    }
}
