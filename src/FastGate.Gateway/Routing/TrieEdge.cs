using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace FastGate.Gateway.Routing;

/// <summary>A literal child in the compiled trie's edge array.</summary>
/// <param name="Prefix">the key's first 8 bytes as an integer (see <see cref="SegmentPrefix"/>): with
/// <paramref name="Length"/>, a key of up to 8 bytes is equal to a segment exactly when both integers are</param>
/// <param name="Child">the child's byte offset in the node array; 0 (the root's, never a child) marks an empty hash slot</param>
/// <param name="Tail">where the key's bytes past the 8th start in the table's key blob (keys longer than 8)</param>
internal readonly record struct TrieEdge(ulong Prefix, int Length, int Child, int Tail)
{
    /// <summary>
    /// The first min(length, 8) bytes of <c>bytes[start..(start + length)]</c> as a little-endian integer,
    /// zero-padded.
    /// </summary>
    /// <remarks>Not inlined: the walk needs it only for paths shorter than 8 bytes and an empty last segment.</remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong SegmentPrefix(ReadOnlySpan<byte> bytes, int start, int length)
        => ByteWord.Load(bytes.Slice(start, Math.Min(length, sizeof(ulong))));

    /// <summary>
    /// The slot of a segment in a table of 2^(64 - <paramref name="shift"/>) slots: the top bits of one
    /// multiply of the prefix (Fibonacci hashing: every input bit reaches the top of the product, so keys that
    /// differ only in their last byte, "res100" and "res101", still land apart). Longer segments mix in their
    /// last 8 bytes and length first. The keys come from trusted configuration; a request's segment can only
    /// pick which (at most half-full) probe sequence it walks.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Slot(ReadOnlySpan<byte> bytes, int start, int length, ulong prefix, int shift)
    {
        ulong mixed = prefix;
        if (length > sizeof(ulong))
        {
            mixed ^= (BinaryPrimitives.ReadUInt64LittleEndian(bytes.Slice(start + length - sizeof(ulong))) + (ulong)length) * 0xD6E8FEB86659FD93;
        }

        return Slot(mixed, shift);
    }

    /// <summary><see cref="Slot(ReadOnlySpan{byte}, int, int, ulong, int)"/> of a key of up to 8 bytes, which is its prefix alone.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Slot(ulong prefix, int shift) => (int)((prefix * 0x9E3779B97F4A7C15) >> shift);
}
