using System.Buffers;
using System.Runtime.CompilerServices;
using FastGate.Gateway.Async;
using FastGate.Gateway.Composition;
using FastGate.Gateway.Model;
using FastGate.Gateway.Pipeline;
using FastGate.Gateway.Routing;
using FastGate.Protocols.Buffers;
using FastGate.Protocols.Http1;

namespace FastGate.Gateway.Server;

/// <summary>
/// The composition actions on HTTP/1.1: aggregate routes (the merger streams the merged object) and
/// batch routes. The connection is the merger's sink: the composed body goes out chunked (or, to an
/// HTTP/1.0 client, delimited by the close).
/// </summary>
internal sealed partial class Http1Connection : IStreamingBodySink
{
    private bool _composedChunked;
    private bool _composedKeepAlive;
    private bool _composedHead;
    private LimitsModel? _composedLimits;

    /// <summary>Runs the action of an aggregate or batch route. False when the connection must close.</summary>
    private ValueTask<bool> ComposeAsync(GatewayModel model, RouteModel route, RouteValues values)
    {
        _composedLimits = model.Limits;
        _composedChunked = Request.Version == Http1Version.Http11;
        // A HEAD gets the head a GET would, and no body (RFC 9110 section 9.3.2).
        _composedHead = Request.IsHead;
        _composedKeepAlive = _composedChunked && ClientWantsKeepAlive && !_closeRequested && !_runtime.IsStopping;
        return route.Action == RouteAction.Aggregate
            ? AggregateAsync(model, route.Aggregate!, values)
            : BatchAsync(model, route.Batch!);
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> AggregateAsync(GatewayModel model, AggregateModel aggregate, RouteValues values)
    {
        // The parts carry no body; a body the client sent is not read, so the connection cannot go on.
        _composedKeepAlive &= !Request.HasBody;
        var commonFields = CompositionRequest.CommonPartFields(Request, _peer, _policy, State.Phases.ValidatedClaims, RequestId);
        var parts = CompositionRequest.Parts(_runtime, aggregate, Request, values, _peer, commonFields);

        var result = await new ResponseMerger(this).RunAsync(parts, aggregate.Timeout, model.Limits.IdleTimeout, _context.ConnectionClosed).ConfigureAwait(false);

        switch (result.Outcome)
        {
            case MergeOutcome.Completed:
                return _composedKeepAlive;
            case MergeOutcome.RequiredPartFailed:
                bool keepAlive = CanKeepAliveAfterProblem;
                ProblemResponse.WriteWithDetail(_output, GatewayProblem.RequiredPartFailed, RequestId, close: !keepAlive, CompositionRequest.FailedPartDetail(aggregate, result));
                _runtime.Metrics.OnResponse(502);
                return await FlushAndContinueAsync(keepAlive).ConfigureAwait(false);
            default:
                // Whatever reached the client must not look complete.
                _context.Abort();
                return false;
        }
    }

    void IStreamingBodySink.StartResponse()
    {
        var cursor = new BufferCursor(_output, 256);
        cursor.Write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"u8);
        if (_composedChunked)
        {
            cursor.Write("Transfer-Encoding: chunked\r\n"u8);
        }

        if (!_composedKeepAlive)
        {
            cursor.Write("Connection: close\r\n"u8);
        }

        cursor.WriteField("X-Request-Id"u8, RequestId);
        cursor.Write("\r\n"u8);
        cursor.Commit();
        _runtime.Metrics.OnResponse(200);
    }

    void IStreamingBodySink.Write(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty || _composedHead)
        {
            // An empty chunk would end a chunked body (RFC 9112 section 7.1).
            return;
        }

        if (_composedChunked)
        {
            Http1HeadWriter.WriteChunkHeader(_output, data.Length);
            _output.Write(data);
            _output.Write("\r\n"u8);
        }
        else
        {
            _output.Write(data);
        }
    }

    ValueTask<bool> IStreamingBodySink.FlushAsync() => FlushClientAsync(_composedLimits!);

    ValueTask<bool> IStreamingBodySink.CompleteAsync()
    {
        if (_composedChunked && !_composedHead)
        {
            Http1HeadWriter.WriteChunkTerminator(_output);
        }

        return FlushClientAsync(_composedLimits!);
    }
}
