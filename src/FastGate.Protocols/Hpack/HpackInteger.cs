using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace FastGate.Protocols.Hpack;

/// <summary>
/// Integer representation with an N-bit prefix (RFC 7541 section 5.1). Values are limited to 31 bits:
/// every length and index the decoder accepts is far smaller, and the limit bounds the continuation
/// octets to five.
/// </summary>
/// <remarks>
/// <code>
///   0   1   2   3   4   5   6   7
/// +---+---+---+---+---+---+---+---+
/// | ? | ? | ? | 1   1   1   1   1 |   prefix all ones: the value continues
/// +---+---+---+-------------------+
/// | 1 |    Value-(2^N-1) LSB      |
/// +---+---------------------------+
///                ...
/// +---+---------------------------+
/// | 0 |    Value-(2^N-1) MSB      |
/// +---+---------------------------+
/// </code>
/// </remarks>
internal static class HpackInteger
{
    /// <summary>The longest encoding of a 31-bit value: the prefix octet and five continuation octets.</summary>
    public const int MaxEncodedLength = 6;

    /// <summary>
    /// Reads an integer whose prefix occupies the low <paramref name="prefixBits"/> bits of the next octet.
    /// False when the input ends first (the caller rewinds to the start of its field).
    /// </summary>
    public static bool TryDecode(ref SequenceReader<byte> reader, int prefixBits, out int value)
    {
        value = 0;
        if (!reader.TryRead(out byte first))
        {
            return false;
        }

        int mask = (1 << prefixBits) - 1;
        int prefix = first & mask;
        if (prefix < mask)
        {
            value = prefix;
            return true;
        }

        ulong result = (ulong)mask;
        int shift = 0;
        while (true)
        {
            if (!reader.TryRead(out byte b))
            {
                return false;
            }

            result += (ulong)(b & 0x7F) << shift;
            if (result > int.MaxValue)
            {
                ThrowOverflow();
            }

            if ((b & 0x80) == 0)
            {
                value = (int)result;
                return true;
            }

            shift += 7;
            if (shift > 28)
            {
                // Zero-valued continuation octets could go on forever; 31 bits never need more than five.
                ThrowOverflow();
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="value"/> with an N-bit prefix; <paramref name="flags"/> fills the bits above
    /// the prefix in the first octet. Returns the octets written.
    /// </summary>
    public static int Encode(int value, int prefixBits, byte flags, Span<byte> destination)
    {
        int mask = (1 << prefixBits) - 1;
        if (value < mask)
        {
            destination[0] = (byte)(flags | value);
            return 1;
        }

        destination[0] = (byte)(flags | mask);
        uint rest = (uint)(value - mask);
        int pos = 1;
        while (rest >= 0x80)
        {
            destination[pos++] = (byte)(rest | 0x80);
            rest >>= 7;
        }

        destination[pos++] = (byte)rest;
        return pos;
    }

    [DoesNotReturn]
    private static void ThrowOverflow() => throw new HpackDecodingException(HpackDecodingError.IntegerOverflow);
}
