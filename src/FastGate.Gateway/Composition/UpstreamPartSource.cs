using System.Buffers;
using FastGate.Gateway.Model;
using FastGate.Gateway.Upstream;
using FastGate.Protocols.Buffers;
using FastGate.Protocols.Http1;

namespace FastGate.Gateway.Composition;

/// <summary>
/// What every part of one aggregate request shares: the client's path (the parameters' source), its
/// query, and the field lines each part carries (Authorization, forwarded claims, X-Forwarded-*,
/// X-Request-Id, traceparent), rendered once.
/// </summary>
internal sealed class PartRequest(byte[] path, Routing.RouteValues values, byte[] query, byte[] commonFields)
{
    /// <summary>The normalized request path the route values point into.</summary>
    public byte[] Path { get; } = path;

    public Routing.RouteValues Values { get; } = values;

    /// <summary>The client's query with its '?', or empty.</summary>
    public byte[] Query { get; } = query;

    /// <summary>Complete "Name: value\r\n" lines.</summary>
    public byte[] CommonFields { get; } = commonFields;
}

/// <summary>
/// One part's HTTP/1.1 exchange over the upstream's pool and balancer: the request goes out with the
/// part's method and filled path, the answer's head is read with the strict parser, and the body is
/// handed out de-chunked, straight from the connection's receive pipe (nothing is copied here).
/// </summary>
internal sealed class UpstreamPartSource(UpstreamState upstream, AggregatePartModel part, PartRequest request, byte[] hashKey) : PartSource
{
    private readonly ResponseHead _head = new();
    private UpstreamConnection? _connection;
    private EndpointState? _endpoint;
    private ResponseFraming _framing;
    private long _remaining;
    private Http1ChunkedDecoder _decoder;
    private ReadOnlySequence<byte> _held;
    private long _pending;
    private bool _ended;

    public override async ValueTask<PartHead> StartAsync(CancellationToken cancellationToken)
    {
        EndpointState? failedEndpoint = null;
        var lastFailure = UpstreamFailure.None;
        int connectAttemptsLeft = upstream.Model.Endpoints.Count;
        bool staleRetryUsed = false;
        while (true)
        {
            var endpoint = upstream.Pick(new BalanceContext(hashKey), failedEndpoint);
            if (endpoint is null)
            {
                return Failed(lastFailure is UpstreamFailure.ConnectRefused or UpstreamFailure.ConnectTimeout ? PartFailure.Unreachable : PartFailure.Unavailable);
            }

            var lease = await endpoint.Pool.LeaseAsync(cancellationToken).ConfigureAwait(false);
            if (lease.Connection is not { } connection)
            {
                lastFailure = lease.Failure;
                if (lastFailure is UpstreamFailure.ConnectRefused or UpstreamFailure.ConnectTimeout)
                {
                    // A refused connection costs nothing yet: try another endpoint.
                    endpoint.MarkDown();
                    failedEndpoint = endpoint;
                    if (--connectAttemptsLeft > 0)
                    {
                        continue;
                    }

                    return Failed(PartFailure.Unreachable);
                }

                return Failed(PartFailure.Unavailable);
            }

            _connection = connection;
            _endpoint = endpoint;
            endpoint.OnRequestStart();
            var status = await ExchangeHeadAsync(connection, cancellationToken).ConfigureAwait(false);
            if (status == HeadRead.Final)
            {
                _framing = _head.Framing(requestWasHead: false);
                _remaining = _head.ContentLength;
                return new PartHead(_head.StatusCode, PartFailure.None);
            }

            Release(clean: false);
            // A reused keep-alive connection may have been closed by the upstream just as the request went
            // out; one retry on a fresh connection is safe: the part's request has no body and nothing of
            // its answer was seen.
            if (status == HeadRead.NoResponse && connection.IsReused && !staleRetryUsed)
            {
                staleRetryUsed = true;
                continue;
            }

            return Failed(PartFailure.BadAnswer);
        }
    }

    private static PartHead Failed(PartFailure failure) => new(0, failure);

    private enum HeadRead : byte
    {
        Final,
        NoResponse,
        Bad,
    }

    private async ValueTask<HeadRead> ExchangeHeadAsync(UpstreamConnection connection, CancellationToken cancellationToken)
    {
        WriteRequest(connection.Output, connection.Endpoint.Model);
        try
        {
            var flush = await connection.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (flush.IsCanceled || flush.IsCompleted)
            {
                return HeadRead.NoResponse;
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException)
        {
            return HeadRead.NoResponse;
        }

        var input = connection.Input;
        _head.Begin(ResponseHeadReading.MaxHead);
        var reading = new ResponseHeadReading(_head, afterInterim: false);
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (result.IsCanceled)
            {
                // A cancel meant for an earlier user of this pooled connection; read again.
                input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                continue;
            }

            switch (reading.Read(input, result))
            {
                case ResponseHeadStep.NeedMore:
                    continue;
                case ResponseHeadStep.NoResponse:
                    return HeadRead.NoResponse;
                case ResponseHeadStep.Malformed or ResponseHeadStep.Truncated:
                    return HeadRead.Bad;
            }

            if (_head.StatusCode == 101)
            {
                return HeadRead.Bad;
            }

            if (_head.StatusCode >= 200)
            {
                return HeadRead.Final;
            }

            // Interim answers (RFC 9110 section 15.2) mean nothing to a merged answer.
            _head.Reset();
            reading = new ResponseHeadReading(_head, afterInterim: true);
        }
    }

    private void WriteRequest(IBufferWriter<byte> output, EndpointModel endpoint)
    {
        var cursor = new BufferCursor(output, 1024);
        cursor.Write(part.Method);
        cursor.Write((byte)' ');

        // The filled template is never longer than the template plus the captured bytes (part of the path);
        // a query value may grow threefold when '&', '=' and '+' are escaped.
        var span = cursor.Reserve(part.Path.Text.Length + (3 * request.Path.Length) + 16);
        int written = part.Path.Write(span, request.Path, request.Values);
        cursor.Advance(written < 0 ? 0 : written);
        if (request.Query.Length > 0)
        {
            if (part.Path.HasQuery)
            {
                cursor.Write((byte)'&');
                cursor.Write(request.Query.AsSpan(1));
            }
            else
            {
                cursor.Write(request.Query);
            }
        }

        cursor.Write(" HTTP/1.1\r\nHost: "u8);
        cursor.Write(endpoint.AuthorityBytes);
        cursor.Write("\r\n"u8);
        cursor.Write(request.CommonFields);
        cursor.Write("\r\n"u8);
        cursor.Commit();
    }

    public override async ValueTask<PartRead> ReadAsync(CancellationToken cancellationToken)
    {
        if (_ended || _framing == ResponseFraming.NoBody || (_framing == ResponseFraming.ContentLength && _remaining == 0 && _pending == 0))
        {
            _ended = true;
            return new PartRead(PartReadStatus.End, default);
        }

        var input = _connection!.Input;
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (result.IsCanceled)
            {
                input.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }

            if (_pending > 0)
            {
                // The rest of data handed out before, at the start of the unconsumed bytes.
                _held = buffer.Slice(0, _pending);
                return new PartRead(PartReadStatus.Data, _held);
            }

            switch (_framing)
            {
                case ResponseFraming.ContentLength:
                    if (!buffer.IsEmpty)
                    {
                        _held = buffer.Slice(0, Math.Min(buffer.Length, _remaining));
                        _remaining -= _held.Length;
                        _pending = _held.Length;
                        return new PartRead(PartReadStatus.Data, _held);
                    }

                    break;
                case ResponseFraming.Chunked:
                    var reader = new SequenceReader<byte>(buffer);
                    Http1ChunkedStatus status;
                    ReadOnlySequence<byte> data;
                    try
                    {
                        status = _decoder.Read(ref reader, out data);
                    }
                    catch (Http1ParseException)
                    {
                        input.AdvanceTo(buffer.Start, buffer.End);
                        return new PartRead(PartReadStatus.Failed, default, PartFailure.BadAnswer);
                    }

                    if (status == Http1ChunkedStatus.Data)
                    {
                        // The chunk line before the data is consumed with the data's first bytes.
                        _held = data;
                        _pending = data.Length;
                        return new PartRead(PartReadStatus.Data, _held);
                    }

                    if (status == Http1ChunkedStatus.Completed)
                    {
                        input.AdvanceTo(reader.Position);
                        _ended = true;
                        return new PartRead(PartReadStatus.End, default);
                    }

                    input.AdvanceTo(reader.Position, buffer.End);
                    if (result.IsCompleted)
                    {
                        return new PartRead(PartReadStatus.Failed, default, PartFailure.BadAnswer);
                    }

                    continue;
                default:
                    if (!buffer.IsEmpty)
                    {
                        _held = buffer;
                        _pending = buffer.Length;
                        return new PartRead(PartReadStatus.Data, _held);
                    }

                    if (result.IsCompleted)
                    {
                        input.AdvanceTo(buffer.End);
                        _ended = true;
                        return new PartRead(PartReadStatus.End, default);
                    }

                    break;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                // Closed before the declared end of the body.
                return new PartRead(PartReadStatus.Failed, default, PartFailure.BadAnswer);
            }
        }
    }

    public override void Consume(long count)
    {
        // Examined = consumed: when data is left, the next read returns at once with it.
        _connection!.Input.AdvanceTo(_held.GetPosition(count));
        _pending -= count;
        _held = default;
    }

    public override void Finish(bool clean) => Release(clean);

    private void Release(bool clean)
    {
        if (_connection is { } connection)
        {
            _endpoint!.OnRequestEnd();
            var pool = connection.Endpoint.Pool;
            if (clean && _ended && _framing != ResponseFraming.CloseDelimited && _head.AllowsReuse)
            {
                pool.Return(connection);
            }
            else
            {
                pool.Discard(connection);
            }

            _connection = null;
        }

        _head.Release();
    }
}
