using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using FastGate.Gateway.Async;
using FastGate.Gateway.Model;
using FastGate.Gateway.Pipeline;
using FastGate.Gateway.Routing;
using FastGate.Gateway.Upstream;
using FastGate.Protocols.Buffers;
using FastGate.Protocols.Http1;
using FastGate.Protocols.Text;

namespace FastGate.Gateway.Server;

internal sealed partial class Http1Connection
{
    // What the current request's exchange needs; set before forwarding (the pooled forwarder calls back).



    private bool ClientWantsKeepAlive =>
        !Request.ConnectionClose && (Request.Version == Http1Version.Http11 || Request.ConnectionKeepAlive);

    private bool IsUpgradeRequest => Request.IsUpgrade;

    /// <summary>
    /// A chunked request body is checked whole before anything goes upstream. Null when it may be
    /// forwarded; otherwise whether the connection goes on after the refusal.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool?> RefuseBadChunkedBodyAsync(LimitsModel limits)
    {
        var check = await PrevalidateChunkedBodyAsync(limits).ConfigureAwait(false);
        if (check == BodyCheck.Valid)
        {
            return null;
        }

        return check == BodyCheck.Closed
            ? false
            : await RejectAsync(check == BodyCheck.TooLarge ? GatewayProblem.BodyTooLarge : GatewayProblem.MalformedRequest).ConfigureAwait(false);
    }

    ReadOnlySpan<byte> IUpstreamExchange.HashKey(UpstreamModel upstream) => _peer.HashKey(upstream, Request);

    ValueTask<BodyCopy> IUpstreamExchange.SendBodyAsync(UpstreamConnection connection) =>
        SendRequestBodyAsync(State.Forwarder.Model!.Limits, connection);

    /// <summary>One attempt: request out, response back.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    public async ValueTask<ExchangeResult> ExchangeAsync(UpstreamConnection connection)
    {
        var model = State.Forwarder.Model!;
        var pool = connection.Endpoint.Pool;
        State.Forwarder.WriteRequestHead(connection, Request, _peer, RequestId, _policy, State.Phases.ValidatedClaims);

        if (await State.Forwarder.SendRequestAsync(connection, Request, this).ConfigureAwait(false) is { } failed)
        {
            return failed;
        }

        // The response head: interim 1xx answers are relayed (or dropped) until the final one.
        Response.Begin(UpstreamForwarder.MaxResponseHead);
        State.Forwarder.BeginResponseHead(Response, afterInterim: false);
        ResponseHeadStatus? read;
        while ((read = await State.Forwarder.ReadResponseHeadPart(connection.Input)) is null)
        {
        }

        var head = read.Value;
        if (head == ResponseHeadStatus.Interim)
        {
            head = await ReadAfterInterimAsync(connection).ConfigureAwait(false);
        }

        if (head != ResponseHeadStatus.Final)
        {
            pool.Discard(connection);
            return State.Forwarder.OnHeadFailure(head, mayRetry: !Request.HasBody && Request.IsIdempotent);
        }

        // The route timeout bounds the wait for the response head; the body is bounded per read.
        State.Forwarder.Disarm();

        if (Response.StatusCode == 101)
        {
            if (!IsUpgradeRequest)
            {
                pool.Discard(connection);
                return State.Forwarder.Fail(GatewayProblem.BadUpstreamAnswer, UpstreamFailure.MalformedResponse);
            }

            await TunnelAsync(connection).ConfigureAwait(false);
            return ExchangeResult.Abort;
        }

        var framing = Response.Framing(Request.IsHead);
        bool clientKeepAlive = ClientWantsKeepAlive && !_closeRequested && !_runtime.IsStopping;
        // An HTTP/1.0 client cannot receive chunked: a body of unknown length ends with the connection.
        bool chunkToClient = framing is ResponseFraming.Chunked or ResponseFraming.CloseDelimited;
        if (chunkToClient && Request.Version == Http1Version.Http10)
        {
            chunkToClient = false;
            clientKeepAlive = false;
        }

        TapResponseHead();
        WriteResponseHead(framing, chunkToClient, clientKeepAlive);
        _runtime.Metrics.OnResponse(Response.StatusCode);

        var copy = await RelayResponseBodyAsync(model.Limits, connection, framing, chunkToClient).ConfigureAwait(false);
        if (copy != BodyCopy.Complete)
        {
            pool.Discard(connection);
            if (copy == BodyCopy.UpstreamFailed)
            {
                _runtime.Metrics.OnUpstreamFailure(UpstreamFailure.ResponseBodyFailed);
            }

            // Whatever reached the client must not look complete: the connection ends without the
            // final chunk or the rest of the declared length.
            _context.Abort();
            return ExchangeResult.Abort;
        }

        CompleteCacheFill();
        if (framing != ResponseFraming.CloseDelimited && Response.AllowsReuse)
        {
            pool.Return(connection);
        }
        else
        {
            pool.Discard(connection);
        }

        return clientKeepAlive ? ExchangeResult.CompletedKeepAlive : ExchangeResult.CompletedClose;
    }

    private void WriteResponseHead(ResponseFraming framing, bool chunkToClient, bool keepAlive)
    {
        var cursor = new BufferCursor(_output, 1024);
        WriteStatusLine(ref cursor);
        WriteResponseFields(ref cursor);

        switch (framing)
        {
            case ResponseFraming.ContentLength:
                cursor.Write("Content-Length: "u8);
                cursor.WriteDecimal(Response.ContentLength);
                cursor.Write("\r\n"u8);
                break;
            case ResponseFraming.NoBody:
                // A HEAD or 304 answer may state the length the body would have (RFC 9110 sections
                // 8.6 and 15.4.5); a 204 never does.
                if (Response.ContentLength >= 0 && Response.StatusCode != 204 && Response.StatusCode >= 200)
                {
                    cursor.Write("Content-Length: "u8);
                    cursor.WriteDecimal(Response.ContentLength);
                    cursor.Write("\r\n"u8);
                }

                break;
            default:
                if (chunkToClient)
                {
                    cursor.Write("Transfer-Encoding: chunked\r\n"u8);
                }

                break;
        }

        if (_policy?.Cache is not null)
        {
            cursor.Write("X-Cache: MISS\r\n"u8);
        }

        if (!keepAlive)
        {
            cursor.Write("Connection: close\r\n"u8);
        }
        else if (Request.Version == Http1Version.Http10)
        {
            cursor.Write("Connection: keep-alive\r\n"u8);
        }

        cursor.Write("\r\n"u8);
        cursor.Commit();
    }

    private void WriteStatusLine(ref BufferCursor cursor)
    {
        cursor.Write("HTTP/1.1 "u8);
        cursor.WriteDecimal(Response.StatusCode);
        cursor.Write((byte)' ');
        cursor.Write(Response.ReasonPhrase);
        cursor.Write("\r\n"u8);
    }

    private void WriteResponseFields(ref BufferCursor cursor)
    {
        for (int i = 0; i < Response.HeaderCount; i++)
        {
            if (!Response.StaysBehind(i))
            {
                cursor.WriteField(Response.HeaderName(i), Response.HeaderValue(i));
            }
        }
    }
}
