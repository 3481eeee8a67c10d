using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using FastGate.Gateway.Async;
using FastGate.Gateway.Composition;
using FastGate.Gateway.Model;
using FastGate.Gateway.Pipeline;
using FastGate.Gateway.Routing;
using FastGate.Protocols.Buffers;
using FastGate.Protocols.Http1;
using FastGate.Protocols.Text;

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
        _composedChunked = _request.Version == Http1Version.Http11;
        // A HEAD gets the head a GET would, and no body (RFC 9110 section 9.3.2).
        _composedHead = _request.IsHead;
        _composedKeepAlive = _composedChunked && ClientWantsKeepAlive && !_closeRequested && !_runtime.IsStopping;
        return route.Action == RouteAction.Aggregate
            ? AggregateAsync(model, route.Aggregate!, values)
            : BatchAsync(model, route.Batch!);
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> AggregateAsync(GatewayModel model, AggregateModel aggregate, RouteValues values)
    {
        // The parts carry no body; a body the client sent is not read, so the connection cannot go on.
        _composedKeepAlive &= !_request.HasBody;
        var request = new PartRequest(_request.Path.ToArray(), values, _request.Query.ToArray(), CommonPartFields());
        var parts = new MergePart[aggregate.Parts.Count];
        for (int i = 0; i < parts.Length; i++)
        {
            var part = aggregate.Parts[i];
            var upstream = _runtime.Upstreams.Get(part.Upstream);
            var source = new UpstreamPartSource(upstream, part, request, _peer.HashKey(upstream.Model, _request).ToArray());
            parts[i] = new MergePart(part.MemberPrefix, part.KeyJson, part.Required, source);
        }

        var result = await new ResponseMerger(this).RunAsync(parts, aggregate.Timeout, model.Limits.IdleTimeout, _context.ConnectionClosed).ConfigureAwait(false);

        switch (result.Outcome)
        {
            case MergeOutcome.Completed:
                return _composedKeepAlive;
            case MergeOutcome.RequiredPartFailed:
                var failed = aggregate.Parts[result.FailedPart];
                var detail = result.FailedHead.Failure == PartFailure.Status
                    ? $"Required part '{failed.Key}' failed: the upstream answered {result.FailedHead.Status}."
                    : $"Required part '{failed.Key}' failed: {Encoding.ASCII.GetString(ResponseMerger.ReasonOf(result.FailedHead.Failure))}.";
                bool keepAlive = CanKeepAliveAfterProblem;
                ProblemResponse.WriteWithDetail(_output, GatewayProblem.RequiredPartFailed, RequestId, close: !keepAlive, Encoding.ASCII.GetBytes(detail));
                _runtime.Metrics.OnResponse(502);
                return await FlushAndContinueAsync(keepAlive).ConfigureAwait(false);
            default:
                // Whatever reached the client must not look complete.
                _context.Abort();
                return false;
        }
    }

    /// <summary>
    /// The field lines every part carries, rendered once: the client's Authorization, the forwarded
    /// claims of its validated token, X-Forwarded-*, X-Request-Id and traceparent.
    /// </summary>
    private byte[] CommonPartFields()
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        var cursor = new BufferCursor(buffer, 512);
        var authorization = _request.Find(KnownHeader.Authorization);
        if (!authorization.IsEmpty)
        {
            cursor.WriteField("Authorization"u8, authorization);
        }

        if (_phases.ValidatedClaims is { } claims && _policy is { } policy)
        {
            Span<byte> value = stackalloc byte[512];
            foreach (var forwarded in policy.ForwardClaims)
            {
                if (claims.Claims.TryGetClaim(forwarded.Claim, out var claim) && claim.TryWriteHeaderValue(value, out int written))
                {
                    cursor.WriteField(forwarded.Header, value[..written]);
                }
            }
        }

        // X-Forwarded-For: a trusted proxy's list is extended, anyone else's is replaced.
        cursor.Write("X-Forwarded-For: "u8);
        if (_peer.IsTrustedProxy && _request.ForwardedForIndex >= 0)
        {
            for (int i = _request.ForwardedForIndex; i < _request.HeaderCount; i++)
            {
                if (_request.Header(i).Kind == KnownHeader.XForwardedFor)
                {
                    cursor.Write(_request.HeaderValue(i));
                    cursor.Write(", "u8);
                }
            }
        }

        cursor.Write(_peer.Text);
        cursor.Write(_request.IsHttps ? "\r\nX-Forwarded-Proto: https\r\n"u8 : "\r\nX-Forwarded-Proto: http\r\n"u8);
        if (!_request.Authority.IsEmpty)
        {
            cursor.WriteField("X-Forwarded-Host"u8, _request.Authority);
        }

        cursor.WriteField("X-Request-Id"u8, RequestId);
        if (_request.TraceparentIndex >= 0)
        {
            cursor.WriteField("traceparent"u8, _request.HeaderValue(_request.TraceparentIndex));
        }

        cursor.Write("Accept: application/json\r\n"u8);
        cursor.Commit();
        return buffer.WrittenSpan.ToArray();
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
