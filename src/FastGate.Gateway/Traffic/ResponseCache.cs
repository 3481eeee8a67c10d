using System.Diagnostics;
using System.Numerics;
using System.Security.Cryptography;

namespace FastGate.Gateway.Traffic;

/// <summary>What <see cref="ResponseCache.Lookup"/> found.</summary>
internal enum CacheLookup : byte
{
    /// <summary>A fresh entry: serve it (X-Cache: HIT, Age).</summary>
    Hit,
    /// <summary>A miss, and this request leads the fill: go upstream and feed the <see cref="CacheFill"/>.</summary>
    Fill,
    /// <summary>A miss another request is already filling: <see cref="CacheFill.WaitAsync"/> for its entry.</summary>
    Wait,
}

/// <summary>
/// The gateway's shared response cache (`[cache] max_bytes`): entries keyed by <see cref="CacheKey"/>,
/// bounded in bytes, evicted with CLOCK, concurrent misses on one key coalesced into one upstream request.
/// </summary>
/// <remarks>
/// Reads take no lock: a fixed array of bucket heads, each a singly linked chain of immutable entries.
/// Writers (store, evict, fill registration) serialize on one lock and publish with volatile writes; an
/// unlinked entry keeps its Next, so a reader standing on it still walks into the live chain. A hit is a
/// hash, one bucket read, a key compare and at most one write (the CLOCK bit, only when clear), and no
/// allocation. The bucket array does not grow: it is sized from max_bytes (one bucket per 2 KiB,
/// between 2^10 and 2^20), so chains stay short for average entries of that size or more.
/// CLOCK: entries sit on a ring in insertion order; a hit sets the entry's bit; to make room the hand
/// clears set bits and evicts the first entry whose bit is clear (or that has expired). Recently used
/// entries survive one more sweep, which approximates LRU without touching a list on every hit.
/// Expired entries are dropped when a lookup misses on them or the hand passes.
/// </remarks>
internal sealed class ResponseCache
{
    private readonly CacheEntry?[] _buckets;
    private readonly int _bucketMask;
    private readonly Lock _writeLock = new();
    private readonly Dictionary<ulong, CacheFill> _fills = [];
    private readonly long _fillTimeoutTicks;
    private CacheEntry? _hand;
    private long _bytes;
    private int _count;
    private long _evictions;

    /// <param name="maxBytes">The `[cache] max_bytes` bound on the bytes of all entries (keys, heads, bodies, bookkeeping).</param>
    /// <param name="maxEntryBytes">Largest body stored; default max_bytes / 8, so one entry cannot flush the cache.</param>
    /// <param name="fillTimeout">How long a fill may lead before a new miss replaces it (a leader that never ended).</param>
    public ResponseCache(long maxBytes, long? maxEntryBytes = null, TimeSpan? fillTimeout = null, long? seed = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1024);
        MaxBytes = maxBytes;
        MaxEntryBytes = Math.Min(maxEntryBytes ?? (maxBytes / 8), int.MaxValue / 2);
        int buckets = (int)Math.Clamp(BitOperations.RoundUpToPowerOf2((ulong)(maxBytes / 2048)), 1 << 10, 1 << 20);
        _buckets = new CacheEntry?[buckets];
        _bucketMask = buckets - 1;
        TicksPerSecond = Stopwatch.Frequency;
        _fillTimeoutTicks = (long)((fillTimeout ?? TimeSpan.FromSeconds(30)).TotalSeconds * TicksPerSecond);
        Seed = seed ?? BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8));
    }

    public long MaxBytes { get; }

    public long MaxEntryBytes { get; }

    /// <summary>The clock of every <c>now</c>: <see cref="Stopwatch.GetTimestamp"/>.</summary>
    public long TicksPerSecond { get; }

    /// <summary>The key hash seed (per instance, so clients cannot aim keys at one bucket).</summary>
    public long Seed { get; }

    public long CurrentBytes => Volatile.Read(ref _bytes);

    public int Count => Volatile.Read(ref _count);

    public long Evictions => Volatile.Read(ref _evictions);

    /// <summary>The hit path alone: a fresh entry for <paramref name="key"/>, without locking or allocating.</summary>
    public bool TryGet(in CacheKey key, long now, out CacheEntry? entry)
    {
        CacheEntry? candidate = Find(key.Hash, key.Bytes);
        if (candidate is not null && candidate.IsFresh(now))
        {
            // Written only when clear: a hot entry's cache line is not bounced between cores on every hit.
            if (candidate.Referenced == 0)
            {
                candidate.Referenced = 1;
            }

            entry = candidate;
            return true;
        }

        entry = null;
        return false;
    }

    /// <summary>
    /// A hit, or on a miss the fill this request leads (<see cref="CacheLookup.Fill"/>) or waits for
    /// (<see cref="CacheLookup.Wait"/>). <paramref name="now"/> is <see cref="Stopwatch.GetTimestamp"/>.
    /// </summary>
    public CacheLookup Lookup(in CacheKey key, long now, out CacheEntry? entry, out CacheFill? fill)
    {
        fill = null;
        if (TryGet(key, now, out entry))
        {
            return CacheLookup.Hit;
        }

        using (_writeLock.EnterScope())
        {
            // Race window: a fill may have completed between the lock-free read and the lock.
            if (TryGet(key, now, out entry))
            {
                return CacheLookup.Hit;
            }

            CacheEntry? stale = Find(key.Hash, key.Bytes);
            if (stale is not null)
            {
                Remove(stale);
            }

            CacheFill? running = FindFill(key.Hash, key.Bytes);
            if (running is not null)
            {
                if (now < running.Deadline)
                {
                    fill = running;
                    return CacheLookup.Wait;
                }

                // The leader overran its deadline (it never ended): a new one takes over; the old one's
                // Complete still stores if it ever comes, and its waiters have their own bound.
                UnregisterFill(running);
            }

            fill = new CacheFill(this, key.Bytes.ToArray(), key.Hash, now, now + _fillTimeoutTicks);
            fill.NextSameHash = _fills.GetValueOrDefault(key.Hash);
            _fills[key.Hash] = fill;
            return CacheLookup.Fill;
        }
    }

    /// <summary>Removes every entry (admin purge).</summary>
    public void Clear()
    {
        using (_writeLock.EnterScope())
        {
            while (_hand is not null)
            {
                Remove(_hand);
            }
        }
    }

    /// <summary>Called by <see cref="CacheFill.Complete"/>: ends the fill and inserts its entry if it fits.</summary>
    internal CacheEntry? Store(CacheFill fill, CacheEntry entry, long now)
    {
        using (_writeLock.EnterScope())
        {
            UnregisterFill(fill);
            if (entry.Size > MaxBytes)
            {
                return null;
            }

            CacheEntry? previous = Find(entry.Hash, entry.Key);
            if (previous is not null)
            {
                Remove(previous);
            }

            MakeRoom(entry.Size, now);

            ref CacheEntry? head = ref _buckets[(int)entry.Hash & _bucketMask];
            entry.Next = head;
            // Publishes the fully built entry: readers see either the old head or this one, never half of it.
            Volatile.Write(ref head, entry);
            LinkBehindHand(entry);
            _bytes += entry.Size;
            _count++;
            return entry;
        }
    }

    /// <summary>Called by <see cref="CacheFill.Abandon"/> and a Complete that stored nothing.</summary>
    internal void EndFill(CacheFill fill)
    {
        using (_writeLock.EnterScope())
        {
            UnregisterFill(fill);
        }
    }

    private CacheEntry? Find(ulong hash, ReadOnlySpan<byte> key)
    {
        CacheEntry? entry = Volatile.Read(ref _buckets[(int)hash & _bucketMask]);
        while (entry is not null)
        {
            if (entry.Hash == hash && entry.Key.SequenceEqual(key))
            {
                return entry;
            }

            entry = Volatile.Read(ref entry.Next);
        }

        return null;
    }

    private CacheFill? FindFill(ulong hash, ReadOnlySpan<byte> key)
    {
        CacheFill? fill = _fills.GetValueOrDefault(hash);
        while (fill is not null && !fill.Key.AsSpan().SequenceEqual(key))
        {
            fill = fill.NextSameHash;
        }

        return fill;
    }

    private void UnregisterFill(CacheFill fill)
    {
        if (!_fills.TryGetValue(fill.Hash, out CacheFill? first))
        {
            return;
        }

        if (first == fill)
        {
            if (fill.NextSameHash is null)
            {
                _fills.Remove(fill.Hash);
            }
            else
            {
                _fills[fill.Hash] = fill.NextSameHash;
            }

            return;
        }

        for (CacheFill? previous = first; previous?.NextSameHash is not null; previous = previous.NextSameHash)
        {
            if (previous.NextSameHash == fill)
            {
                previous.NextSameHash = fill.NextSameHash;
                return;
            }
        }
    }

    private void MakeRoom(long size, long now)
    {
        // Each entry is passed at most twice (once to clear its bit, once to evict it), so this ends.
        while (_bytes + size > MaxBytes && _hand is not null)
        {
            CacheEntry candidate = _hand;
            if (candidate.Referenced != 0 && candidate.IsFresh(now))
            {
                candidate.Referenced = 0;
                _hand = candidate.ClockNext;
                continue;
            }

            Remove(candidate);
            _evictions++;
        }
    }

    private void Remove(CacheEntry entry)
    {
        ref CacheEntry? link = ref _buckets[(int)entry.Hash & _bucketMask];
        while (link is not null && link != entry)
        {
            link = ref link.Next;
        }

        if (link is not null)
        {
            // The removed entry keeps its Next: a reader standing on it walks on into the live chain.
            Volatile.Write(ref link, entry.Next);
        }

        if (entry.ClockNext == entry)
        {
            _hand = null;
        }
        else
        {
            entry.ClockPrevious!.ClockNext = entry.ClockNext;
            entry.ClockNext!.ClockPrevious = entry.ClockPrevious;
            if (_hand == entry)
            {
                _hand = entry.ClockNext;
            }
        }

        entry.ClockNext = entry.ClockPrevious = null;
        _bytes -= entry.Size;
        _count--;
    }

    /// <summary>A new entry goes just behind the hand: the last one the hand reaches.</summary>
    private void LinkBehindHand(CacheEntry entry)
    {
        if (_hand is null)
        {
            entry.ClockNext = entry.ClockPrevious = entry;
            _hand = entry;
            return;
        }

        entry.ClockNext = _hand;
        entry.ClockPrevious = _hand.ClockPrevious;
        _hand.ClockPrevious!.ClockNext = entry;
        _hand.ClockPrevious = entry;
    }
}
