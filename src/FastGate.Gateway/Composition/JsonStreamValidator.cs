using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text.Unicode;

namespace FastGate.Gateway.Composition;

internal enum JsonValidation : byte
{
    /// <summary>Well-formed so far; the value is not complete yet (or may still be followed by whitespace).</summary>
    NeedMore,
    /// <summary>Exactly one well-formed JSON value (RFC 8259 section 2), and only whitespace around it.</summary>
    Complete,
    Invalid,
}

/// <summary>
/// Checks, block by block, that a byte stream is exactly one well-formed JSON value (RFC 8259), without
/// building anything: one forward pass over the bytes, a state machine resumed at the last complete token
/// of the previous block. It tracks the containers open at that token, so a prefix that ends there can
/// always be closed into valid JSON (<see cref="WriteClosing"/>).
/// </summary>
/// <remarks>
/// <para>The caller passes each block starting where the previous call's <c>consumed</c> ended: a token cut
/// by a block boundary is not consumed, and is passed again with the bytes that complete it. A complete
/// token is a value, a closer, or a member name with its colon; a comma counts only with the token after
/// it, so a prefix never ends in a separator that needs more.</para>
/// <para>The grammar is followed by jumps between labels, one per "what may come next" (the RFC 8259
/// section 2-5 productions), so the next byte is compared only with what may follow the last token,
/// and the state is written back only when the block ends. String contents, the bulk of most documents,
/// are scanned 16 bytes at a time for the bytes that end a plain run (quote, backslash, control, non-ASCII);
/// non-ASCII runs are checked by <see cref="Utf8.IsValid(ReadOnlySpan{byte})"/> as a whole.</para>
/// <para>NOTE: the first version ran a <see cref="System.Text.Json.Utf8JsonReader"/> per block plus a
/// <c>Utf8.IsValid</c> per string (5 us per KiB of record-like JSON on the 2-core EPYC); the second, a
/// token loop dispatching on a state variable, 2.9 us; this one, 1.0 us
/// (perf-results/benchmarks_2026-11-26_merge2.md). A UTF-8 byte order mark is refused (RFC 8259 section
/// 8.1: it must not be added, and the merger would copy it into the merged object).</para>
/// </remarks>
[SkipLocalsInit]
internal struct JsonStreamValidator
{
    /// <summary>Nesting bound: one bit per level in <see cref="_objects"/>. Deeper documents are refused.</summary>
    public const int MaxDepth = 64;

    /// <summary>Bytes <see cref="WriteClosing"/> may write: "null" and one closer per level.</summary>
    public const int MaxClosingLength = 4 + MaxDepth;

    // What the scanners return instead of an end position.
    private const int Cut = -1;
    private const int Bad = -2;

    /// <summary>RFC 8259 section 2: space, horizontal tab, line feed, carriage return, as bits of a 64-bit mask.</summary>
    private const ulong WhitespaceBits = (1UL << ' ') | (1UL << '\t') | (1UL << '\n') | (1UL << '\r');

    /// <summary>What ends a string's run of text (RFC 8259 section 7): the quote, an escape, a control character.</summary>
    private static readonly SearchValues<byte> StringBreak = SearchValues.Create(StringBreakBytes());

    private static readonly SearchValues<byte> Whitespace = SearchValues.Create(" \t\n\r"u8);

    /// <summary>Bit <c>d</c> set: the container at depth <c>d</c> (0-based) is an object, else an array.</summary>
    private ulong _objects;
    private int _depth;
    private Expect _expect;

    /// <summary>What the next token may be, at the end of the last complete one.</summary>
    private enum Expect : byte
    {
        /// <summary>A value: the document's start (depth 0), or after a member name and its colon.</summary>
        Value,
        /// <summary>Just after '[': a value or ']'.</summary>
        FirstElement,
        /// <summary>Just after '{': a member name or '}'.</summary>
        FirstMember,
        /// <summary>After a value inside a container: ',' and the next one, or the closer.</summary>
        CommaOrClose,
        /// <summary>The document's value is complete: only whitespace may follow.</summary>
        Done,
    }

    public static JsonStreamValidator Create() => default;

    /// <summary>A whole value was read (only whitespace may follow).</summary>
    public readonly bool IsComplete => _expect == Expect.Done;

    /// <summary>Validates the next block.</summary>
    /// <param name="consumed">bytes of <paramref name="block"/> up to the end of its last complete token</param>
    public JsonValidation Validate(ReadOnlySpan<byte> block, bool isFinalBlock, out int consumed)
    {
        // The state lives in locals; depth and objects change only where a token completes (and the
        // committed position with them), so whatever label the block ends at, the stored state is exactly
        // the state at the last complete token.
        ref byte b = ref MemoryMarshal.GetReference(block);
        int n = block.Length;
        ulong objects = _objects;
        int depth = _depth;
        var expect = _expect;
        int committed = 0;
        int i = 0;
        byte c;
        JsonValidation result;

        switch (expect)
        {
            case Expect.FirstElement:
                goto FirstElement;
            case Expect.FirstMember:
                goto FirstMember;
            case Expect.CommaOrClose:
                goto CommaOrClose;
            case Expect.Done:
                goto Done;
        }

    Value:
        i = SkipWhitespace(ref b, i, n);
        if (i == n)
        {
            goto EndOfBlock;
        }

        c = Unsafe.Add(ref b, i);

    // c is block[i], where a value must start (RFC 8259 section 3).
    ValueAt:
        if (c == '"')
        {
            i = ScanString(ref b, i + 1, n);
            if (i < 0)
            {
                goto ScanFailed;
            }

            goto AfterValue;
        }

        if ((uint)(c - '0') <= 9 || c == '-')
        {
            i = ScanNumber(ref b, i, n, isFinalBlock);
            if (i < 0)
            {
                goto ScanFailed;
            }

            goto AfterValue;
        }

        if ((c | 0x20) == '{')
        {
            // '{' is 0x7B, '[' is 0x5B: they differ only in bit 5.
            if (depth == MaxDepth)
            {
                goto Invalid;
            }

            i++;
            committed = i;
            if (c == '{')
            {
                objects |= 1UL << depth;
                depth++;
                expect = Expect.FirstMember;
                goto FirstMember;
            }

            objects &= ~(1UL << depth);
            depth++;
            expect = Expect.FirstElement;
            goto FirstElement;
        }

        i = c switch
        {
            (byte)'t' => ScanLiteral(block, i, "true"u8),
            (byte)'f' => ScanLiteral(block, i, "false"u8),
            (byte)'n' => ScanLiteral(block, i, "null"u8),
            _ => Bad,
        };
        if (i < 0)
        {
            goto ScanFailed;
        }

    // A value (or a container's closer) ended just before i.
    AfterValue:
        committed = i;
        if (depth == 0)
        {
            expect = Expect.Done;
            goto Done;
        }

        expect = Expect.CommaOrClose;

    CommaOrClose:
        i = SkipWhitespace(ref b, i, n);
        if (i == n)
        {
            goto EndOfBlock;
        }

        c = Unsafe.Add(ref b, i);
        bool inObject = ((objects >> (depth - 1)) & 1) != 0;
        if (c == ',')
        {
            i = SkipWhitespace(ref b, i + 1, n);
            if (i == n)
            {
                goto EndOfBlock;
            }

            c = Unsafe.Add(ref b, i);
            if (inObject)
            {
                goto NameAt;
            }

            goto ValueAt;
        }

        if (c != (inObject ? '}' : ']'))
        {
            goto Invalid;
        }

        depth--;
        i++;
        goto AfterValue;

    FirstMember:
        i = SkipWhitespace(ref b, i, n);
        if (i == n)
        {
            goto EndOfBlock;
        }

        c = Unsafe.Add(ref b, i);
        if (c == '}')
        {
            depth--;
            i++;
            goto AfterValue;
        }

    // c is block[i], where a member name must start (RFC 8259 section 4). The name and its colon are one
    // token: a prefix ending there closes with "null".
    NameAt:
        if (c != '"')
        {
            goto Invalid;
        }

        i = ScanString(ref b, i + 1, n);
        if (i < 0)
        {
            goto ScanFailed;
        }

        i = SkipWhitespace(ref b, i, n);
        if (i == n)
        {
            goto EndOfBlock;
        }

        if (Unsafe.Add(ref b, i) != ':')
        {
            goto Invalid;
        }

        i++;
        committed = i;
        expect = Expect.Value;
        goto Value;

    FirstElement:
        i = SkipWhitespace(ref b, i, n);
        if (i == n)
        {
            goto EndOfBlock;
        }

        c = Unsafe.Add(ref b, i);
        if (c != ']')
        {
            goto ValueAt;
        }

        depth--;
        i++;
        goto AfterValue;

    Done:
        i = SkipWhitespace(ref b, i, n);
        if (i < n)
        {
            goto Invalid;
        }

        result = isFinalBlock ? JsonValidation.Complete : JsonValidation.NeedMore;
        goto Exit;

    ScanFailed:
        if (i == Bad)
        {
            goto Invalid;
        }

    // The block ended before the next token (or inside it): more may come, unless this was the last.
    EndOfBlock:
        result = isFinalBlock ? JsonValidation.Invalid : JsonValidation.NeedMore;
        goto Exit;

    Invalid:
        result = JsonValidation.Invalid;

    Exit:
        _objects = objects;
        _depth = depth;
        _expect = expect;
        consumed = committed;
        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SkipWhitespace(ref byte b, int i, int n)
    {
        // Compact JSON has none: one compare decides. Indentation goes to the vectorised search.
        if (i < n && Unsafe.Add(ref b, i) > ' ')
        {
            return i;
        }

        return SkipWhitespaceRun(ref b, i, n);
    }

    private static int SkipWhitespaceRun(ref byte b, int i, int n)
    {
        for (int stop = Math.Min(n, i + 8); i < stop; i++)
        {
            uint c = Unsafe.Add(ref b, i);
            if (c > ' ' || ((WhitespaceBits >> (int)c) & 1) == 0)
            {
                return i;
            }
        }

        if (i == n)
        {
            return n;
        }

        int run = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref b, i), n - i).IndexOfAnyExcept(Whitespace);
        return run < 0 ? n : i + run;
    }

    /// <summary>
    /// A string from just after its opening quote (RFC 8259 section 7): the position past the closing
    /// quote, or <see cref="Cut"/>, or <see cref="Bad"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ScanString(ref byte b, int i, int n)
    {
        while (true)
        {
            // 16 bytes at a time: a byte ends the plain run if it is the quote, the backslash, or below
            // 0x20 as a signed byte (a control character, or non-ASCII: 0x80-0xFF are negative).
            if (i <= n - Vector128<byte>.Count)
            {
                var v = Vector128.LoadUnsafe(ref b, (nuint)i);
                var special = Vector128.LessThan(v.AsSByte(), Vector128.Create((sbyte)0x20)).AsByte()
                    | Vector128.Equals(v, Vector128.Create((byte)'"'))
                    | Vector128.Equals(v, Vector128.Create((byte)'\\'));
                uint mask = special.ExtractMostSignificantBits();
                if (mask == 0)
                {
                    i += Vector128<byte>.Count;
                    continue;
                }

                i += BitOperations.TrailingZeroCount(mask);
            }
            else
            {
                while (i < n && IsPlainStringByte(Unsafe.Add(ref b, i)))
                {
                    i++;
                }

                if (i == n)
                {
                    return Cut;
                }
            }

            byte c = Unsafe.Add(ref b, i);
            if (c == '"')
            {
                return i + 1;
            }

            if (c == '\\')
            {
                i = ScanEscape(ref b, i, n);
            }
            else if (c < 0x20)
            {
                return Bad;
            }
            else
            {
                i = ScanUtf8Run(ref b, i, n);
            }

            if (i < 0)
            {
                return i;
            }
        }
    }

    /// <summary>One escape (RFC 8259 section 7) at the backslash at i: the position after it.</summary>
    private static int ScanEscape(ref byte b, int i, int n)
    {
        if (i + 1 >= n)
        {
            return Cut;
        }

        byte e = Unsafe.Add(ref b, i + 1);
        if (e == 'u')
        {
            for (int h = i + 2; h < i + 6; h++)
            {
                if (h >= n)
                {
                    return Cut;
                }

                if (!char.IsAsciiHexDigit((char)Unsafe.Add(ref b, h)))
                {
                    return Bad;
                }
            }

            return i + 6;
        }

        return e is (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t' ? i + 2 : Bad;
    }

    /// <summary>
    /// A run of string text from a non-ASCII byte at i up to the next quote, backslash or control byte:
    /// the position where the run ends. RFC 8259 section 8.1 requires UTF-8 (RFC 3629: no overlong forms,
    /// no surrogates, nothing past U+10FFFF), and the merger passes the bytes on as they are.
    /// </summary>
    private static int ScanUtf8Run(ref byte b, int i, int n)
    {
        var rest = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref b, i), n - i);
        int run = rest.IndexOfAny(StringBreak);
        if (run >= 0)
        {
            // A sequence cut short by the quote (or escape) is invalid: none of them is a continuation byte.
            return Utf8.IsValid(rest[..run]) ? i + run : Bad;
        }

        // The block ends inside the run, maybe inside a sequence: validate up to that sequence's lead byte,
        // and the lead and what follows it as a sequence that may still be completed.
        int lead = rest.Length - 1;
        while (lead > 0 && lead > rest.Length - 4 && (rest[lead] & 0xC0) == 0x80)
        {
            lead--;
        }

        int need = rest[lead] >= 0xF0 ? 4 : rest[lead] >= 0xE0 ? 3 : rest[lead] >= 0xC0 ? 2 : 1;
        if (rest.Length - lead >= need)
        {
            return Utf8.IsValid(rest) ? Cut : Bad;
        }

        return Utf8.IsValid(rest[..lead]) && IsSequenceStart(rest[lead..]) ? Cut : Bad;
    }

    /// <summary>The start of a UTF-8 sequence that the next bytes may still complete (RFC 3629 section 4).</summary>
    private static bool IsSequenceStart(ReadOnlySpan<byte> start)
    {
        byte lead = start[0];
        (byte low, byte high) = lead switch
        {
            >= 0xC2 and <= 0xDF => ((byte)0x80, (byte)0xBF),
            0xE0 => ((byte)0xA0, (byte)0xBF),
            0xED => ((byte)0x80, (byte)0x9F),
            >= 0xE1 and <= 0xEF => ((byte)0x80, (byte)0xBF),
            0xF0 => ((byte)0x90, (byte)0xBF),
            0xF4 => ((byte)0x80, (byte)0x8F),
            >= 0xF1 and <= 0xF3 => ((byte)0x80, (byte)0xBF),
            _ => ((byte)1, (byte)0),
        };

        // The second byte's range depends on the lead; the others are plain continuation bytes.
        if (low > high || (start.Length > 1 && (start[1] < low || start[1] > high)))
        {
            return false;
        }

        return start.Length <= 2 || (start[2] & 0xC0) == 0x80;
    }

    private static int ScanLiteral(ReadOnlySpan<byte> block, int i, ReadOnlySpan<byte> literal)
    {
        var rest = block[i..];
        if (rest.Length >= literal.Length)
        {
            return rest.StartsWith(literal) ? i + literal.Length : Bad;
        }

        return literal.StartsWith(rest) ? Cut : Bad;
    }

    /// <summary>
    /// A number (RFC 8259 section 6): <c>-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?</c>. It ends at
    /// the first byte that cannot continue it; at the end of a block that is not the last it may go on, so
    /// it is cut there.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ScanNumber(ref byte b, int i, int n, bool isFinalBlock)
    {
        if (Unsafe.Add(ref b, i) == '-')
        {
            i++;
        }

        // Integer part: one digit, or a non-zero digit and more.
        if (i == n)
        {
            return Cut;
        }

        byte c = Unsafe.Add(ref b, i);
        if (c == '0')
        {
            i++;
        }
        else if (IsDigit(c))
        {
            i = SkipDigits(ref b, i + 1, n);
        }
        else
        {
            return Bad;
        }

        if (i < n && Unsafe.Add(ref b, i) == '.')
        {
            if (++i == n)
            {
                return Cut;
            }

            if (!IsDigit(Unsafe.Add(ref b, i)))
            {
                return Bad;
            }

            i = SkipDigits(ref b, i + 1, n);
        }

        if (i < n && (Unsafe.Add(ref b, i) | 0x20) == 'e')
        {
            if (++i < n && Unsafe.Add(ref b, i) is (byte)'+' or (byte)'-')
            {
                i++;
            }

            if (i == n)
            {
                return Cut;
            }

            if (!IsDigit(Unsafe.Add(ref b, i)))
            {
                return Bad;
            }

            i = SkipDigits(ref b, i + 1, n);
        }

        return i == n && !isFinalBlock ? Cut : i;
    }

    /// <summary>ASCII from space up, but the quote and the backslash.</summary>
    private static bool IsPlainStringByte(byte c) => (uint)(c - 0x20) < 0x60 && c != '"' && c != '\\';

    private static bool IsDigit(byte c) => (uint)(c - '0') <= 9;

    private static int SkipDigits(ref byte b, int i, int n)
    {
        while (i < n && IsDigit(Unsafe.Add(ref b, i)))
        {
            i++;
        }

        return i;
    }

    private static byte[] StringBreakBytes()
    {
        var bytes = new byte[0x22];
        for (int c = 0; c < 0x20; c++)
        {
            bytes[c] = (byte)c;
        }

        bytes[0x20] = (byte)'"';
        bytes[0x21] = (byte)'\\';
        return bytes;
    }

    /// <summary>
    /// Writes what makes the bytes consumed so far one valid JSON value: "null" for a value that was
    /// never started or a member name still waiting for its value, then the closer of each open
    /// container. Returns the bytes written (at most <see cref="MaxClosingLength"/>).
    /// </summary>
    public readonly int WriteClosing(Span<byte> destination)
    {
        // Expect.Value is the document's start or the place after a name's colon: both need a value.
        int n = 0;
        if (_expect == Expect.Value)
        {
            "null"u8.CopyTo(destination);
            n = 4;
        }

        for (int level = _depth - 1; level >= 0; level--)
        {
            destination[n++] = (_objects & (1UL << level)) != 0 ? (byte)'}' : (byte)']';
        }

        return n;
    }
}
