using System.Buffers.Text;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FastGate.Gateway.Security;

/// <summary>Base64url as JWS requires it (RFC 7515 section 2 and appendix C): the URL-safe alphabet, no padding,
/// no whitespace, and canonical final characters.</summary>
/// <remarks>
/// Any other encoding of the same bytes would give one token several encodings, which breaks byte-keyed caches
/// and lets a mutated token pass as the original (RFC 4648 section 3.5 allows decoders to reject them; JWS
/// encoders never produce them). So every character must be one of the 64 (no '=', no whitespace, no '+' or '/'),
/// a length of 4k + 1 is refused, and the bits a final 2 or 3 characters carry beyond the last byte must be zero.
/// <para>A decoder of its own rather than <see cref="Base64Url"/> (which skips whitespace and accepts padding, so
/// its result needed a length check): the BCL's vector loop needs at least 45 characters, so an HS256 signature (43)
/// and a typical header (36) were decoded by its scalar loop. Here 32 characters at a time with AVX2, then 16 with
/// SSSE3, then 4 by a table, and the final 2 or 3: the benchmark token's three parts 77-80 ns before, 44-48 ns
/// after (thread CPU time, best of 3000 rounds; perf-results/benchmarks_2026-11-26_hs256c.md).</para>
/// <para>The vector step classifies each character by its two nibbles (the method of W. Muła and D. Lemire, "Faster
/// Base64 encoding and decoding using AVX2 instructions", for the URL-safe alphabet): a character is valid when the
/// bit its high nibble selects is clear in the mask its low nibble selects; its value is the character plus an
/// offset chosen by the high nibble ('_' shares the high nibble of 'P'-'Z' and is corrected alone). Errors are
/// collected across the loop and tested once.</para>
/// </remarks>
[SkipLocalsInit]
internal static class Base64UrlStrict
{
    public static int MaxDecodedLength(int encodedLength) => Base64Url.GetMaxDecodedLength(encodedLength);

    public static bool TryDecode(ReadOnlySpan<byte> source, Span<byte> destination, out int written)
    {
        written = 0;
        int length = source.Length;
        int remainder = length & 3;
        int decodedLength = (int)(((uint)length * 3) >> 2);
        if (remainder == 1 || decodedLength > destination.Length)
        {
            return false;
        }

        ref byte src = ref MemoryMarshal.GetReference(source);
        ref byte dst = ref MemoryMarshal.GetReference(destination);
        int whole = length - remainder;
        int i = 0;
        if (Ssse3.IsSupported && whole >= 16 && !TryDecodeVectors(ref src, whole, ref dst, destination.Length, out i))
        {
            return false;
        }

        int o = (i >> 2) * 3;
        ref sbyte table = ref MemoryMarshal.GetReference(Sextets);
        while (i < whole)
        {
            int a = Unsafe.Add(ref table, Unsafe.Add(ref src, i));
            int b = Unsafe.Add(ref table, Unsafe.Add(ref src, i + 1));
            int c = Unsafe.Add(ref table, Unsafe.Add(ref src, i + 2));
            int d = Unsafe.Add(ref table, Unsafe.Add(ref src, i + 3));

            // A -1 anywhere makes the whole value negative.
            int quantum = (a << 18) | (b << 12) | (c << 6) | d;
            if (quantum < 0)
            {
                return false;
            }

            Unsafe.Add(ref dst, o) = (byte)(quantum >> 16);
            Unsafe.Add(ref dst, o + 1) = (byte)(quantum >> 8);
            Unsafe.Add(ref dst, o + 2) = (byte)quantum;
            i += 4;
            o += 3;
        }

        if (remainder != 0)
        {
            // 2 final characters carry 8 bits of 12, 3 carry 16 of 18: the rest must be zero (RFC 4648 section 3.5).
            int a = Unsafe.Add(ref table, Unsafe.Add(ref src, i));
            int b = Unsafe.Add(ref table, Unsafe.Add(ref src, i + 1));
            int c = remainder == 3 ? Unsafe.Add(ref table, Unsafe.Add(ref src, i + 2)) : 0;
            int unused = remainder == 3 ? c & 0x03 : b & 0x0F;
            if ((a | b | c) < 0 || unused != 0)
            {
                return false;
            }

            int quantum = (a << 18) | (b << 12) | (c << 6);
            Unsafe.Add(ref dst, o) = (byte)(quantum >> 16);
            if (remainder == 3)
            {
                Unsafe.Add(ref dst, o + 1) = (byte)(quantum >> 8);
            }
        }

        written = decodedLength;
        return true;
    }

    /// <summary>The first characters of <paramref name="whole"/> (a multiple of 4), 32 at a time with AVX2 and then
    /// 16 at a time; <paramref name="consumed"/> says how many, and false means one was outside the alphabet.</summary>
    /// <remarks>Each step stores a whole register (12 of 16, 24 of 32 bytes used), so steps run only while
    /// <paramref name="room"/> holds the full store. The constants are locals here so the loops keep them in
    /// registers.</remarks>
    private static bool TryDecodeVectors(ref byte source, int whole, ref byte destination, int room, out int consumed)
    {
        int i = 0;
        int o = 0;
        Vector128<byte> lowMasks = LowNibbleMasks();
        Vector128<byte> highBits = HighNibbleBits();
        Vector128<byte> offsets = Offsets();
        Vector128<byte> order = PackOrder();
        if (Avx2.IsSupported && whole >= 32)
        {
            Vector256<byte> lowMasks256 = Vector256.Create(lowMasks);
            Vector256<byte> highBits256 = Vector256.Create(highBits);
            Vector256<byte> offsets256 = Vector256.Create(offsets);
            Vector256<byte> order256 = Vector256.Create(order);
            Vector256<byte> errors = Vector256<byte>.Zero;
            while (i + 32 <= whole && o + 32 <= room)
            {
                Vector256<byte> chars = Unsafe.As<byte, Vector256<byte>>(ref Unsafe.Add(ref source, i));
                Vector256<byte> high = Avx2.ShiftRightLogical(chars.AsUInt16(), 4).AsByte() & Vector256.Create((byte)0x0F);
                Vector256<byte> low = chars & Vector256.Create((byte)0x0F);
                errors |= Avx2.Shuffle(lowMasks256, low) & Avx2.Shuffle(highBits256, high);
                Vector256<byte> sextets = chars + Avx2.Shuffle(offsets256, high)
                    + (Vector256.Equals(chars, Vector256.Create((byte)'_')) & Vector256.Create((byte)UnderscoreCorrection));

                // Within each 4 sextets a b c d: (a << 6 | b) and (c << 6 | d) as 16-bit, then the 24-bit group in
                // 32; its 3 bytes to the front of each 128-bit lane, and the two lanes' 12 together.
                Vector256<short> pairs = Avx2.MultiplyAddAdjacent(sextets, Vector256.Create((short)0x0140).AsSByte());
                Vector256<int> groups = Avx2.MultiplyAddAdjacent(pairs, Vector256.Create(0x00011000).AsInt16());
                Vector256<byte> packed = Avx2.Shuffle(groups.AsByte(), order256);
                Unsafe.As<byte, Vector256<byte>>(ref Unsafe.Add(ref destination, o)) =
                    Avx2.PermuteVar8x32(packed.AsInt32(), Vector256.Create(0, 1, 2, 4, 5, 6, 3, 7)).AsByte();
                i += 32;
                o += 24;
            }

            if (errors != Vector256<byte>.Zero)
            {
                consumed = 0;
                return false;
            }
        }

        Vector128<byte> errors128 = Vector128<byte>.Zero;
        while (i + 16 <= whole && o + 16 <= room)
        {
            Vector128<byte> chars = Unsafe.As<byte, Vector128<byte>>(ref Unsafe.Add(ref source, i));
            Vector128<byte> high = Sse2.ShiftRightLogical(chars.AsUInt16(), 4).AsByte() & Vector128.Create((byte)0x0F);
            Vector128<byte> low = chars & Vector128.Create((byte)0x0F);
            errors128 |= Ssse3.Shuffle(lowMasks, low) & Ssse3.Shuffle(highBits, high);
            Vector128<byte> sextets = chars + Ssse3.Shuffle(offsets, high)
                + (Vector128.Equals(chars, Vector128.Create((byte)'_')) & Vector128.Create((byte)UnderscoreCorrection));
            Vector128<short> pairs = Ssse3.MultiplyAddAdjacent(sextets, Vector128.Create((short)0x0140).AsSByte());
            Vector128<int> groups = Sse2.MultiplyAddAdjacent(pairs, Vector128.Create(0x00011000).AsInt16());
            Unsafe.As<byte, Vector128<byte>>(ref Unsafe.Add(ref destination, o)) = Ssse3.Shuffle(groups.AsByte(), order);
            i += 16;
            o += 12;
        }

        consumed = i;
        return errors128 == Vector128<byte>.Zero;
    }

    /// <summary>'_' (0x5F) takes the offset of 'P'-'Z' (-65), 33 short of its value 63.</summary>
    private const byte UnderscoreCorrection = 33;

    /// <summary>By high nibble, the class bit its low nibbles are checked against: 1 for a high nibble with no
    /// valid character (0-1, 8-F, so every byte of 0x80 or above), 2 for 0x2_ ('-'), 4 for 0x3_ ('0'-'9'), 8 for 0x4_
    /// and 0x6_ ('A'-'O', 'a'-'o'), 16 for 0x5_ ('P'-'Z', '_'), 32 for 0x7_ ('p'-'z').</summary>
    private static Vector128<byte> HighNibbleBits() => Vector128.Create(
        (byte)1, 1, 2, 4, 8, 16, 8, 32, 1, 1, 1, 1, 1, 1, 1, 1);

    /// <summary>By low nibble, the classes in which it is not a valid character: always 1; 2 unless 0xD ('-'); 4 from
    /// 0xA (':' to '?'); 8 at 0 ('@', '`'); 16 from 0xB to 0xE ('[' to '^'); 32 from 0xB ('{' to DEL).</summary>
    private static Vector128<byte> LowNibbleMasks() => Vector128.Create(
        (byte)(1 | 2 | 8), 1 | 2, 1 | 2, 1 | 2, 1 | 2, 1 | 2, 1 | 2, 1 | 2,
        1 | 2, 1 | 2, 1 | 2 | 4, 1 | 2 | 4 | 16 | 32, 1 | 2 | 4 | 16 | 32, 1 | 4 | 16 | 32, 1 | 2 | 4 | 16 | 32, 1 | 2 | 4 | 32);

    /// <summary>By high nibble, what to add to a valid character for its value: '-' + 17 = 62, '0' + 4 = 52,
    /// 'A' - 65 = 0, 'a' - 71 = 26.</summary>
    private static Vector128<byte> Offsets() => Vector128.Create(
        (byte)0, 0, 17, 4, unchecked((byte)-65), unchecked((byte)-65), unchecked((byte)-71), unchecked((byte)-71), 0, 0, 0, 0, 0, 0, 0, 0);

    /// <summary>The three bytes of each 32-bit group (value in its low 24 bits), most significant first.</summary>
    private static Vector128<byte> PackOrder() => Vector128.Create(
        (byte)2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, 0x80, 0x80, 0x80, 0x80);

    /// <summary>The value of each base64url character (RFC 4648 section 5), -1 for every other byte.</summary>
    private static ReadOnlySpan<sbyte> Sextets =>
    [
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1,
        52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
        -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
        15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, 63,
        -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
        41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    ];
}
