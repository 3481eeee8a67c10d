using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace FastGate.Gateway.Traffic;

/// <summary>A response-cache key: its encoded bytes (compared in full on a hit) and their seeded 64-bit hash.</summary>
internal readonly ref struct CacheKey
{
    public CacheKey(ReadOnlySpan<byte> bytes, ulong hash)
    {
        Bytes = bytes;
        Hash = hash;
    }

    public ReadOnlySpan<byte> Bytes { get; }

    public ulong Hash { get; }
}

/// <summary>
/// Builds a <see cref="CacheKey"/> into caller memory (a stackalloc'd or pooled buffer) from the method,
/// host, path, query and the values of the route's `vary` headers (RFC 9111 section 4.1). Every part is
/// tagged and length-prefixed, so no two different requests encode to the same bytes: a missing header,
/// an empty value and two header lines are all distinct. The host is lower-cased (RFC 9110 section 4.2.3:
/// it is case-insensitive); values lose their surrounding whitespace (RFC 9111 section 4.1 allows
/// normalizing it). A key that does not fit is <see cref="Overflowed"/>: the caller skips the cache.
/// </summary>
/// <example>
/// <code>
/// var builder = new CacheKeyBuilder(stackalloc byte[1024]);
/// builder.Begin(method, host, path, query);
/// foreach (name in route.Vary) { builder.BeginVary(); foreach (line named name) builder.AddVaryValue(value); }
/// if (!builder.Overflowed) { CacheKey key = builder.Build(cache); ... }
/// </code>
/// </example>
internal ref struct CacheKeyBuilder
{
    private const byte MethodTag = (byte)'M';
    private const byte HostTag = (byte)'H';
    private const byte PathTag = (byte)'P';
    private const byte QueryTag = (byte)'Q';
    private const byte VaryTag = (byte)'V';
    private const byte VaryValueTag = (byte)'v';

    private readonly Span<byte> _buffer;
    private int _length;
    private bool _overflowed;

    public CacheKeyBuilder(Span<byte> buffer)
    {
        _buffer = buffer;
        _length = 0;
        _overflowed = false;
    }

    public readonly bool Overflowed => _overflowed;

    public readonly int Length => _length;

    public void Begin(ReadOnlySpan<byte> method, ReadOnlySpan<byte> host, ReadOnlySpan<byte> path, ReadOnlySpan<byte> query)
    {
        _length = 0;
        _overflowed = false;
        Append(MethodTag, method);
        if (Reserve(HostTag, host.Length, out Span<byte> destination))
        {
            Ascii.ToLower(host, destination, out _);
        }

        Append(PathTag, path);
        Append(QueryTag, query);
    }

    /// <summary>Starts the next vary header (in the route's order); no value after it means "absent".</summary>
    public void BeginVary()
    {
        if (_overflowed || _length >= _buffer.Length)
        {
            _overflowed = true;
            return;
        }

        _buffer[_length++] = VaryTag;
    }

    /// <summary>One field line's value of the current vary header.</summary>
    public void AddVaryValue(ReadOnlySpan<byte> value) => Append(VaryValueTag, value.Trim(" \t"u8));

    /// <summary>The key over the bytes written, hashed with the cache's seed.</summary>
    public readonly CacheKey Build(ResponseCache cache)
    {
        ReadOnlySpan<byte> bytes = _buffer[.._length];
        return new CacheKey(bytes, XxHash3.HashToUInt64(bytes, cache.Seed));
    }

    private void Append(byte tag, ReadOnlySpan<byte> value)
    {
        if (Reserve(tag, value.Length, out Span<byte> destination))
        {
            value.CopyTo(destination);
        }
    }

    private bool Reserve(byte tag, int length, out Span<byte> destination)
    {
        int needed = 1 + sizeof(int) + length;
        if (_overflowed || needed > _buffer.Length - _length)
        {
            _overflowed = true;
            destination = default;
            return false;
        }

        _buffer[_length] = tag;
        BinaryPrimitives.WriteInt32LittleEndian(_buffer[(_length + 1)..], length);
        destination = _buffer.Slice(_length + 1 + sizeof(int), length);
        _length += needed;
        return true;
    }
}
