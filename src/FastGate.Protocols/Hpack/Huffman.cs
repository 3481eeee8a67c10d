using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace FastGate.Protocols.Hpack;

/// <summary>
/// The static Huffman code of HPACK (RFC 7541 section 5.2 and appendix B). Decoding runs a 4-bit
/// state machine built once from the code table: each input nibble is one table lookup that gives the
/// next state and at most one decoded symbol (the shortest code has 5 bits, so no nibble completes two).
/// </summary>
/// <remarks>
/// NOTE: an 8-bit table (256 states x 256 entries, up to two symbols per entry) halves the lookups but
/// takes 256 KiB instead of 16 KiB and thrashes the L1 cache; the 4-bit table was chosen for that reason.
/// </remarks>
internal static class Huffman
{
    private const int EosSymbol = 256;

    // Decode table entry: bits 0-7 the next state, 8-15 the emitted symbol, then the flags.
    private const uint EmitFlag = 1u << 16;
    private const uint FailFlag = 1u << 17;

    /// <summary>The 256 internal nodes of the code tree are the decoder's states; 0 is the root.</summary>
    private const int StateCount = 256;

    private static readonly uint[] s_decodeTable = new uint[StateCount * 16];

    /// <summary>
    /// States where decoding may stop: the bits read since the last symbol are all ones and fewer than
    /// eight, i.e. valid padding (a prefix of EOS, section 5.2). The root qualifies (no padding at all).
    /// </summary>
    private static readonly bool[] s_accepting = new bool[StateCount];

    /// <summary>
    /// Appendix B: the code of each symbol, aligned to the least significant bit. NOTE: an array, not a
    /// ReadOnlySpan&lt;uint&gt; property over constant data: that form allocated 72 bytes per call here.
    /// </summary>
    private static readonly uint[] s_codes =
    [
        0x1ff8, 0x7fffd8, 0xfffffe2, 0xfffffe3, 0xfffffe4, 0xfffffe5, 0xfffffe6, 0xfffffe7,
        0xfffffe8, 0xffffea, 0x3ffffffc, 0xfffffe9, 0xfffffea, 0x3ffffffd, 0xfffffeb, 0xfffffec,
        0xfffffed, 0xfffffee, 0xfffffef, 0xffffff0, 0xffffff1, 0xffffff2, 0x3ffffffe, 0xffffff3,
        0xffffff4, 0xffffff5, 0xffffff6, 0xffffff7, 0xffffff8, 0xffffff9, 0xffffffa, 0xffffffb,
        0x14, 0x3f8, 0x3f9, 0xffa, 0x1ff9, 0x15, 0xf8, 0x7fa,
        0x3fa, 0x3fb, 0xf9, 0x7fb, 0xfa, 0x16, 0x17, 0x18,
        0x0, 0x1, 0x2, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
        0x1e, 0x1f, 0x5c, 0xfb, 0x7ffc, 0x20, 0xffb, 0x3fc,
        0x1ffa, 0x21, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62,
        0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a,
        0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72,
        0xfc, 0x73, 0xfd, 0x1ffb, 0x7fff0, 0x1ffc, 0x3ffc, 0x22,
        0x7ffd, 0x3, 0x23, 0x4, 0x24, 0x5, 0x25, 0x26,
        0x27, 0x6, 0x74, 0x75, 0x28, 0x29, 0x2a, 0x7,
        0x2b, 0x76, 0x2c, 0x8, 0x9, 0x2d, 0x77, 0x78,
        0x79, 0x7a, 0x7b, 0x7ffe, 0x7fc, 0x3ffd, 0x1ffd, 0xffffffc,
        0xfffe6, 0x3fffd2, 0xfffe7, 0xfffe8, 0x3fffd3, 0x3fffd4, 0x3fffd5, 0x7fffd9,
        0x3fffd6, 0x7fffda, 0x7fffdb, 0x7fffdc, 0x7fffdd, 0x7fffde, 0xffffeb, 0x7fffdf,
        0xffffec, 0xffffed, 0x3fffd7, 0x7fffe0, 0xffffee, 0x7fffe1, 0x7fffe2, 0x7fffe3,
        0x7fffe4, 0x1fffdc, 0x3fffd8, 0x7fffe5, 0x3fffd9, 0x7fffe6, 0x7fffe7, 0xffffef,
        0x3fffda, 0x1fffdd, 0xfffe9, 0x3fffdb, 0x3fffdc, 0x7fffe8, 0x7fffe9, 0x1fffde,
        0x7fffea, 0x3fffdd, 0x3fffde, 0xfffff0, 0x1fffdf, 0x3fffdf, 0x7fffeb, 0x7fffec,
        0x1fffe0, 0x1fffe1, 0x3fffe0, 0x1fffe2, 0x7fffed, 0x3fffe1, 0x7fffee, 0x7fffef,
        0xfffea, 0x3fffe2, 0x3fffe3, 0x3fffe4, 0x7ffff0, 0x3fffe5, 0x3fffe6, 0x7ffff1,
        0x3ffffe0, 0x3ffffe1, 0xfffeb, 0x7fff1, 0x3fffe7, 0x7ffff2, 0x3fffe8, 0x1ffffec,
        0x3ffffe2, 0x3ffffe3, 0x3ffffe4, 0x7ffffde, 0x7ffffdf, 0x3ffffe5, 0xfffff1, 0x1ffffed,
        0x7fff2, 0x1fffe3, 0x3ffffe6, 0x7ffffe0, 0x7ffffe1, 0x3ffffe7, 0x7ffffe2, 0xfffff2,
        0x1fffe4, 0x1fffe5, 0x3ffffe8, 0x3ffffe9, 0xffffffd, 0x7ffffe3, 0x7ffffe4, 0x7ffffe5,
        0xfffec, 0xfffff3, 0xfffed, 0x1fffe6, 0x3fffe9, 0x1fffe7, 0x1fffe8, 0x7ffff3,
        0x3fffea, 0x3fffeb, 0x1ffffee, 0x1ffffef, 0xfffff4, 0xfffff5, 0x3ffffea, 0x7ffff4,
        0x3ffffeb, 0x7ffffe6, 0x3ffffec, 0x3ffffed, 0x7ffffe7, 0x7ffffe8, 0x7ffffe9, 0x7ffffea,
        0x7ffffeb, 0xffffffe, 0x7ffffec, 0x7ffffed, 0x7ffffee, 0x7ffffef, 0x7fffff0, 0x3ffffee,
        0x3fffffff,
    ];

    private static ReadOnlySpan<uint> Codes => s_codes;

    /// <summary>Appendix B: the length in bits of each symbol's code.</summary>
    private static ReadOnlySpan<byte> CodeLengths =>
    [
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
        28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
        5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
        13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
        7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
        15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
        6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
        24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
        21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
        19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
        26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
        30,
    ];

    static Huffman() => BuildDecodeTable();

    /// <summary>The length of the Huffman encoding of <paramref name="source"/>, padding included.</summary>
    public static int GetEncodedLength(ReadOnlySpan<byte> source)
    {
        ReadOnlySpan<byte> lengths = CodeLengths;
        long bits = 0;
        foreach (byte b in source)
        {
            bits += lengths[b];
        }

        return (int)((bits + 7) >> 3);
    }

    /// <summary>
    /// Encodes <paramref name="source"/> into <paramref name="destination"/>, which must hold at least
    /// <see cref="GetEncodedLength"/> octets; the last octet is padded with the most significant bits of
    /// EOS (all ones). Returns the octets written.
    /// </summary>
    public static int Encode(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        ReadOnlySpan<uint> codes = Codes;
        ReadOnlySpan<byte> lengths = CodeLengths;
        ulong pending = 0;
        int pendingBits = 0;
        int pos = 0;
        foreach (byte b in source)
        {
            // At most 7 bits wait from before and a code has at most 30: 37 bits fit in the accumulator.
            pending = (pending << lengths[b]) | codes[b];
            pendingBits += lengths[b];
            while (pendingBits >= 8)
            {
                pendingBits -= 8;
                destination[pos++] = (byte)(pending >> pendingBits);
            }
        }

        if (pendingBits > 0)
        {
            int padding = 8 - pendingBits;
            destination[pos++] = (byte)((pending << padding) | ((1u << padding) - 1));
        }

        return pos;
    }

    /// <summary>
    /// Decodes <paramref name="source"/> into <paramref name="destination"/> and returns the octets
    /// written. Throws <see cref="HpackDecodingException"/> for an EOS symbol or invalid padding
    /// (section 5.2), and with <see cref="HpackDecodingError.StringTooLong"/> when the output would not
    /// fit in <paramref name="destination"/> (the caller sizes it to its string length limit).
    /// </summary>
    public static int Decode(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        uint[] table = s_decodeTable;
        int state = 0;
        int pos = 0;
        foreach (byte b in source)
        {
            uint high = table[(state << 4) | (b >> 4)];
            if ((high & (EmitFlag | FailFlag)) != 0)
            {
                pos = Emit(high, destination, pos);
            }

            uint low = table[((int)(high & 0xFF) << 4) | (b & 0x0F)];
            if ((low & (EmitFlag | FailFlag)) != 0)
            {
                pos = Emit(low, destination, pos);
            }

            state = (int)(low & 0xFF);
        }

        if (!s_accepting[state])
        {
            ThrowInvalid();
        }

        return pos;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Emit(uint entry, Span<byte> destination, int pos)
    {
        if ((entry & FailFlag) != 0)
        {
            ThrowInvalid();
        }

        if ((uint)pos >= (uint)destination.Length)
        {
            ThrowTooLong();
        }

        destination[pos] = (byte)(entry >> 8);
        return pos + 1;
    }

    /// <summary>
    /// Builds the code tree from appendix B, then for every internal node and every nibble walks four
    /// bits down the tree (restarting at the root after each completed symbol) to get one table entry.
    /// </summary>
    private static void BuildDecodeTable()
    {
        // children[node * 2 + bit]: >= 0 an internal node, < 0 a leaf holding ~symbol.
        var children = new int[StateCount * 2];
        Array.Fill(children, int.MinValue);
        int nodeCount = 1;
        s_accepting[0] = true;
        ReadOnlySpan<uint> codes = Codes;
        ReadOnlySpan<byte> lengths = CodeLengths;
        for (int symbol = 0; symbol <= EosSymbol; symbol++)
        {
            int node = 0;
            bool allOnes = true;
            for (int bit = lengths[symbol] - 1; bit >= 0; bit--)
            {
                int branch = (int)((codes[symbol] >> bit) & 1);
                allOnes &= branch == 1;
                int slot = (node * 2) + branch;
                if (bit == 0)
                {
                    children[slot] = ~symbol;
                }
                else
                {
                    if (children[slot] == int.MinValue)
                    {
                        children[slot] = nodeCount;
                        s_accepting[nodeCount] = allOnes && lengths[symbol] - bit <= 7;
                        nodeCount++;
                    }

                    node = children[slot];
                }
            }
        }

        for (int state = 0; state < StateCount; state++)
        {
            for (int nibble = 0; nibble < 16; nibble++)
            {
                int node = state;
                uint entry = 0;
                for (int bit = 3; bit >= 0; bit--)
                {
                    int child = children[(node * 2) + ((nibble >> bit) & 1)];
                    if (child >= 0)
                    {
                        node = child;
                        continue;
                    }

                    int symbol = ~child;
                    if (symbol == EosSymbol)
                    {
                        entry = FailFlag;
                        node = 0;
                        break;
                    }

                    entry = EmitFlag | ((uint)symbol << 8);
                    node = 0;
                }

                s_decodeTable[(state << 4) | nibble] = entry | (uint)node;
            }
        }
    }

    [DoesNotReturn]
    private static void ThrowInvalid() => throw new HpackDecodingException(HpackDecodingError.InvalidHuffman);

    [DoesNotReturn]
    private static void ThrowTooLong() => throw new HpackDecodingException(HpackDecodingError.StringTooLong);
}
