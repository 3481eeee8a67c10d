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
    // How long a coalesced miss waits for the leading request before going upstream itself.
    private static readonly TimeSpan CacheWaitTimeout = TimeSpan.FromSeconds(5);

    private CacheFill? _cacheFill;
    private CacheRoutePolicy? _cacheRoute;

    private enum CacheStep : byte
    {
        Bypass,
        Served,
        Fill,
        Wait,
    }

    /// <summary>True when the request was answered from the cache.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<CacheOutcome> TryAnswerFromCacheAsync(RoutePolicy policy)
    {
        var step = Lookup(policy, out var entry, out var fill);
        if (step == CacheStep.Wait)
        {
            entry = await fill!.WaitAsync(CacheWaitTimeout).ConfigureAwait(false);
            if (entry is null)
            {
                return CacheOutcome.Miss;
            }

            step = CacheStep.Served;
        }

        if (step == CacheStep.Fill)
        {
            _cacheFill = fill;
            _cacheRoute = policy.Cache;
            return CacheOutcome.Miss;
        }

        if (step != CacheStep.Served)
        {
            return CacheOutcome.Miss;
        }

        bool keepAlive = CanKeepAliveAfterProblem;
        WriteCachedResponse(entry!, keepAlive);
        _runtime.Metrics.OnResponse(entry!.StatusCode);
        var flush = await _output.FlushAsync().ConfigureAwait(false);
        return keepAlive && !flush.IsCompleted && !flush.IsCanceled ? CacheOutcome.AnsweredKeepAlive : CacheOutcome.AnsweredClose;
    }

    private enum CacheOutcome : byte
    {
        Miss,
        AnsweredKeepAlive,
        AnsweredClose,
    }

    private CacheStep Lookup(RoutePolicy policy, out CacheEntry? entry, out CacheFill? fill)
    {
        entry = null;
        fill = null;
        var route = policy.Cache!;
        var cache = policy.CacheStore!;
        var authorization = _request.Find(KnownHeader.Authorization);
        if (!route.ShouldUseCache(_request.Method, !authorization.IsEmpty, _request.Find("cache-control"u8)))
        {
            return CacheStep.Bypass;
        }

        var builder = new CacheKeyBuilder(stackalloc byte[1024]);
        builder.Begin(_request.Method, _request.Authority, _request.Path, _request.Query);
        foreach (var name in route.VaryNames)
        {
            builder.BeginVary();
            for (int i = 0; i < _request.HeaderCount; i++)
            {
                if (Ascii8.EqualsIgnoreCase(_request.HeaderName(i), name))
                {
                    builder.AddVaryValue(_request.HeaderValue(i));
                }
            }
        }

        if (builder.Overflowed)
        {
            return CacheStep.Bypass;
        }

        var key = builder.Build(cache);
        return cache.Lookup(key, Stopwatch.GetTimestamp(), out entry, out fill) switch
        {
            CacheLookup.Hit => CacheStep.Served,
            CacheLookup.Fill => CacheStep.Fill,
            _ => CacheStep.Wait,
        };
    }

    private void WriteCachedResponse(CacheEntry entry, bool keepAlive)
    {
        var cursor = new BufferCursor(_output, 512 + entry.HeaderLines.Length);
        Span<byte> scratch = stackalloc byte[32];
        cursor.Write(Http1HeadWriter.StatusLine(entry.StatusCode, scratch));
        cursor.Write(entry.HeaderLines);
        cursor.Write("Content-Length: "u8);
        cursor.WriteDecimal(entry.Body.Length);
        cursor.Write("\r\nAge: "u8);
        if (entry.TryWriteAge(Stopwatch.GetTimestamp(), scratch, out int written))
        {
            cursor.Write(scratch[..written]);
        }

        cursor.Write("\r\nX-Cache: HIT\r\n"u8);
        cursor.WriteField("X-Request-Id"u8, RequestId);
        if (!keepAlive)
        {
            cursor.Write("Connection: close\r\n"u8);
        }
        else if (_request.Version == Http1Version.Http10)
        {
            cursor.Write("Connection: keep-alive\r\n"u8);
        }

        cursor.Write("\r\n"u8);
        if (!_request.IsHead)
        {
            cursor.Write(entry.Body);
        }

        cursor.Commit();
    }

    /// <summary>Feeds the fill the upstream's response head; false when the answer is not to be stored.</summary>
    private void TapResponseHead()
    {
        if (_cacheFill is not { } fill)
        {
            return;
        }

        fill.SetStatus(_response.StatusCode, Stopwatch.GetTimestamp());
        for (int i = 0; i < _response.HeaderCount; i++)
        {
            fill.AddHeader(_response.HeaderName(i), _response.HeaderValue(i));
        }

        if (fill.EndHead(_cacheRoute!, !_request.Find(KnownHeader.Authorization).IsEmpty) != CacheStoreVerdict.Store)
        {
            AbandonCacheFill();
        }
    }

    private void TapResponseBody(in ReadOnlySequence<byte> data)
    {
        if (_cacheFill is not { } fill)
        {
            return;
        }

        foreach (var segment in data)
        {
            if (!fill.AppendBody(segment.Span))
            {
                // Larger than an entry may be: the client still gets all of it.
                AbandonCacheFill();
                return;
            }
        }
    }

    private void CompleteCacheFill()
    {
        _cacheFill?.Complete(Stopwatch.GetTimestamp());
        _cacheFill = null;
    }

    /// <summary>Every path that does not complete the fill ends it, so waiters are released at once.</summary>
    private void AbandonCacheFill()
    {
        _cacheFill?.Abandon();
        _cacheFill = null;
    }

}
