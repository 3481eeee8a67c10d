using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace FastGate.Gateway.Security;

/// <summary>The top-level member names of one JOSE header or claims set, to reject duplicates: RFC 7515 section 4
/// and RFC 7519 section 4 let a parser reject them, and accepting one would let "iss" mean one thing to FastGate and
/// another to the upstream's parser. Both JSON paths of the validator use it: <see cref="JwtJsonMembers"/> records
/// spans of the document, the Utf8JsonReader path spans of a buffer it unescapes the names into.</summary>
/// <remarks>
/// Names are recorded while the object is read and compared once it is complete (<see cref="HasDuplicate"/>): both
/// paths reject a document with a duplicate as a whole, and every other way out of their member loops is Malformed
/// (or, for the scanner, Unsure) too, so when a duplicate is found changes no verdict. Recording a name is one store
/// and two counters; the hash filters that decide whether names need comparing are built afterwards, in a loop of
/// their own. Built in the scanner's member loop, next to its other state, the filters were spilled to memory: the
/// benchmark claims set's scan (10 members) took 140-150 ns with them and 100-125 ns without recording names at all
/// (perf-results/benchmarks_2026-11-27_hs256d.md).
/// <para>The spans live in caller-provided memory and this struct holds only counters, so the scanner keeps it in
/// registers.</para>
/// </remarks>
internal struct JwtMemberNames
{
    /// <summary>Members recorded; a header or claims set with more is not decided by the fast path and is
    /// Malformed on the reader path (real tokens have 5-25).</summary>
    public const int MaxMembers = 64;

    /// <summary>Total bytes of the names.</summary>
    public const int MaxNameBytes = 1024;

    private int _count;
    private int _bytes;

    /// <summary>Bytes of all names recorded so far.</summary>
    public readonly int NameBytes => _bytes;

    /// <summary>Records the name at [start, start + length) of the document into <paramref name="spans"/> (room for
    /// <see cref="MaxMembers"/>); false past <see cref="MaxMembers"/> or <see cref="MaxNameBytes"/>. The same spans
    /// and the document go to <see cref="HasDuplicate"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryAdd(Span<int> spans, int start, int length)
    {
        if (_count == MaxMembers || (_bytes += length) > MaxNameBytes)
        {
            return false;
        }

        // start | length << 16: a document here is at most 8 KiB, a name at most 1 KiB.
        spans[_count++] = start | (length << 16);
        return true;
    }

    /// <summary>Whether two recorded names are equal.</summary>
    /// <remarks>Two 64-bit filters on a hash of each name's length and first 8 bytes (its top two 6-bit fields) say
    /// whether any name found its bits set in both: only then are names compared. With one filter half of all
    /// 10-member claims sets had a pair of names sharing a bit (the benchmark token's "roles" and "tenant" did);
    /// with two about 1 in 15 does, and a duplicate always is.
    /// <para>Not inlined: inlined into the scanner's member loop it found the registers taken, and its loop kept the
    /// filters and its counter in memory, a store and reload per name in the chain from one name to the next
    /// (40% of the benchmark claims set's member scan, perf-results/benchmarks_2026-11-27_hs256e.md).</para></remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public readonly bool HasDuplicate(ReadOnlySpan<int> spans, ReadOnlySpan<byte> source)
    {
        spans = spans[.._count];
        ulong seen = 0;
        ulong seenToo = 0;
        foreach (int span in spans)
        {
            int length = span >> 16;
            ulong hash = (Prefix(source, span & 0xFFFF, length) + (ulong)length) * 0x9E3779B97F4A7C15UL;
            ulong bit = 1UL << (int)(hash >> 58);
            ulong bitToo = 1UL << (int)(hash >> 52);
            if ((seen & bit) != 0 && (seenToo & bitToo) != 0)
            {
                return HasEqualNames(spans, source);
            }

            seen |= bit;
            seenToo |= bitToo;
        }

        return false;
    }

    private static bool HasEqualNames(ReadOnlySpan<int> spans, ReadOnlySpan<byte> source)
    {
        for (int i = 1; i < spans.Length; i++)
        {
            int length = spans[i] >> 16;
            ReadOnlySpan<byte> name = source.Slice(spans[i] & 0xFFFF, length);
            for (int j = 0; j < i; j++)
            {
                if ((spans[j] >> 16) == length && source.Slice(spans[j] & 0xFFFF, length).SequenceEqual(name))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>The name's first 8 bytes, little-endian, zero beyond its length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Prefix(ReadOnlySpan<byte> source, int start, int length)
    {
        if (start + 8 > source.Length)
        {
            return PrefixNearEnd(source, start, length);
        }

        ulong word = BinaryPrimitives.ReadUInt64LittleEndian(source[start..]);
        return length >= 8 ? word : word & ((1UL << (length << 3)) - 1);
    }

    private static ulong PrefixNearEnd(ReadOnlySpan<byte> source, int start, int length)
    {
        ulong prefix = 0;
        int count = Math.Min(length, 8);
        for (int i = 0; i < count; i++)
        {
            prefix |= (ulong)source[start + i] << (i << 3);
        }

        return prefix;
    }
}
