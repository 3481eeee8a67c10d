namespace FastGate.Gateway.Traffic;

/// <summary>
/// A stored response: status, the header lines to replay, the body, and its age bookkeeping. Immutable
/// once published; its arrays are owned (not pooled), so an entry evicted while a connection still writes
/// it stays valid until that connection lets go of it.
/// </summary>
internal sealed class CacheEntry
{
    /// <summary>Bookkeeping counted per entry on top of its arrays (object headers, links, fields).</summary>
    internal const int Overhead = 160;

    private readonly byte[] _key;
    private readonly byte[] _headerLines;
    private readonly byte[] _body;
    private readonly long _initialAgeTicks;
    private readonly long _ticksPerSecond;

    internal CacheEntry(ulong hash, byte[] key, int statusCode, byte[] headerLines, byte[] body, long storedAt, long initialAgeTicks, long lifetimeTicks, long ticksPerSecond)
    {
        Hash = hash;
        _key = key;
        StatusCode = statusCode;
        _headerLines = headerLines;
        _body = body;
        StoredAt = storedAt;
        _initialAgeTicks = initialAgeTicks;
        _ticksPerSecond = ticksPerSecond;
        ExpiresAt = storedAt + lifetimeTicks - initialAgeTicks;
        Size = key.Length + headerLines.Length + body.Length + Overhead;
    }

    public int StatusCode { get; }

    /// <summary>
    /// The upstream's header lines as HTTP/1.1 field lines (<c>Name: value\r\n</c> each), without the
    /// hop-by-hop fields, Content-Length and Age: the caller writes Content-Length (<see cref="Body"/>'s
    /// length), <c>Age</c> (<see cref="AgeSeconds"/>) and <c>X-Cache: HIT</c>.
    /// </summary>
    public ReadOnlySpan<byte> HeaderLines => _headerLines;

    public ReadOnlyMemory<byte> HeaderLinesMemory => _headerLines;

    public ReadOnlySpan<byte> Body => _body;

    public ReadOnlyMemory<byte> BodyMemory => _body;

    /// <summary>When the response was received (Stopwatch ticks).</summary>
    public long StoredAt { get; }

    /// <summary>When the entry stops being fresh (Stopwatch ticks).</summary>
    public long ExpiresAt { get; }

    /// <summary>Bytes charged against the cache's max_bytes.</summary>
    public long Size { get; }

    internal ulong Hash { get; }

    internal ReadOnlySpan<byte> Key => _key;

    /// <summary>CLOCK's reference bit: set by hits, cleared by the hand.</summary>
    internal int Referenced;

    /// <summary>Next entry of the same hash bucket.</summary>
    internal CacheEntry? Next;

    internal CacheEntry? ClockNext;
    internal CacheEntry? ClockPrevious;

    public bool IsFresh(long now) => now < ExpiresAt;

    /// <summary>
    /// current_age = corrected_initial_age + resident_time (RFC 9111 section 4.2.3), in whole seconds for
    /// the Age field (section 5.1).
    /// </summary>
    public long AgeSeconds(long now) => Math.Max(0, _initialAgeTicks + (now - StoredAt)) / _ticksPerSecond;

    /// <summary>Writes the Age field value (delta-seconds) into <paramref name="destination"/>.</summary>
    public bool TryWriteAge(long now, Span<byte> destination, out int written) =>
        AgeSeconds(now).TryFormat(destination, out written);
}
