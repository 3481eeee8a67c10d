using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text.Json;
using System.Text.Unicode;

namespace FastGate.Gateway.Security;

/// <summary>How <see cref="JwtJsonMembers.Scan"/> ended.</summary>
internal enum JwtJsonStep
{
    /// <summary>The object closed, followed only by whitespace: the whole document is valid JSON, and the handler
    /// saw every top-level member.</summary>
    End,

    /// <summary>Something this scanner does not decide: an escape, a control character, a duplicate name, deep
    /// nesting, too many members, invalid JSON, or a member the handler declined. The caller reads the document
    /// with Utf8JsonReader instead.</summary>
    Unsure,
}

/// <summary>Receives the top-level members found by <see cref="JwtJsonMembers.Scan"/>; a struct (or ref struct),
/// so the scan is compiled once per handler with the callback inlined into its member loop.</summary>
internal interface IJwtJsonMemberHandler
{
    /// <summary>One member. For a string, <paramref name="value"/> is its content without quotes; for a number,
    /// true, false or null its text; for an array or object its whole text, brackets included.
    /// <paramref name="integer"/> is a number's value when it is a plain integer of at most 18 digits, else
    /// <see cref="JwtJsonMembers.NotAnInteger"/>. False stops the scan with <see cref="JwtJsonStep.Unsure"/>.</summary>
    bool OnMember(ReadOnlySpan<byte> name, JsonTokenType kind, ReadOnlySpan<byte> value, long integer);
}

/// <summary>A strict one-pass scanner of the top-level members of a JOSE header or JWT claims set (a JSON object,
/// RFC 8259), for the common case: no escapes anywhere, unique names, shallow nesting.</summary>
/// <remarks>
/// It is the fast path in front of Utf8JsonReader, which costs about 1 ns a byte on a claims set (566 ns on the
/// benchmark token's payload, half the cold HS256 budget). Its contract is one-sided: <see cref="JwtJsonStep.End"/>
/// is returned only for documents Utf8JsonReader (default options) reads as one object with exactly the members
/// reported, and with unique names (RFC 7515 section 4, RFC 7519 section 4). Anything else, valid or not, is
/// <see cref="JwtJsonStep.Unsure"/>, and the reader decides; so the reader alone defines what is Malformed, and
/// this scanner need not reproduce its error cases.
/// Without escapes a string's bytes are its value, so names and string values are handed out as raw spans. The
/// scanner decides only valid UTF-8: the pass that finds the quotes also finds any byte of 0x80 or above, and only
/// then is the document validated as UTF-8 (a token's header and claims are nearly always ASCII, and a separate
/// validation pass cost 15-20 ns of both). Such bytes can then only be string content; the structure is ASCII.
/// <para>The member loop is one generic method per handler with the callback inlined: the earlier pull-style
/// Next, one call per member with its state in fields and out parameters, spent 60-80 cycles a member in it.
/// Numbers are parsed while they are scanned, so a date claim is not read twice. On the benchmark token's payload
/// (10 members, 330 bytes) the whole scan, bitmap included, takes about 200 ns (perf-results, round 2).</para>
/// </remarks>
[SkipLocalsInit]
internal static class JwtJsonMembers
{
    /// <summary>Top-level members decided here (more is Unsure), the reader path's limit too.</summary>
    public const int MaxMembers = JwtMemberNames.MaxMembers;

    /// <summary>The integer handed to <see cref="IJwtJsonMemberHandler.OnMember"/> for anything but a plain integer
    /// of at most 18 digits (which never reaches long.MinValue).</summary>
    public const long NotAnInteger = long.MinValue;

    /// <summary>64-bit words of the quote bitmap for the longest document decided here: 8 KiB, the default
    /// token size limit.</summary>
    private const int MaxQuoteWords = 128;

    /// <summary>Nesting below the top-level object decided here; Utf8JsonReader's own limit is 64.</summary>
    private const int MaxNestedDepth = 32;

    /// <summary>RFC 8259 section 2 whitespace (space, horizontal tab, line feed, carriage return) as bits.</summary>
    private const ulong WhitespaceBits = (1UL << ' ') | (1UL << '\t') | (1UL << '\n') | (1UL << '\r');

    /// <summary>Scans <paramref name="json"/>, handing each top-level member to <paramref name="handler"/> in
    /// document order.</summary>
    /// <remarks>The scratch memory is allocated here, outside the loops: a method with both stackalloc and a loop
    /// is compiled once, fully optimized but without tiering, so without profile-guided layout and inlining.</remarks>
    public static JwtJsonStep Scan<THandler>(ReadOnlySpan<byte> json, ref THandler handler)
        where THandler : IJwtJsonMemberHandler, allows ref struct
    {
        Span<ulong> quotes = stackalloc ulong[MaxQuoteWords];
        if (!TryIndexQuotes(json, quotes, stackalloc byte[64], out bool ascii, out bool compact)
            || (!ascii && !Utf8.IsValid(json)))
        {
            return JwtJsonStep.Unsure;
        }

        // Whitespace after the object is valid JSON: it is cut off here, so the object's '}' is the last byte, the one
        // every loop of the member scan stops at (see ScanMembers). A compact document has none.
        int last = json.Length - 1;
        while (last >= 0 && IsWhitespace(json[last]))
        {
            last--;
        }

        if (last < 1 || json[last] != (byte)'}')
        {
            return JwtJsonStep.Unsure;
        }

        json = json[..(last + 1)];
        ReadOnlySpan<ulong> used = quotes[..((json.Length + 63) >> 6)];
        bool end = compact
            ? ScanMembers<THandler, CompactLayout>(json, used, stackalloc int[MaxMembers], ref handler)
            : ScanMembers<THandler, SpacedLayout>(json, used, stackalloc int[MaxMembers], ref handler);
        return end ? JwtJsonStep.End : JwtJsonStep.Unsure;
    }

    /// <summary>True when the object closed at the last byte of <paramref name="json"/>, with every member handed
    /// out and no name twice.</summary>
    /// <remarks>
    /// <paramref name="json"/> ends with '}' (<see cref="Scan"/> cut off whitespace after it and checked). That byte
    /// is no whitespace, quote, digit, sign, '.', 'e', ':', ',' or ']', so every loop below stops at it, and a byte
    /// the grammar has just accepted as anything but the object's end has another after it. So the loop reads the
    /// document through a reference without bounds checks: each read is one past a byte already read and found to
    /// be something else than that '}', or a quote found in the bitmap (which covers only the document), or the
    /// position a nested value's checked scan ends at, which is tested. With checked slicing and a quote iterator
    /// (two more variables carried through the loop), the loop's state spilled to the stack and the benchmark
    /// claims set's member loop took about 110 ns for 10 members
    /// (perf-results/benchmarks_2026-11-27_hs256e.md).
    /// A string's end is the first quote after its opening one (the document has no backslash), found in the
    /// bitmap from the position, so the loop carries nothing but the position between members.
    /// </remarks>
    private static bool ScanMembers<THandler, TLayout>(
        ReadOnlySpan<byte> json, scoped ReadOnlySpan<ulong> quotes, scoped Span<int> nameSpans, ref THandler handler)
        where THandler : IJwtJsonMemberHandler, allows ref struct
        where TLayout : struct, IJsonLayout
    {
        ref byte document = ref MemoryMarshal.GetReference(json);
        int last = json.Length - 1;
        int position = Skip<TLayout>(ref document, 0);
        if (Unsafe.Add(ref document, position) != (byte)'{')
        {
            return false;
        }

        position = Skip<TLayout>(ref document, position + 1);
        if (Unsafe.Add(ref document, position) == (byte)'}')
        {
            return position == last;
        }

        var names = default(JwtMemberNames);
        while (true)
        {
            if (Unsafe.Add(ref document, position) != (byte)'"')
            {
                return false;
            }

            int nameStart = position + 1;
            int nameEnd = NextQuote(quotes, nameStart);
            if (nameEnd < 0 || !names.TryAdd(nameSpans, nameStart, nameEnd - nameStart))
            {
                return false;
            }

            position = Skip<TLayout>(ref document, nameEnd + 1);
            if (Unsafe.Add(ref document, position) != (byte)':')
            {
                return false;
            }

            position = Skip<TLayout>(ref document, position + 1);
            int valueStart = position;
            int valueEnd;
            byte first = Unsafe.Add(ref document, position);
            long integer = NotAnInteger;
            JsonTokenType kind;
            if (first == (byte)'"')
            {
                kind = JsonTokenType.String;
                valueStart = position + 1;
                valueEnd = NextQuote(quotes, valueStart);
                if (valueEnd < 0)
                {
                    return false;
                }

                position = valueEnd + 1;
            }
            else if (first == (byte)'-' || (uint)(first - '0') <= 9)
            {
                kind = JsonTokenType.Number;
                if (!TryScanNumber(ref document, json.Length, ref position, out integer))
                {
                    return false;
                }

                valueEnd = position;
            }
            else if (first == (byte)'[' && TryScanStringArray<TLayout>(ref document, quotes, ref position))
            {
                kind = JsonTokenType.StartArray;
                valueEnd = position;
            }
            else
            {
                // A copy of the position goes to the call that is not inlined: a local whose address escapes lives
                // in memory for the whole loop, and the loop's position is its hottest variable. A nested object
                // may end with the document's last byte: then nothing follows, and the scan is unsure.
                int end = position;
                if (!TryScanValue(json, quotes, ref end, out JsonTokenType nested) || end > last)
                {
                    return false;
                }

                kind = nested;
                position = end;
                valueEnd = end;
            }

            if (!handler.OnMember(
                MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref document, nameStart), nameEnd - nameStart),
                kind,
                MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref document, valueStart), valueEnd - valueStart),
                integer))
            {
                return false;
            }

            // After a member: ',' and another, or the end of the object, which must be the document's last byte.
            position = Skip<TLayout>(ref document, position);
            byte next = Unsafe.Add(ref document, position);
            if (next == (byte)'}')
            {
                return position == last && !names.HasDuplicate(nameSpans, json);
            }

            if (next != (byte)',')
            {
                return false;
            }

            position = Skip<TLayout>(ref document, position + 1);
        }
    }

    /// <summary>The elements of an array value handed out by <see cref="Scan"/> (already validated, escape-free): the next
    /// string element's content; false at the end, or with <paramref name="notString"/> set at any other
    /// element.</summary>
    public static bool TryNextString(ReadOnlySpan<byte> array, ref int position, out ReadOnlySpan<byte> element, out bool notString)
    {
        element = default;
        notString = false;
        position = SkipWhitespace(array, position == 0 ? 1 : position);
        if (array[position] == (byte)',')
        {
            position = SkipWhitespace(array, position + 1);
        }

        if (array[position] == (byte)']')
        {
            return false;
        }

        if (array[position] != (byte)'"')
        {
            notString = true;
            return false;
        }

        int end = array[(position + 1)..].IndexOf((byte)'"') + position + 1;
        element = array[(position + 1)..end];
        position = end + 1;
        return true;
    }

    /// <summary>One bit per quote of the document into <paramref name="quotes"/>, 32 bytes at a time; false when the
    /// document holds a backslash (an escape, or invalid outside a string), a control character inside a string
    /// (RFC 8259 section 7: U+0000 to U+001F must be escaped), or is too long for the bitmap; <paramref name="ascii"/>
    /// says whether every byte is below 0x80.</summary>
    /// <remarks>Found one byte at a time, each string's end is a branch the predictor misses: 2.5 cycles a byte on
    /// a claims set, more than the rest of the scan. With the bitmap a string ends at one trailing-zero count.
    /// Inside-string bytes are the prefix XOR of the quote bits (a quote toggles the state), carried across
    /// words.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryIndexQuotes(
        ReadOnlySpan<byte> json, Span<ulong> quotes, Span<byte> tail, out bool ascii, out bool compact)
    {
        ascii = false;
        compact = false;

        int words = (json.Length + 63) >> 6;
        if (words > quotes.Length)
        {
            return false;
        }

        ulong inString = 0;
        ulong high = 0;
        ulong spacing = 0;
        for (int word = 0; word < words; word++)
        {
            int start = word << 6;
            int valid = Math.Min(json.Length - start, 64);
            ulong quote;
            ulong control;
            ulong backslash;
            ulong nonAscii;
            ulong space;
            if (valid == 64)
            {
                Classify(json.Slice(start, 64), out quote, out control, out backslash, out nonAscii, out space);
            }
            else if (json.Length >= 64)
            {
                // The last 64 bytes, overlapping the word before, shifted down to this word: a copy into a padded
                // buffer cost more than the classification itself on a 37-byte header.
                Classify(json[^64..], out quote, out control, out backslash, out nonAscii, out space);
                int drop = 64 - valid;
                quote >>= drop;
                control >>= drop;
                backslash >>= drop;
                space >>= drop;
            }
            else if (valid >= 32)
            {
                // A short document in one word: the first 32 bytes, and the last 32 moved up to their place
                // (the bytes both cover give the same bits).
                Classify32(json[..32], out uint lowQuote, out uint lowControl, out uint lowBackslash, out uint lowNonAscii, out uint lowSpace);
                Classify32(json[^32..], out uint highQuote, out uint highControl, out uint highBackslash, out uint highNonAscii, out uint highSpace);
                int shift = valid - 32;
                quote = lowQuote | ((ulong)highQuote << shift);
                control = lowControl | ((ulong)highControl << shift);
                backslash = lowBackslash | ((ulong)highBackslash << shift);
                nonAscii = lowNonAscii | highNonAscii;
                space = lowSpace | ((ulong)highSpace << shift);
            }
            else
            {
                // Padding with spaces: neither quote, backslash nor control (and not counted as spacing below).
                tail.Fill((byte)' ');
                json.CopyTo(tail);
                Classify(tail, out quote, out control, out backslash, out nonAscii, out space);
                space &= (1UL << valid) - 1;
            }

            ulong prefix = quote;
            prefix ^= prefix << 1;
            prefix ^= prefix << 2;
            prefix ^= prefix << 4;
            prefix ^= prefix << 8;
            prefix ^= prefix << 16;
            prefix ^= prefix << 32;
            prefix ^= inString;
            if (backslash != 0 || (control & prefix) != 0)
            {
                return false;
            }

            inString = (ulong)((long)prefix >> 63);
            quotes[word] = quote;

            // Bytes up to ' ' outside strings: whitespace between tokens (or a control character the scan rejects).
            spacing |= space & ~prefix;

            // Only whether any byte is 0x80 or above matters: the overlapping loads above may count one twice.
            high |= nonAscii;
        }

        ascii = high == 0;
        compact = spacing == 0;
        return true;
    }

    /// <summary>Bit i of each mask says what byte i of the 64-byte <paramref name="chunk"/> is.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Classify(ReadOnlySpan<byte> chunk, out ulong quote, out ulong control, out ulong backslash, out ulong nonAscii, out ulong space)
    {
        Classify32(chunk[..32], out uint lowQuote, out uint lowControl, out uint lowBackslash, out uint lowNonAscii, out uint lowSpace);
        Classify32(chunk.Slice(32, 32), out uint highQuote, out uint highControl, out uint highBackslash, out uint highNonAscii, out uint highSpace);
        quote = lowQuote | ((ulong)highQuote << 32);
        control = lowControl | ((ulong)highControl << 32);
        backslash = lowBackslash | ((ulong)highBackslash << 32);
        nonAscii = lowNonAscii | ((ulong)highNonAscii << 32);
        space = lowSpace | ((ulong)highSpace << 32);
    }

    /// <summary>The same for 32 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Classify32(ReadOnlySpan<byte> chunk, out uint quote, out uint control, out uint backslash, out uint nonAscii, out uint space)
    {
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<byte> v = Vector256.Create(chunk);
            nonAscii = v.ExtractMostSignificantBits();
            quote = Vector256.Equals(v, Vector256.Create((byte)'"')).ExtractMostSignificantBits();
            backslash = Vector256.Equals(v, Vector256.Create((byte)'\\')).ExtractMostSignificantBits();
            control = Vector256.LessThan(v, Vector256.Create((byte)0x20)).ExtractMostSignificantBits();
            space = Vector256.LessThan(v, Vector256.Create((byte)0x21)).ExtractMostSignificantBits();
            return;
        }

        Vector128<byte> low = Vector128.Create(chunk[..16]);
        Vector128<byte> high = Vector128.Create(chunk.Slice(16, 16));
        nonAscii = low.ExtractMostSignificantBits() | (high.ExtractMostSignificantBits() << 16);
        quote = Vector128.Equals(low, Vector128.Create((byte)'"')).ExtractMostSignificantBits()
            | (Vector128.Equals(high, Vector128.Create((byte)'"')).ExtractMostSignificantBits() << 16);
        backslash = Vector128.Equals(low, Vector128.Create((byte)'\\')).ExtractMostSignificantBits()
            | (Vector128.Equals(high, Vector128.Create((byte)'\\')).ExtractMostSignificantBits() << 16);
        control = Vector128.LessThan(low, Vector128.Create((byte)0x20)).ExtractMostSignificantBits()
            | (Vector128.LessThan(high, Vector128.Create((byte)0x20)).ExtractMostSignificantBits() << 16);
        space = Vector128.LessThan(low, Vector128.Create((byte)0x21)).ExtractMostSignificantBits()
            | (Vector128.LessThan(high, Vector128.Create((byte)0x21)).ExtractMostSignificantBits() << 16);
    }

    /// <summary>Past the whitespace at <paramref name="position"/>, or nothing in a document known to have none
    /// between its tokens; stops at the document's final '}' (see <see cref="ScanMembers"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Skip<TLayout>(ref byte document, int position)
        where TLayout : struct, IJsonLayout
    {
        if (!TLayout.Compact)
        {
            while (IsWhitespace(Unsafe.Add(ref document, position)))
            {
                position++;
            }
        }

        return position;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsWhitespace(byte c) => c <= ' ' && ((WhitespaceBits >> c) & 1) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SkipWhitespace(ReadOnlySpan<byte> json, int position)
    {
        // Token producers write no whitespace: one compare ends the common case.
        while ((uint)position < (uint)json.Length && IsWhitespace(json[position]))
        {
            position++;
        }

        return position;
    }

    /// <summary>A string without control characters (and, as checked first, escapes) at <paramref name="position"/>; the content is
    /// [start, end), and <paramref name="position"/> moves past the closing quote.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryScanString(ReadOnlySpan<byte> json, ReadOnlySpan<ulong> quotes, ref int position, out int start, out int end)
    {
        start = position + 1;
        end = 0;
        if ((uint)position >= (uint)json.Length || json[position] != (byte)'"')
        {
            return false;
        }

        // The next quote closes it: the document has no backslash, and no control character inside a string.
        int word = start >> 6;
        if (word >= quotes.Length)
        {
            return false;
        }

        ulong bits = quotes[word] & (ulong.MaxValue << (start & 63));
        while (bits == 0)
        {
            if (++word == quotes.Length)
            {
                return false;
            }

            bits = quotes[word];
        }

        end = (word << 6) + BitOperations.TrailingZeroCount(bits);
        position = end + 1;
        return true;
    }

    /// <summary>An array of strings (roles, groups, a list of audiences) at <paramref name="position"/>; false, with
    /// <paramref name="position"/> unchanged, for any other value. Reads as <see cref="ScanMembers"/> does.</summary>
    /// <remarks>The general container scan costs about 35 ns for ["reader","editor"], as much as three other
    /// members.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryScanStringArray<TLayout>(ref byte document, ReadOnlySpan<ulong> quotes, ref int position)
        where TLayout : struct, IJsonLayout
    {
        int p = Skip<TLayout>(ref document, position + 1);
        if (Unsafe.Add(ref document, p) == (byte)']')
        {
            position = p + 1;
            return true;
        }

        while (Unsafe.Add(ref document, p) == (byte)'"')
        {
            int end = NextQuote(quotes, p + 1);
            if (end < 0)
            {
                return false;
            }

            p = Skip<TLayout>(ref document, end + 1);
            byte next = Unsafe.Add(ref document, p);
            if (next == (byte)']')
            {
                position = p + 1;
                return true;
            }

            if (next != (byte)',')
            {
                return false;
            }

            p = Skip<TLayout>(ref document, p + 1);
        }

        return false;
    }

    /// <summary>The first quote at or after <paramref name="from"/>, a position inside the document, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int NextQuote(ReadOnlySpan<ulong> quotes, int from)
    {
        ref ulong words = ref MemoryMarshal.GetReference(quotes);
        int word = from >> 6;
        ulong bits = Unsafe.Add(ref words, word) & (ulong.MaxValue << from);
        while (bits == 0)
        {
            if (++word >= quotes.Length)
            {
                return -1;
            }

            bits = Unsafe.Add(ref words, word);
        }

        return (word << 6) + BitOperations.TrailingZeroCount(bits);
    }

    /// <summary>Any JSON value at <paramref name="position"/> (RFC 8259 section 3), nested values included;
    /// <paramref name="position"/> moves past it. <paramref name="json"/> ends with '}', as in
    /// <see cref="ScanMembers"/>.</summary>
    private static bool TryScanValue(ReadOnlySpan<byte> json, ReadOnlySpan<ulong> quotes, ref int position, out JsonTokenType kind)
    {
        kind = JsonTokenType.None;
        if ((uint)position >= (uint)json.Length)
        {
            return false;
        }

        switch (json[position])
        {
            case (byte)'"':
                kind = JsonTokenType.String;
                return TryScanString(json, quotes, ref position, out _, out _);
            case (byte)'{':
                kind = JsonTokenType.StartObject;
                return TryScanContainer(json, quotes, ref position);
            case (byte)'[':
                kind = JsonTokenType.StartArray;
                return TryScanContainer(json, quotes, ref position);
            case (byte)'t':
                kind = JsonTokenType.True;
                return TryScanLiteral(json, ref position, "true"u8);
            case (byte)'f':
                kind = JsonTokenType.False;
                return TryScanLiteral(json, ref position, "false"u8);
            case (byte)'n':
                kind = JsonTokenType.Null;
                return TryScanLiteral(json, ref position, "null"u8);
            default:
                kind = JsonTokenType.Number;
                return TryScanNumber(ref MemoryMarshal.GetReference(json), json.Length, ref position, out _);
        }
    }

    private static bool TryScanLiteral(ReadOnlySpan<byte> json, ref int position, ReadOnlySpan<byte> literal)
    {
        if (!json[position..].StartsWith(literal))
        {
            return false;
        }

        position += literal.Length;
        return true;
    }

    /// <summary>RFC 8259 section 6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?. What may follow is
    /// checked by the caller's grammar (a delimiter), so "01" and "1x" fail there. A plain integer of at most 18
    /// digits is parsed on the way (<see cref="NotAnInteger"/> otherwise).</summary>
    /// <remarks>The document (<paramref name="length"/> bytes) ends with '}', where every digit loop stops, so
    /// bytes are read unchecked as in <see cref="ScanMembers"/>; only the eight-byte reads test the length.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryScanNumber(ref byte document, int length, ref int position, out long integer)
    {
        integer = NotAnInteger;
        int p = position;
        bool negative = Unsafe.Add(ref document, p) == (byte)'-';
        if (negative)
        {
            p++;
        }

        uint digit = (uint)(Unsafe.Add(ref document, p) - '0');
        if (digit > 9)
        {
            return false;
        }

        int digitsStart = p;
        long value = digit;
        p++;
        if (digit != 0)
        {
            // Wraps past 18 digits, and is then not reported. Eight digits at a time while there are eight: a date
            // claim has ten, and one at a time they cost 3-5 ns a number in the benchmark token's claims.
            while (p + 8 <= length
                && TryParseEightDigits(BinaryPrimitives.ReadUInt64LittleEndian(MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref document, p), 8)), out uint eight))
            {
                value = unchecked((value * 100_000_000) + eight);
                p += 8;
            }

            while ((digit = (uint)(Unsafe.Add(ref document, p) - '0')) <= 9)
            {
                value = unchecked((value * 10) + digit);
                p++;
            }
        }

        bool plain = p - digitsStart <= 18;
        if (Unsafe.Add(ref document, p) == (byte)'.')
        {
            plain = false;
            int digits = p + 1;
            p = SkipDigits(ref document, digits);
            if (p == digits)
            {
                return false;
            }
        }

        if ((Unsafe.Add(ref document, p) | 0x20) == (byte)'e')
        {
            plain = false;
            p++;
            if (Unsafe.Add(ref document, p) is (byte)'+' or (byte)'-')
            {
                p++;
            }

            int digits = p;
            p = SkipDigits(ref document, digits);
            if (p == digits)
            {
                return false;
            }
        }

        if (plain)
        {
            integer = negative ? -value : value;
        }

        position = p;
        return true;
    }

    /// <summary>The value of 8 ASCII digits read as a little-endian word (the first digit in its lowest byte); false
    /// when any byte is not a digit.</summary>
    /// <remarks>The SWAR method of D. Lemire ("Quickly parsing eight digits"): a byte is a digit when its high
    /// nibble is 3 and adding 6 leaves it 3; then adjacent digits are combined into 2-digit, 4-digit and 8-digit
    /// values by three multiplications.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool TryParseEightDigits(ulong word, out uint value)
    {
        const ulong HighNibbles = 0xF0F0F0F0F0F0F0F0UL;
        if (((word & HighNibbles) | (((word + 0x0606060606060606UL) & HighNibbles) >> 4)) != 0x3333333333333333UL)
        {
            value = 0;
            return false;
        }

        word -= 0x3030303030303030UL;
        word = (word * 10) + (word >> 8);
        const ulong Pairs = 0x000000FF000000FFUL;
        word = (((word & Pairs) * (100 + (1_000_000UL << 32))) + (((word >> 16) & Pairs) * (1 + (10_000UL << 32)))) >> 32;
        value = (uint)word;
        return true;
    }

    private static int SkipDigits(ref byte document, int position)
    {
        while (char.IsAsciiDigit((char)Unsafe.Add(ref document, position)))
        {
            position++;
        }

        return position;
    }

    /// <summary>An object or array at <paramref name="position"/>, iteratively: one bit per level says object (1)
    /// or array (0). No trailing commas, names are strings, every value complete.</summary>
    private static bool TryScanContainer(ReadOnlySpan<byte> json, ReadOnlySpan<ulong> quotes, ref int position)
    {
        ulong objects = 0;
        int depth = 0;
        int p = position;
        while (true)
        {
            // At the start of a value.
            byte c = json[p];
            if (c is (byte)'{' or (byte)'[')
            {
                if (++depth > MaxNestedDepth)
                {
                    return false;
                }

                bool isObject = c == (byte)'{';
                objects = (objects << 1) | (isObject ? 1UL : 0UL);
                p = SkipWhitespace(json, p + 1);
                if (p >= json.Length)
                {
                    return false;
                }

                if (json[p] == (isObject ? (byte)'}' : (byte)']'))
                {
                    p++;
                    depth--;
                    objects >>= 1;
                }
                else
                {
                    if (isObject && !TryScanNameAndColon(json, quotes, ref p))
                    {
                        return false;
                    }

                    continue;
                }
            }
            else if (!TryScanValue(json, quotes, ref p, out _))
            {
                return false;
            }

            // After a value: close containers, or a comma and the next value.
            while (true)
            {
                if (depth == 0)
                {
                    position = p;
                    return true;
                }

                p = SkipWhitespace(json, p);
                if (p >= json.Length)
                {
                    return false;
                }

                bool inObject = (objects & 1) != 0;
                c = json[p];
                if (c == (inObject ? (byte)'}' : (byte)']'))
                {
                    p++;
                    depth--;
                    objects >>= 1;
                    continue;
                }

                if (c != (byte)',')
                {
                    return false;
                }

                p = SkipWhitespace(json, p + 1);
                if (p >= json.Length || (inObject && !TryScanNameAndColon(json, quotes, ref p)))
                {
                    return false;
                }

                break;
            }
        }
    }

    /// <summary>"name" ws ':' ws, leaving <paramref name="position"/> at the value (which must exist).</summary>
    private static bool TryScanNameAndColon(ReadOnlySpan<byte> json, ReadOnlySpan<ulong> quotes, ref int position)
    {
        if (!TryScanString(json, quotes, ref position, out _, out _))
        {
            return false;
        }

        position = SkipWhitespace(json, position);
        if (position >= json.Length || json[position] != (byte)':')
        {
            return false;
        }

        position = SkipWhitespace(json, position + 1);
        return position < json.Length;
    }
}

/// <summary>Whether a document scanned by <see cref="JwtJsonMembers"/> has whitespace between its tokens: its member
/// loop is compiled once for each answer, and the compact form (what token producers write) skips nothing.</summary>
internal interface IJsonLayout
{
    static abstract bool Compact { get; }
}

/// <summary>No byte up to ' ' outside strings.</summary>
internal readonly struct CompactLayout : IJsonLayout
{
    public static bool Compact => true;
}

/// <summary>Whitespace may stand between tokens.</summary>
internal readonly struct SpacedLayout : IJsonLayout
{
    public static bool Compact => false;
}
