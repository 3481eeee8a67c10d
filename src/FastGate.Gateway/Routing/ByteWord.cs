using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastGate.Gateway.Routing;

/// <summary>Short byte strings (segments, methods) read as one integer, so they compare in one instruction.</summary>
internal static class ByteWord
{
    /// <summary>
    /// The first min(length, 8) bytes of <paramref name="bytes"/> as a little-endian integer, zero-padded: with the
    /// length, equal exactly when the strings of up to 8 bytes are. Two overlapping loads of 4 or 2 bytes instead
    /// of a loop of single bytes (the overlap holds the same bytes twice, so OR-ing them is exact).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load(ReadOnlySpan<byte> bytes)
    {
        ref byte first = ref MemoryMarshal.GetReference(bytes);
        int length = bytes.Length;
        if (length >= sizeof(ulong))
        {
            return Unsafe.ReadUnaligned<ulong>(ref first);
        }

        if (length >= sizeof(uint))
        {
            ulong low = Unsafe.ReadUnaligned<uint>(ref first);
            ulong high = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref first, length - sizeof(uint)));
            return low | (high << ((length - sizeof(uint)) * 8));
        }

        if (length >= sizeof(ushort))
        {
            ulong low = Unsafe.ReadUnaligned<ushort>(ref first);
            ulong high = Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref first, length - sizeof(ushort)));
            return low | (high << ((length - sizeof(ushort)) * 8));
        }

        return length == 1 ? first : 0UL;
    }
}
