using System.Buffers;
using System.Runtime.CompilerServices;

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
/// <para>NOTE: the first version ran a <see cref="System.Text.Json.Utf8JsonReader"/> per block plus a
/// <c>Utf8.IsValid</c> per string: 5 us per KiB of record-like JSON on the 2-core EPYC (the reader alone
/// 3.2 us), most of it per-token overhead; a byte-level state machine scans the same KiB in about a
/// quarter of that (perf-results/benchmarks_2026-11-26_merge.md). A UTF-8 byte order mark is refused
/// (the reader skipped it, and the merger then copied it into the merged object).</para>
/// </remarks>
[SkipLocalsInit]
internal struct JsonStreamValidator
{
    /// <summary>Nesting bound: one bit per level in <see cref="_objects"/>. Deeper documents are refused.</summary>
    public const int MaxDepth = 64;

    /// <summary>Bytes <see cref="WriteClosing"/> may write: "null" and one closer per level.</summary>
    public const int MaxClosingLength = 4 + MaxDepth;

    /// <summary>What ends a run of plain string bytes: the quote, an escape, a control character, non-ASCII.</summary>
    private static readonly SearchValues<byte> StringSpecial = SearchValues.Create(StringSpecialBytes());

    private ulong _objects;
    private int _depth;
    private Expect _expect;
    private bool _afterPropertyName;
    private bool _complete;
    private bool _started;

    /// <summary>What the next token may be, at the end of the last complete one.</summary>
    private enum Expect : byte
    {
        /// <summary>A value: the document's start, or after a member name and its colon.</summary>
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

    /// <summary>How a scan of one token ended.</summary>
    private enum Scan : byte
    {
        Token,
        /// <summary>The block ended inside the token.</summary>
        Cut,
        Invalid,
    }

    public static JsonStreamValidator Create() => default;

    /// <summary>A whole value was read (only whitespace may follow).</summary>
    public readonly bool IsComplete => _complete;

    /// <summary>Validates the next block.</summary>
    /// <param name="consumed">bytes of <paramref name="block"/> up to the end of its last complete token</param>
    public JsonValidation Validate(ReadOnlySpan<byte> block, bool isFinalBlock, out int consumed)
    {
        // The state lives in locals and changes only when a token completes, so an early return stores
        // exactly the state at the last complete token.
        ulong objects = _objects;
        int depth = _depth;
        var expect = _expect;
        bool afterPropertyName = _afterPropertyName;
        bool complete = _complete;
        bool started = _started;

        int committed = 0;
        var result = JsonValidation.NeedMore;
        while (true)
        {
            int i = SkipWhitespace(block, committed);
            if (i == block.Length)
            {
                result = !isFinalBlock ? JsonValidation.NeedMore : complete ? JsonValidation.Complete : JsonValidation.Invalid;
                break;
            }

            byte c = block[i];
            bool name = false;
            if (expect == Expect.Done)
            {
                result = JsonValidation.Invalid;
                break;
            }

            if (expect is Expect.CommaOrClose or Expect.FirstElement or Expect.FirstMember && c is (byte)'}' or (byte)']')
            {
                bool inObject = (objects & (1UL << (depth - 1))) != 0;
                if (expect == Expect.FirstElement ? c != ']' : expect == Expect.FirstMember ? c != '}' : c != (inObject ? '}' : ']'))
                {
                    result = JsonValidation.Invalid;
                    break;
                }

                depth--;
                afterPropertyName = false;
                expect = depth == 0 ? Expect.Done : Expect.CommaOrClose;
                complete |= depth == 0;
                committed = i + 1;
                continue;
            }

            if (expect == Expect.CommaOrClose)
            {
                if (c != ',')
                {
                    result = JsonValidation.Invalid;
                    break;
                }

                i = SkipWhitespace(block, i + 1);
                if (i == block.Length)
                {
                    result = isFinalBlock ? JsonValidation.Invalid : JsonValidation.NeedMore;
                    break;
                }

                c = block[i];
                name = (objects & (1UL << (depth - 1))) != 0;
            }
            else
            {
                name = expect == Expect.FirstMember;
            }

            if (name)
            {
                // A member name and its colon are one token: a prefix ending there closes with "null".
                if (c != '"')
                {
                    result = JsonValidation.Invalid;
                    break;
                }

                var scan = ScanString(block, i + 1, out int end);
                if (scan == Scan.Token)
                {
                    end = SkipWhitespace(block, end);
                    scan = end == block.Length ? Scan.Cut : block[end] == ':' ? Scan.Token : Scan.Invalid;
                }

                if (scan != Scan.Token)
                {
                    result = scan == Scan.Invalid || isFinalBlock ? JsonValidation.Invalid : JsonValidation.NeedMore;
                    break;
                }

                afterPropertyName = true;
                started = true;
                expect = Expect.Value;
                committed = end + 1;
                continue;
            }

            if (c is (byte)'{' or (byte)'[')
            {
                if (depth == MaxDepth)
                {
                    result = JsonValidation.Invalid;
                    break;
                }

                objects = c == '{' ? objects | (1UL << depth) : objects & ~(1UL << depth);
                depth++;
                afterPropertyName = false;
                started = true;
                expect = c == '{' ? Expect.FirstMember : Expect.FirstElement;
                committed = i + 1;
                continue;
            }

            int valueEnd = 0;
            var value = c switch
            {
                (byte)'"' => ScanString(block, i + 1, out valueEnd),
                (byte)'t' => ScanLiteral(block, i, "true"u8, out valueEnd),
                (byte)'f' => ScanLiteral(block, i, "false"u8, out valueEnd),
                (byte)'n' => ScanLiteral(block, i, "null"u8, out valueEnd),
                (byte)'-' or (>= (byte)'0' and <= (byte)'9') => ScanNumber(block, i, isFinalBlock, out valueEnd),
                _ => Scan.Invalid,
            };

            if (value != Scan.Token)
            {
                result = value == Scan.Invalid || isFinalBlock ? JsonValidation.Invalid : JsonValidation.NeedMore;
                break;
            }

            afterPropertyName = false;
            started = true;
            expect = depth == 0 ? Expect.Done : Expect.CommaOrClose;
            complete |= depth == 0;
            committed = valueEnd;
        }

        _objects = objects;
        _depth = depth;
        _expect = expect;
        _afterPropertyName = afterPropertyName;
        _complete = complete;
        _started = started;
        consumed = committed;
        return result;
    }

    private static int SkipWhitespace(ReadOnlySpan<byte> block, int i)
    {
        // RFC 8259 section 2: space, horizontal tab, line feed, carriage return.
        while ((uint)i < (uint)block.Length && block[i] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
        {
            i++;
        }

        return i;
    }

    /// <summary>A string from just after its opening quote (RFC 8259 section 7); <paramref name="end"/> is past the closing quote.</summary>
    private static Scan ScanString(ReadOnlySpan<byte> block, int i, out int end)
    {
        end = 0;
        while (true)
        {
            // Most strings in API answers are short names and values: a plain loop finds their end sooner
            // than a vectorised search sets up; a long run goes to the vectorised search.
            int stop = Math.Min(block.Length, i + 16);
            while (i < stop && IsPlainStringByte(block[i]))
            {
                i++;
            }

            if (i == stop)
            {
                int run = block[i..].IndexOfAny(StringSpecial);
                if (run < 0)
                {
                    return Scan.Cut;
                }

                i += run;
            }

            byte c = block[i];
            if (c == '"')
            {
                end = i + 1;
                return Scan.Token;
            }

            if (c == '\\')
            {
                if (i + 1 >= block.Length)
                {
                    return Scan.Cut;
                }

                byte e = block[i + 1];
                if (e == 'u')
                {
                    for (int h = i + 2; h < i + 6; h++)
                    {
                        if (h >= block.Length)
                        {
                            return Scan.Cut;
                        }

                        if (!char.IsAsciiHexDigit((char)block[h]))
                        {
                            return Scan.Invalid;
                        }
                    }

                    i += 6;
                }
                else if (e is (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t')
                {
                    i += 2;
                }
                else
                {
                    return Scan.Invalid;
                }

                continue;
            }

            if (c < 0x20)
            {
                return Scan.Invalid;
            }

            var sequence = ScanUtf8(block, i, out int length);
            if (sequence != Scan.Token)
            {
                return sequence;
            }

            i += length;
        }
    }

    /// <summary>
    /// One multi-byte UTF-8 sequence (RFC 3629 section 4): no overlong forms, no surrogates, nothing past
    /// U+10FFFF. RFC 8259 section 8.1 requires UTF-8; the merger passes the bytes on as they are.
    /// </summary>
    private static Scan ScanUtf8(ReadOnlySpan<byte> block, int i, out int length)
    {
        byte lead = block[i];
        byte low = 0x80;
        byte high = 0xBF;
        switch (lead)
        {
            case >= 0xC2 and <= 0xDF:
                length = 2;
                break;
            case 0xE0:
                length = 3;
                low = 0xA0;
                break;
            case 0xED:
                length = 3;
                high = 0x9F;
                break;
            case >= 0xE1 and <= 0xEF:
                length = 3;
                break;
            case 0xF0:
                length = 4;
                low = 0x90;
                break;
            case 0xF4:
                length = 4;
                high = 0x8F;
                break;
            case >= 0xF1 and <= 0xF3:
                length = 4;
                break;
            default:
                length = 0;
                return Scan.Invalid;
        }

        // The second byte's range depends on the lead; the others are plain continuation bytes.
        for (int k = 1; k < length; k++)
        {
            if (i + k >= block.Length)
            {
                return Scan.Cut;
            }

            byte b = block[i + k];
            if (k == 1 ? b < low || b > high : b is < 0x80 or > 0xBF)
            {
                return Scan.Invalid;
            }
        }

        return Scan.Token;
    }

    private static Scan ScanLiteral(ReadOnlySpan<byte> block, int i, ReadOnlySpan<byte> literal, out int end)
    {
        end = i + literal.Length;
        var rest = block[i..];
        if (rest.Length >= literal.Length)
        {
            return rest.StartsWith(literal) ? Scan.Token : Scan.Invalid;
        }

        return literal.StartsWith(rest) ? Scan.Cut : Scan.Invalid;
    }

    /// <summary>
    /// A number (RFC 8259 section 6): <c>-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?</c>. It ends at
    /// the first byte that cannot continue it; at the end of a block that is not the last it may go on, so
    /// it is cut there.
    /// </summary>
    private static Scan ScanNumber(ReadOnlySpan<byte> block, int i, bool isFinalBlock, out int end)
    {
        end = 0;
        if (block[i] == '-')
        {
            i++;
        }

        // Integer part: one digit, or a non-zero digit and more.
        if (i == block.Length)
        {
            return Scan.Cut;
        }

        if (block[i] == '0')
        {
            i++;
        }
        else if (IsDigit(block[i]))
        {
            i = SkipDigits(block, i + 1);
        }
        else
        {
            return Scan.Invalid;
        }

        if (i < block.Length && block[i] == '.')
        {
            if (++i == block.Length)
            {
                return Scan.Cut;
            }

            if (!IsDigit(block[i]))
            {
                return Scan.Invalid;
            }

            i = SkipDigits(block, i + 1);
        }

        if (i < block.Length && block[i] is (byte)'e' or (byte)'E')
        {
            if (++i < block.Length && block[i] is (byte)'+' or (byte)'-')
            {
                i++;
            }

            if (i == block.Length)
            {
                return Scan.Cut;
            }

            if (!IsDigit(block[i]))
            {
                return Scan.Invalid;
            }

            i = SkipDigits(block, i + 1);
        }

        if (i == block.Length && !isFinalBlock)
        {
            return Scan.Cut;
        }

        end = i;
        return Scan.Token;
    }

    /// <summary>ASCII from space up, but the quote and the backslash.</summary>
    private static bool IsPlainStringByte(byte c) => (uint)(c - 0x20) < 0x60 && c != '"' && c != '\\';

    private static bool IsDigit(byte c) => (uint)(c - '0') <= 9;

    private static int SkipDigits(ReadOnlySpan<byte> block, int i)
    {
        while (i < block.Length && IsDigit(block[i]))
        {
            i++;
        }

        return i;
    }

    private static byte[] StringSpecialBytes()
    {
        var bytes = new List<byte> { (byte)'"', (byte)'\\' };
        for (int b = 0; b < 0x20; b++)
        {
            bytes.Add((byte)b);
        }

        for (int b = 0x80; b <= 0xFF; b++)
        {
            bytes.Add((byte)b);
        }

        return [.. bytes];
    }

    /// <summary>
    /// Writes what makes the bytes consumed so far one valid JSON value: "null" for a value that was
    /// never started or a member name still waiting for its value, then the closer of each open
    /// container. Returns the bytes written (at most <see cref="MaxClosingLength"/>).
    /// </summary>
    public readonly int WriteClosing(Span<byte> destination)
    {
        int n = 0;
        if (!_started || _afterPropertyName)
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
