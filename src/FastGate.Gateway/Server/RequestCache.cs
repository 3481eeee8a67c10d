using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using FastGate.Gateway.Async;
using FastGate.Gateway.Pipeline;
using FastGate.Gateway.Traffic;
using FastGate.Protocols.Text;

namespace FastGate.Gateway.Server;

/// <summary>
/// The response cache on the request path, protocol-neutral: a fresh entry is found for the request;
/// the first miss of a key leads a fill that taps the upstream answer as it streams to the client;
/// concurrent misses of that key wait for it (bounded) instead of all going upstream. One instance per
/// HTTP/1.1 connection or HTTP/2 stream; each codec writes a found entry in its own framing.
/// </summary>
internal sealed class RequestCache
{
    // How long a coalesced miss waits for the leading request before going upstream itself.
    private static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(5);

    private CacheFill? _fill;
    private CacheRoutePolicy? _route;
    private bool _authorized;

    private enum Step : byte
    {
        Bypass,
        Served,
        Fill,
        Wait,
    }

    /// <summary>The fresh entry to answer with, or null: go upstream (leading a fill when this request may).</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    public async ValueTask<CacheEntry?> FindAsync(RoutePolicy policy, RequestHead request)
    {
        var step = Lookup(policy, request, out var entry, out var fill);
        if (step == Step.Wait)
        {
            return await fill!.WaitAsync(WaitTimeout).ConfigureAwait(false);
        }

        if (step == Step.Fill)
        {
            _fill = fill;
            _route = policy.Cache;
            _authorized = !request.Find(KnownHeader.Authorization).IsEmpty;
        }

        return step == Step.Served ? entry : null;
    }

    private static Step Lookup(RoutePolicy policy, RequestHead request, out CacheEntry? entry, out CacheFill? fill)
    {
        entry = null;
        fill = null;
        var route = policy.Cache!;
        var cache = policy.CacheStore!;
        var authorization = request.Find(KnownHeader.Authorization);
        if (!route.ShouldUseCache(request.Method, !authorization.IsEmpty, request.Find("cache-control"u8)))
        {
            return Step.Bypass;
        }

        var builder = new CacheKeyBuilder(stackalloc byte[1024]);
        builder.Begin(request.Method, request.Authority, request.Path, request.Query);
        foreach (var name in route.VaryNames)
        {
            builder.BeginVary();
            for (int i = 0; i < request.HeaderCount; i++)
            {
                if (Ascii8.EqualsIgnoreCase(request.HeaderName(i), name))
                {
                    builder.AddVaryValue(request.HeaderValue(i));
                }
            }
        }

        if (builder.Overflowed)
        {
            return Step.Bypass;
        }

        var key = builder.Build(cache);
        return cache.Lookup(key, Stopwatch.GetTimestamp(), out entry, out fill) switch
        {
            CacheLookup.Hit => Step.Served,
            CacheLookup.Fill => Step.Fill,
            _ => Step.Wait,
        };
    }

    /// <summary>Feeds the fill the upstream's response head; a head that may not be stored ends the fill.</summary>
    public void TapHead(Upstream.ResponseHead response)
    {
        if (_fill is not { } fill)
        {
            return;
        }

        fill.SetStatus(response.StatusCode, Stopwatch.GetTimestamp());
        for (int i = 0; i < response.HeaderCount; i++)
        {
            fill.AddHeader(response.HeaderName(i), response.HeaderValue(i));
        }

        if (fill.EndHead(_route!, _authorized) != CacheStoreVerdict.Store)
        {
            Abandon();
        }
    }

    public void TapBody(in ReadOnlySequence<byte> data)
    {
        if (_fill is not { } fill)
        {
            return;
        }

        foreach (var segment in data)
        {
            if (!fill.AppendBody(segment.Span))
            {
                // Larger than an entry may be: the client still gets all of it.
                Abandon();
                return;
            }
        }
    }

    /// <summary>The answer reached the client in full: the entry is stored and its waiters served.</summary>
    public void Complete()
    {
        _fill?.Complete(Stopwatch.GetTimestamp());
        _fill = null;
        _route = null;
    }

    /// <summary>Every path that does not complete the fill ends it, so waiters are released at once.</summary>
    public void Abandon()
    {
        _fill?.Abandon();
        _fill = null;
        _route = null;
    }
}
