using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace FastGate.Gateway.Security;

/// <summary>The top-level member names of one JOSE header or claims set, to reject duplicates: RFC 7515 section 4
/// and RFC 7519 section 4 let a parser reject them, and accepting one would let "iss" mean one thing to FastGate and
/// another to the upstream's parser. Both JSON paths of the validator use it: <see cref="JwtJsonMembers"/> records
/// spans of the document, the Utf8JsonReader path spans of a buffer it unescapes the names into.</summary>
/// <remarks>Names are recorded while the object is read and compared once it is complete
/// (<see cref="HasDuplicate"/>): both paths reject a document with a duplicate as a whole, and every other way out
/// of their member loops is Malformed (or Unsure) as well, so when a duplicate is found changes no verdict, and a
/// record in the scanner's member loop is one store.
/// <para>A struct with inline storage rather than a ref struct over stack memory: the scanner passes it by reference
/// next to its handler, which may itself be a ref struct, and a span of the caller's stack could then escape into
/// the handler as far as the compiler can tell.</para></remarks>
internal struct JwtMemberNames
{
    /// <summary>Members recorded; a header or claims set with more is not decided by the fast path and is
    /// Malformed on the reader path (real tokens have 5-25).</summary>
    public const int MaxMembers = 64;

    /// <summary>Total bytes of the names.</summary>
    public const int MaxNameBytes = 1024;

    private Spans _spans;
    private int _count;
    private int _bytes;

    public JwtMemberNames()
    {
        // Only the counts start at zero: a span is written before it is read, and zeroing all 256 bytes took a helper
        // call on the scanner's path.
        Unsafe.SkipInit(out _spans);
        _count = 0;
        _bytes = 0;
    }

    /// <summary>Bytes of all names recorded so far.</summary>
    public readonly int NameBytes => _bytes;

    /// <summary>Records the name at [start, start + length) of the source later given to
    /// <see cref="HasDuplicate"/>; false past <see cref="MaxMembers"/> or <see cref="MaxNameBytes"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryAdd(int start, int length)
    {
        if (_count == MaxMembers || (_bytes += length) > MaxNameBytes)
        {
            return false;
        }

        _spans[_count++] = start | (length << 16);
        return true;
    }

    /// <summary>Whether two recorded names of <paramref name="source"/> are equal.</summary>
    public readonly bool HasDuplicate(ReadOnlySpan<byte> source)
    {
        // A 64-bit filter on a hash of length and first 8 bytes: a claims set's names (several of them 3 bytes long)
        // rarely share a bit, and only a hit compares bytes.
        ulong seen = 0;
        for (int i = 0; i < _count; i++)
        {
            int span = _spans[i];
            int start = span & 0xFFFF;
            int length = span >> 16;
            ulong bit = 1UL << (int)(((Prefix(source, start, length) + (ulong)length) * 0x9E3779B97F4A7C15UL) >> 58);
            if ((seen & bit) != 0 && Precedes(source, i, source.Slice(start, length)))
            {
                return true;
            }

            seen |= bit;
        }

        return false;
    }

    /// <summary>Whether one of the first <paramref name="count"/> names is <paramref name="name"/>.</summary>
    private readonly bool Precedes(ReadOnlySpan<byte> source, int count, ReadOnlySpan<byte> name)
    {
        for (int i = 0; i < count; i++)
        {
            int span = _spans[i];
            if ((span >> 16) == name.Length && source.Slice(span & 0xFFFF, name.Length).SequenceEqual(name))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The name's first 8 bytes, little-endian, zero beyond its length.</summary>
    private static ulong Prefix(ReadOnlySpan<byte> source, int start, int length)
    {
        if (start + 8 <= source.Length)
        {
            ulong word = BinaryPrimitives.ReadUInt64LittleEndian(source[start..]);
            return length >= 8 ? word : word & ((1UL << (length << 3)) - 1);
        }

        ulong prefix = 0;
        int count = Math.Min(length, 8);
        for (int i = 0; i < count; i++)
        {
            prefix |= (ulong)source[start + i] << (i << 3);
        }

        return prefix;
    }

    /// <summary>Per name: start | length &lt;&lt; 16 (a document here is at most 8 KiB, a name at most 1 KiB).</summary>
    [InlineArray(MaxMembers)]
    private struct Spans
    {
        private int _element;
    }
}
