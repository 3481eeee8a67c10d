using System.Buffers;

namespace FastGate.Gateway.Composition;

/// <summary>
/// Where a composed answer (the merged object of an aggregate, the array of a batch) goes: the sink
/// owns the protocol. The composers produce body bytes only; the HTTP/1.1 sink frames them as chunks,
/// an HTTP/2 sink as DATA frames.
/// </summary>
internal interface IStreamingBodySink
{
    /// <summary>Writes the head of a 200 answer with <c>Content-Type: application/json</c> whose body streams.</summary>
    void StartResponse();

    /// <summary>Body bytes; the sink may frame each call on its own.</summary>
    void Write(ReadOnlySpan<byte> data);

    /// <summary>Sends what was written. False when the client is gone or too slow.</summary>
    ValueTask<bool> FlushAsync();

    /// <summary>Ends the body and sends it. False when the client is gone.</summary>
    ValueTask<bool> CompleteAsync();
}

/// <summary>Why a part is null in the merged answer; the reason written in <c>_errors</c>.</summary>
internal enum PartFailure : byte
{
    None,
    /// <summary>The answer's status is not 2xx (its status is reported, not a reason).</summary>
    Status,
    /// <summary>Not one well-formed JSON value.</summary>
    NotJson,
    /// <summary>One JSON token (a string or number) longer than the part's window.</summary>
    TokenTooLarge,
    /// <summary>No answer before the aggregate_timeout, or the answer stalled.</summary>
    Timeout,
    /// <summary>No endpoint accepted a connection.</summary>
    Unreachable,
    /// <summary>No endpoint is available, or every connection is busy.</summary>
    Unavailable,
    /// <summary>An invalid head, or a connection closed or reset in the middle of the answer.</summary>
    BadAnswer,
    /// <summary>The whole request was given up (the client left, or a required part failed).</summary>
    Cancelled,
}

internal readonly record struct PartHead(int Status, PartFailure Failure);

internal enum PartReadStatus : byte
{
    Data,
    End,
    Failed,
}

/// <summary>Decoded body bytes of a part, valid until <see cref="PartSource.Consume"/> or the next read.</summary>
internal readonly record struct PartRead(PartReadStatus Status, ReadOnlySequence<byte> Data, PartFailure Failure = PartFailure.None);

/// <summary>
/// One part's exchange: sends the request, reads the answer's head, then hands out its body decoded
/// (de-chunked), in the order it arrives. Protocol-neutral for the merger: an HTTP/1.1 upstream, an
/// HTTP/2 stream or bytes in memory.
/// </summary>
internal abstract class PartSource
{
    public abstract ValueTask<PartHead> StartAsync(CancellationToken cancellationToken);

    /// <summary>The next body bytes, at least one unless the status says otherwise.</summary>
    public abstract ValueTask<PartRead> ReadAsync(CancellationToken cancellationToken);

    /// <summary>Takes <paramref name="count"/> bytes from the start of the last read's data.</summary>
    public abstract void Consume(long count);

    /// <summary>The exchange is over; after a clean, complete answer its connection may be reused.</summary>
    public abstract void Finish(bool clean);
}
