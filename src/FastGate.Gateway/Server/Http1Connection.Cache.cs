using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using FastGate.Gateway.Async;
using FastGate.Gateway.Pipeline;
using FastGate.Gateway.Traffic;
using FastGate.Protocols.Buffers;
using FastGate.Protocols.Http1;
using FastGate.Protocols.Text;

namespace FastGate.Gateway.Server;

/// <summary>
/// The response cache on the request path: a fresh entry is answered from memory; the first miss
/// of a key leads a fill that taps the upstream answer as it streams to the client; concurrent misses
/// of that key wait for it (bounded) instead of all going upstream.
/// </summary>
internal sealed partial class Http1Connection
{
    /// <summary>Answers from the cache when a fresh entry exists.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<CacheOutcome> TryAnswerFromCacheAsync(RoutePolicy policy)
    {
        var entry = await State.Cache.FindAsync(policy, Request).ConfigureAwait(false);
        if (entry is null)
        {
            return CacheOutcome.Miss;
        }

        bool keepAlive = CanKeepAliveAfterProblem;
        WriteCachedResponse(_output, entry, keepAlive, Request.Version == Http1Version.Http10, Request.IsHead, RequestId, Stopwatch.GetTimestamp());
        _runtime.Metrics.OnResponse(entry.StatusCode);
        var flush = await _output.FlushAsync().ConfigureAwait(false);
        return keepAlive && !flush.IsCompleted && !flush.IsCanceled ? CacheOutcome.AnsweredKeepAlive : CacheOutcome.AnsweredClose;
    }

    private enum CacheOutcome : byte
    {
        Miss,
        AnsweredKeepAlive,
        AnsweredClose,
    }

    /// <summary>The HTTP/1.1 answer from a cache entry: its status and stored fields, then Content-Length, Age
    /// (RFC 9111 section 5.1), X-Cache and the request id; the body unless the request is HEAD.</summary>
    /// <param name="now">a <see cref="Stopwatch"/> timestamp, for Age</param>
    internal static void WriteCachedResponse(IBufferWriter<byte> output, CacheEntry entry, bool keepAlive, bool http10, bool isHead, ReadOnlySpan<byte> requestId, long now)
    {
        var cursor = new BufferCursor(output, 512 + entry.HeaderLines.Length);
        Span<byte> scratch = stackalloc byte[32];
        cursor.Write(Http1HeadWriter.StatusLine(entry.StatusCode, scratch));
        cursor.Write(entry.HeaderLines);
        cursor.Write("Content-Length: "u8);
        cursor.WriteDecimal(entry.Body.Length);
        cursor.Write("\r\nAge: "u8);
        if (entry.TryWriteAge(now, scratch, out int written))
        {
            cursor.Write(scratch[..written]);
        }

        cursor.Write("\r\nX-Cache: HIT\r\n"u8);
        cursor.WriteField("X-Request-Id"u8, requestId);
        if (!keepAlive)
        {
            cursor.Write("Connection: close\r\n"u8);
        }
        else if (http10)
        {
            cursor.Write("Connection: keep-alive\r\n"u8);
        }

        cursor.Write("\r\n"u8);
        if (!isHead)
        {
            cursor.Write(entry.Body);
        }

        cursor.Commit();
    }

    private void TapResponseHead() => State.Cache.TapHead(Response);

    private void TapResponseBody(in ReadOnlySequence<byte> data) => State.Cache.TapBody(data);

    private void CompleteCacheFill() => State.Cache.Complete();

    private void AbandonCacheFill() => State.Cache.Abandon();
}
