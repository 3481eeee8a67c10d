using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using FastGate.Protocols.Text;

namespace FastGate.Gateway.Traffic;

/// <summary>
/// One in-flight upstream request that fills a cache key, shared by the request that leads it and the
/// concurrent misses that wait for it (request coalescing).
/// </summary>
/// <remarks>
/// The leader (<see cref="CacheLookup.Fill"/>) feeds the upstream answer as it streams to its own client:
/// <see cref="SetStatus"/>, <see cref="AddHeader"/> per field, <see cref="EndHead"/> (the storage verdict:
/// anything but Store → <see cref="Abandon"/>), <see cref="AppendBody"/> per segment (false → Abandon),
/// then <see cref="Complete"/>; on any failure <see cref="Abandon"/>. Exactly one of Complete/Abandon
/// ends the fill; both wake every waiter. Waiters (<see cref="CacheLookup.Wait"/>) call
/// <see cref="WaitAsync"/>: the stored entry, or null when the fill was abandoned, not storable, or slower
/// than their bound; on null they go to the upstream themselves without filling.
/// Header and body bytes are gathered in pooled buffers, copied once into owned arrays on Complete.
/// </remarks>
internal sealed class CacheFill
{
    private readonly ResponseCache _cache;
    private readonly TaskCompletionSource<CacheEntry?> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long _requestTime;
    private byte[]? _headers;
    private int _headersLength;
    private byte[]? _body;
    private int _bodyLength;
    private CacheControl _directives = new();
    private long _ageValue;
    private bool _setCookie;
    private byte[]? _vary;
    private int _varyLength;
    private CacheRoutePolicy? _route;
    private int _status;
    private long _responseTime;
    private TimeSpan _lifetime;
    private CacheStoreVerdict _verdict = CacheStoreVerdict.NotFresh;
    private int _finished;

    internal CacheFill(ResponseCache cache, byte[] key, ulong hash, long requestTime, long deadline)
    {
        _cache = cache;
        Key = key;
        Hash = hash;
        _requestTime = requestTime;
        Deadline = deadline;
    }

    internal byte[] Key { get; }

    internal ulong Hash { get; }

    /// <summary>After this instant (Stopwatch ticks) a new miss no longer waits for this fill but replaces it.</summary>
    internal long Deadline { get; }

    /// <summary>Next fill of the same hash (collisions in the in-flight table).</summary>
    internal CacheFill? NextSameHash;

    public bool IsFinished => Volatile.Read(ref _finished) != 0;

    /// <summary>Waits for the leader: the entry, or null (abandoned, not stored, or <paramref name="timeout"/> elapsed).</summary>
    public async ValueTask<CacheEntry?> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        Task<CacheEntry?> done = _done.Task;
        if (!done.IsCompleted)
        {
            // SuppressThrowing: a timeout or a cancellation is an expected outcome, not an exception.
            await ((Task)done.WaitAsync(timeout, cancellationToken)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        return done.IsCompletedSuccessfully ? await done.ConfigureAwait(false) : null;
    }

    /// <summary>The status line arrived; <paramref name="now"/> is the response_time of RFC 9111 section 4.2.3.</summary>
    public void SetStatus(int statusCode, long now)
    {
        _status = statusCode;
        _responseTime = now;
    }

    /// <summary>
    /// One upstream response field. Hop-by-hop fields, Content-Length and Age are not stored (the gateway
    /// writes its own); Cache-Control, Age, Vary and Set-Cookie feed the storage verdict.
    /// </summary>
    public void AddHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        KnownHeader known = KnownHeaders.Classify(name);
        if (KnownHeaders.IsHopByHop(known) || known == KnownHeader.ContentLength)
        {
            return;
        }

        if (Ascii8.EqualsIgnoreCase(name, "age"u8))
        {
            // RFC 9111 section 5.1: the upstream's own age estimate; an invalid value is ignored.
            long age = CacheControl.ParseDeltaSeconds(true, Ascii8.TrimOws(value));
            _ageValue = Math.Max(_ageValue, age);
            return;
        }

        if (Ascii8.EqualsIgnoreCase(name, "cache-control"u8))
        {
            _directives.Add(value);
        }
        else if (Ascii8.EqualsIgnoreCase(name, "set-cookie"u8))
        {
            _setCookie = true;
        }
        else if (Ascii8.EqualsIgnoreCase(name, "vary"u8))
        {
            // Kept until EndHead knows the route; lines join as one list (RFC 9110 section 5.3).
            EnsureCapacity(ref _vary, _varyLength, value.Length + 1);
            value.CopyTo(_vary.AsSpan(_varyLength));
            _vary[_varyLength + value.Length] = (byte)',';
            _varyLength += value.Length + 1;
        }

        int needed = name.Length + 2 + value.Length + 2;
        EnsureCapacity(ref _headers, _headersLength, needed);
        Span<byte> line = _headers.AsSpan(_headersLength, needed);
        name.CopyTo(line);
        ": "u8.CopyTo(line[name.Length..]);
        value.CopyTo(line[(name.Length + 2)..]);
        "\r\n"u8.CopyTo(line[^2..]);
        _headersLength += needed;
    }

    /// <summary>The head is complete: decides whether the answer may be stored under <paramref name="route"/>.</summary>
    public CacheStoreVerdict EndHead(CacheRoutePolicy route, bool requestHadAuthorization)
    {
        _route = route;
        CacheStoreVerdict verdict = route.Evaluate(_status, _directives, requestHadAuthorization, out _lifetime);
        if (verdict == CacheStoreVerdict.Store)
        {
            CheckVary(_vary.AsSpan(0, _varyLength), route, out bool varyAll, out bool varyNotKeyed);
            verdict = varyAll ? CacheStoreVerdict.VaryAll
                : varyNotKeyed ? CacheStoreVerdict.VaryNotKeyed
                : _setCookie ? CacheStoreVerdict.SetCookie
                : verdict;
        }

        _verdict = verdict;
        return verdict;
    }

    /// <summary>Copies one body segment; false when the body outgrows the cache's entry limit (then Abandon).</summary>
    public bool AppendBody(ReadOnlySpan<byte> segment)
    {
        if (_verdict != CacheStoreVerdict.Store || (long)_bodyLength + segment.Length > _cache.MaxEntryBytes)
        {
            _verdict = _verdict == CacheStoreVerdict.Store ? CacheStoreVerdict.TooLarge : _verdict;
            return false;
        }

        EnsureCapacity(ref _body, _bodyLength, segment.Length);
        segment.CopyTo(_body.AsSpan(_bodyLength));
        _bodyLength += segment.Length;
        return true;
    }

    /// <summary>
    /// The body ended: stores the entry (when the verdict was Store and it fits) and hands it to every
    /// waiter. Returns the stored entry, or null.
    /// </summary>
    public CacheEntry? Complete(long now)
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return null;
        }

        CacheEntry? entry = null;
        if (_verdict == CacheStoreVerdict.Store && _route is not null)
        {
            long ticksPerSecond = _cache.TicksPerSecond;
            long responseTime = _responseTime != 0 ? _responseTime : now;
            // corrected_initial_age = age_value + response_delay (RFC 9111 section 4.2.3; the Date-based
            // apparent_age is left out: it needs the upstream's clock to agree with ours).
            long initialAge = (_ageValue * ticksPerSecond) + Math.Max(0, responseTime - _requestTime);
            long lifetime = (long)(_lifetime.TotalSeconds * ticksPerSecond);
            var candidate = new CacheEntry(
                Hash,
                Key,
                _status,
                _headers.AsSpan(0, _headersLength).ToArray(),
                _body.AsSpan(0, _bodyLength).ToArray(),
                responseTime,
                initialAge,
                lifetime,
                ticksPerSecond);
            if (candidate.IsFresh(now))
            {
                entry = _cache.Store(this, candidate, now);
            }
        }

        if (entry is null)
        {
            _cache.EndFill(this);
        }

        ReturnBuffers();
        _done.TrySetResult(entry);
        return entry;
    }

    /// <summary>Ends the fill without storing; waiters wake with null and go to the upstream themselves.</summary>
    public void Abandon()
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return;
        }

        _cache.EndFill(this);
        ReturnBuffers();
        _done.TrySetResult(null);
    }

    /// <summary>
    /// Vary (RFC 9110 section 12.5.5) names the request headers the answer depends on. The entry is only
    /// correct if the key holds each of them: "*" never matches (RFC 9111 section 4.1), and a name outside
    /// the route's `vary` would let one variant answer the requests of another.
    /// </summary>
    private static void CheckVary(ReadOnlySpan<byte> values, CacheRoutePolicy route, out bool varyAll, out bool notKeyed)
    {
        varyAll = notKeyed = false;
        foreach (Range range in values.Split((byte)','))
        {
            ReadOnlySpan<byte> element = Ascii8.TrimOws(values[range]);
            if (element.IsEmpty)
            {
                continue;
            }

            if (element.SequenceEqual("*"u8))
            {
                varyAll = true;
            }
            else if (!route.IsKeyedOn(element))
            {
                notKeyed = true;
            }
        }
    }

    private void ReturnBuffers()
    {
        if (_headers is not null)
        {
            ArrayPool<byte>.Shared.Return(_headers);
            _headers = null;
        }

        if (_body is not null)
        {
            ArrayPool<byte>.Shared.Return(_body);
            _body = null;
        }

        if (_vary is not null)
        {
            ArrayPool<byte>.Shared.Return(_vary);
            _vary = null;
        }
    }

    private static void EnsureCapacity([NotNull] ref byte[]? buffer, int length, int extra)
    {
        int needed = length + extra;
        if (buffer is not null && buffer.Length >= needed)
        {
            return;
        }

        byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(1024, (buffer?.Length ?? 0) * 2)));
        if (buffer is not null)
        {
            buffer.AsSpan(0, length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(buffer);
        }

        buffer = larger;
    }
}
