using System.Buffers;
using System.Runtime.CompilerServices;
using FastGate.Gateway.Async;
using FastGate.Gateway.Composition;
using FastGate.Gateway.Model;
using FastGate.Gateway.Pipeline;
using FastGate.Gateway.Routing;
using FastGate.Protocols.Http2;

namespace FastGate.Gateway.Server;

/// <summary>
/// The composition actions on HTTP/2: aggregate and batch routes answer on the stream. The stream is
/// the composers' sink: the head goes out as HEADERS without content-length, each flushed piece of the
/// body as DATA within the stream's and the connection's send windows (the same path every answer
/// takes), the end as END_STREAM. A body that cannot be completed is reset (INTERNAL_ERROR), so it
/// never looks whole, as the HTTP/1.1 side aborts the connection.
/// </summary>
internal sealed partial class Http2Stream : IStreamingBodySink
{
    // What the composer wrote since its last flush; kept with the stream object across requests.
    private ArrayBufferWriter<byte>? _composed;
    private bool _composedFailed;

    // Cancelled (off the connection lock) when the stream is aborted: the parts and items stop.
    private CancellationTokenSource? _composeAbort;

    /// <summary>Runs the action of an aggregate or batch route; false when the stream ended without a complete answer.</summary>
    private ValueTask<bool> ComposeAsync(GatewayModel model, RouteModel route, RouteValues values)
    {
        _composed ??= new ArrayBufferWriter<byte>(4096);
        _composed.ResetWrittenCount();
        _composedFailed = false;
        var abort = _composeAbort;
        if (abort is null || !abort.TryReset())
        {
            // A source cancelled for an earlier request stays with whoever may still hold it; it has no
            // timer nor wait handle to release.
            abort = new CancellationTokenSource();
            Volatile.Write(ref _composeAbort, abort);
        }

        // Read after the source is in place: an Abort from here on cancels it.
        if (Aborted)
        {
            return ValueTask.FromResult(false);
        }

        return route.Action == RouteAction.Aggregate
            ? AggregateAsync(model, route.Aggregate!, values, abort.Token)
            : BatchAsync(model, route.Batch!, abort.Token);
    }

    /// <summary>The stream was aborted (connection lock held): the callbacks run on the thread pool, not under the lock.</summary>
    private void CancelComposition() => Volatile.Read(ref _composeAbort)?.CancelAsync();

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> AggregateAsync(GatewayModel model, AggregateModel aggregate, RouteValues values, CancellationToken aborted)
    {
        var peer = _connection.Peer;
        var commonFields = CompositionRequest.CommonPartFields(_request, peer, _policy, _phases.ValidatedClaims, RequestId);
        var parts = CompositionRequest.Parts(_runtime, aggregate, _request, values, peer, commonFields);
        var result = await new ResponseMerger(this).RunAsync(parts, aggregate.Timeout, model.Limits.IdleTimeout, aborted).ConfigureAwait(false);
        switch (result.Outcome)
        {
            case MergeOutcome.Completed:
                return true;
            case MergeOutcome.RequiredPartFailed:
                var detail = CompositionRequest.FailedPartDetail(aggregate, result);

                // The problem buffer holds any document with a detail of sane length; a part key too long
                // for it leaves the problem's own detail.
                bool fits = ProblemResponse.BodyLength(GatewayProblem.RequiredPartFailed, RequestId, detail) <= _problemBody.Length;
                return await AnswerProblemAsync(GatewayProblem.RequiredPartFailed, detail: fits ? detail : null).ConfigureAwait(false);
            default:
                // Whatever reached the client must not look complete (RFC 9113 section 8.1: a stream
                // reset before END_STREAM is an incomplete answer).
                _connection.ResetStream(this, Http2ErrorCode.InternalError);
                return false;
        }
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> BatchAsync(GatewayModel model, BatchModel batch, CancellationToken aborted)
    {
        var body = new ArrayBufferWriter<byte>(4096);
        var read = _request.HasBody ? await ReadBatchBodyAsync(model.Limits, body).ConfigureAwait(false) : BodyCopy.Complete;
        if (read != BodyCopy.Complete)
        {
            return read == BodyCopy.TooLarge && await AnswerProblemAsync(GatewayProblem.BodyTooLarge).ConfigureAwait(false);
        }

        var credentials = CompositionRequest.BatchCredentials(_request, _connection.Peer, RequestId);
        if (CompositionRequest.ParseBatch(body.WrittenSpan, batch, credentials, out var requests) is { } refusal)
        {
            return await AnswerProblemAsync(refusal).ConfigureAwait(false);
        }

        if (!await new BatchRunner(_runtime, this).RunAsync(requests, credentials, batch.MaxConcurrency, aborted).ConfigureAwait(false))
        {
            _connection.ResetStream(this, Http2ErrorCode.InternalError);
            return false;
        }

        return true;
    }

    /// <summary>Reads the request body whole from the stream's body pipe, bounded by max_request_body.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<BodyCopy> ReadBatchBodyAsync(LimitsModel limits, ArrayBufferWriter<byte> body)
    {
        while (await ReadBodyAsync(limits.IdleTimeout).ConfigureAwait(false) is { } result)
        {
            var buffer = result.Buffer;
            if (body.WrittenCount + buffer.Length > limits.MaxRequestBody)
            {
                _body.Reader.AdvanceTo(buffer.Start, buffer.End);
                return BodyCopy.TooLarge;
            }

            foreach (var segment in buffer)
            {
                body.Write(segment.Span);
            }

            bool done = result.IsCompleted;
            if (!ConsumeBody(result))
            {
                break;
            }

            if (done)
            {
                return BodyCopy.Complete;
            }
        }

        return BodyCopy.ClientFailed;
    }

    void IStreamingBodySink.StartResponse()
    {
        if (!_connection.BeginHeaders(this))
        {
            _composedFailed = true;
            return;
        }

        try
        {
            // No content-length: the body's end is END_STREAM (RFC 9113 section 8.1).
            _connection.EncodeStatus(200);
            _connection.EncodeField("content-type"u8, "application/json"u8);
            _connection.EncodeField("x-request-id"u8, RequestId);
        }
        finally
        {
            _connection.EndHeaders(this, endStream: false);
        }

        _runtime.Metrics.OnResponse(200);
    }

    void IStreamingBodySink.Write(ReadOnlySpan<byte> data)
    {
        // A HEAD gets the head a GET would, and no content (RFC 9110 section 9.3.2): END_STREAM alone ends it.
        if (!_request.IsHead)
        {
            _composed!.Write(data);
        }
    }

    ValueTask<bool> IStreamingBodySink.FlushAsync() => SendComposedAsync(endStream: false);

    ValueTask<bool> IStreamingBodySink.CompleteAsync() => SendComposedAsync(endStream: true);

    /// <summary>What the composer wrote, as DATA frames as the windows allow; END_STREAM with the last.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> SendComposedAsync(bool endStream)
    {
        var pending = _composed!;
        if (_composedFailed || (pending.WrittenCount == 0 && !endStream))
        {
            return !_composedFailed;
        }

        // The connection copies the bytes into its output before it returns: the buffer is free again.
        bool sent = await _connection.WriteDataAsync(this, new ReadOnlySequence<byte>(pending.WrittenMemory), endStream, _runtime.Active.Model.Limits.IdleTimeout).ConfigureAwait(false);
        pending.ResetWrittenCount();
        _composedFailed = !sent;
        return sent;
    }
}
