using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Text.Json;

namespace FastGate.Gateway.Security;

/// <summary>What <see cref="JwtJsonMembers.Next"/> found.</summary>
internal enum JwtJsonStep
{
    /// <summary>A top-level member: its name and value are set.</summary>
    Member,

    /// <summary>The object closed, followed only by whitespace: the whole document is valid JSON.</summary>
    End,

    /// <summary>Something this scanner does not decide: an escape, a control character, a duplicate name, deep
    /// nesting, too many members, or invalid JSON. The caller reads the document with Utf8JsonReader instead.</summary>
    Unsure,
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
/// input must already be valid UTF-8 (the validator checks the whole part first): bytes 0x80 and above can
/// then only be string content, and the structure is ASCII.
/// </remarks>
[SkipLocalsInit]
internal ref struct JwtJsonMembers
{
    /// <summary>Top-level members tracked for duplicates; the validator's reader path rejects more anyway.</summary>
    public const int MaxMembers = 64;

    /// <summary>Total bytes of top-level names, the reader path's limit too.</summary>
    public const int MaxNameBytes = 1024;

    /// <summary>64-bit words of the quote bitmap for the longest document decided here: 8 KiB, the default
    /// token size limit.</summary>
    public const int MaxQuoteWords = 128;

    /// <summary>Nesting below the top-level object decided here; Utf8JsonReader's own limit is 64.</summary>
    private const int MaxNestedDepth = 32;

    private readonly ReadOnlySpan<byte> _json;
    private readonly Span<ulong> _quotes;
    private readonly Span<int> _nameStarts;
    private readonly Span<int> _nameLengths;
    private int _position;
    private int _count;
    private int _nameBytes;
    private ulong _seen;

    /// <param name="quotes">room for the quote bitmap: <see cref="MaxQuoteWords"/> entries, or fewer for
    /// documents known to be short (a longer one is Unsure)</param>
    /// <param name="nameStarts">room for <see cref="MaxMembers"/> entries</param>
    /// <param name="nameLengths">room for <see cref="MaxMembers"/> entries</param>
    public JwtJsonMembers(ReadOnlySpan<byte> json, Span<ulong> quotes, Span<int> nameStarts, Span<int> nameLengths)
    {
        _json = json;
        _quotes = quotes;
        _nameStarts = nameStarts;
        _nameLengths = nameLengths;
        _position = -1;
    }

    /// <summary>The next top-level member. For a string, <paramref name="value"/> is its content without quotes;
    /// for a number, true, false or null its text; for an array or object its whole text, brackets included.</summary>
    public JwtJsonStep Next(out ReadOnlySpan<byte> name, out JsonTokenType kind, out ReadOnlySpan<byte> value)
    {
        name = default;
        value = default;
        kind = JsonTokenType.None;
        ReadOnlySpan<byte> json = _json;
        int position = _position;
        ReadOnlySpan<ulong> quotes = _quotes;
        if (position < 0)
        {
            if (!TryIndexQuotes(json, _quotes))
            {
                return JwtJsonStep.Unsure;
            }

            position = SkipWhitespace(json, 0);
            if (position >= json.Length || json[position] != (byte)'{')
            {
                return JwtJsonStep.Unsure;
            }

            position = SkipWhitespace(json, position + 1);
            if (position < json.Length && json[position] == (byte)'}')
            {
                return Finish(position + 1);
            }
        }
        else
        {
            // After a member: ',' and another, or the end of the object.
            position = SkipWhitespace(json, position);
            if (position >= json.Length)
            {
                return JwtJsonStep.Unsure;
            }

            if (json[position] == (byte)'}')
            {
                return Finish(position + 1);
            }

            if (json[position] != (byte)',')
            {
                return JwtJsonStep.Unsure;
            }

            position = SkipWhitespace(json, position + 1);
        }

        if (!TryScanString(json, quotes, ref position, out int nameStart, out int nameEnd) || !TryRemember(nameStart, nameEnd - nameStart))
        {
            return JwtJsonStep.Unsure;
        }

        position = SkipWhitespace(json, position);
        if (position >= json.Length || json[position] != (byte)':')
        {
            return JwtJsonStep.Unsure;
        }

        position = SkipWhitespace(json, position + 1);
        int valueStart = position;
        if (!TryScanValue(json, quotes, ref position, out kind))
        {
            return JwtJsonStep.Unsure;
        }

        name = json[nameStart..nameEnd];
        value = kind == JsonTokenType.String ? json[(valueStart + 1)..(position - 1)] : json[valueStart..position];
        _position = position;
        return JwtJsonStep.Member;
    }

    /// <summary>The elements of an array value of <see cref="Next"/> (already validated, escape-free): the next
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

    private readonly JwtJsonStep Finish(int position) =>
        SkipWhitespace(_json, position) == _json.Length ? JwtJsonStep.End : JwtJsonStep.Unsure;

    /// <summary>Records a top-level name; false for a duplicate or past the limits.</summary>
    private bool TryRemember(int start, int length)
    {
        if (_count == MaxMembers || (_nameBytes += length) > MaxNameBytes)
        {
            return false;
        }

        ReadOnlySpan<byte> name = _json.Slice(start, length);

        // A 64-bit filter on length and edge bytes: most names differ here, and only a hit compares bytes.
        ulong bit = length == 0 ? 1UL : 1UL << ((length * 7 + name[0] + (name[^1] * 3)) & 63);
        if ((_seen & bit) != 0)
        {
            for (int i = 0; i < _count; i++)
            {
                if (_json.Slice(_nameStarts[i], _nameLengths[i]).SequenceEqual(name))
                {
                    return false;
                }
            }
        }

        _seen |= bit;
        _nameStarts[_count] = start;
        _nameLengths[_count] = length;
        _count++;
        return true;
    }

    /// <summary>One bit per quote of the document into <paramref name="quotes"/>, 32 (or 16) bytes at a time; false when the
    /// document holds a backslash (an escape, or invalid outside a string), a control character inside a string
    /// (RFC 8259 section 7: U+0000 to U+001F must be escaped), or is too long for the bitmap.</summary>
    /// <remarks>Found one byte at a time, each string's end is a branch the predictor misses: 2.5 cycles a byte on
    /// a claims set, more than the rest of the scan. With the bitmap a string ends at one trailing-zero count.
    /// Inside-string bytes are the prefix XOR of the quote bits (a quote toggles the state), carried across
    /// words.</remarks>
    private static bool TryIndexQuotes(ReadOnlySpan<byte> json, Span<ulong> quotes)
    {
        int words = (json.Length + 63) >> 6;
        if (words > quotes.Length)
        {
            return false;
        }

        Span<byte> tail = stackalloc byte[64];
        ulong inString = 0;
        for (int word = 0; word < words; word++)
        {
            int start = word << 6;
            scoped ReadOnlySpan<byte> chunk = json[start..];
            int valid = Math.Min(chunk.Length, 64);
            if (valid < 64)
            {
                // Padding with spaces: neither quote, backslash nor control.
                tail.Fill((byte)' ');
                chunk[..valid].CopyTo(tail);
                chunk = tail;
            }

            ulong quote = 0;
            ulong control = 0;
            ulong backslash = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (int i = 0; i < 2; i++)
                {
                    Vector256<byte> v = Vector256.Create(chunk.Slice(i << 5, 32));
                    quote |= (ulong)Vector256.Equals(v, Vector256.Create((byte)'"')).ExtractMostSignificantBits() << (i << 5);
                    backslash |= Vector256.Equals(v, Vector256.Create((byte)'\\')).ExtractMostSignificantBits();
                    control |= (ulong)Vector256.LessThan(v, Vector256.Create((byte)0x20)).ExtractMostSignificantBits() << (i << 5);
                }
            }
            else
            {
                for (int i = 0; i < 4; i++)
                {
                    Vector128<byte> v = Vector128.Create(chunk.Slice(i << 4, 16));
                    quote |= (ulong)Vector128.Equals(v, Vector128.Create((byte)'"')).ExtractMostSignificantBits() << (i << 4);
                    backslash |= Vector128.Equals(v, Vector128.Create((byte)'\\')).ExtractMostSignificantBits();
                    control |= (ulong)Vector128.LessThan(v, Vector128.Create((byte)0x20)).ExtractMostSignificantBits() << (i << 4);
                }
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
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SkipWhitespace(ReadOnlySpan<byte> json, int position)
    {
        // RFC 8259 section 2: space, horizontal tab, line feed, carriage return.
        while ((uint)position < (uint)json.Length && json[position] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r')
        {
            position++;
        }

        return position;
    }

    /// <summary>A string without control characters (and, as checked first, escapes) at <paramref name="position"/>; the content is
    /// [start, end), and <paramref name="position"/> moves past the closing quote.</summary>
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

    /// <summary>Any JSON value at <paramref name="position"/> (RFC 8259 section 3), nested values included;
    /// <paramref name="position"/> moves past it.</summary>
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
                return TryScanNumber(json, ref position);
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
    /// checked by the caller's grammar (a delimiter), so "01" and "1x" fail there.</summary>
    private static bool TryScanNumber(ReadOnlySpan<byte> json, ref int position)
    {
        int p = position;
        if (json[p] == (byte)'-')
        {
            p++;
        }

        if (p >= json.Length || !char.IsAsciiDigit((char)json[p]))
        {
            return false;
        }

        p = json[p] == (byte)'0' ? p + 1 : SkipDigits(json, p);
        if (p < json.Length && json[p] == (byte)'.')
        {
            int digits = p + 1;
            p = SkipDigits(json, digits);
            if (p == digits)
            {
                return false;
            }
        }

        if (p < json.Length && (json[p] | 0x20) == (byte)'e')
        {
            p++;
            if (p < json.Length && json[p] is (byte)'+' or (byte)'-')
            {
                p++;
            }

            int digits = p;
            p = SkipDigits(json, digits);
            if (p == digits)
            {
                return false;
            }
        }

        position = p;
        return true;
    }

    private static int SkipDigits(ReadOnlySpan<byte> json, int position)
    {
        while (position < json.Length && char.IsAsciiDigit((char)json[position]))
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
