namespace FastGate.Gateway.Routing;

/// <summary>Character classes of RFC 3986 section 2 and 3.3, for templates and the normalizer.</summary>
internal static class UriChars
{
    /// <summary>unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~" (RFC 3986 section 2.3).</summary>
    public static bool IsUnreserved(int c) =>
        (uint)((c | 0x20) - 'a') <= 'z' - 'a' || (uint)(c - '0') <= 9 || c is '-' or '.' or '_' or '~';

    /// <summary>pchar = unreserved / pct-encoded / sub-delims / ":" / "@", without the pct-encoded part (RFC 3986 section 3.3).</summary>
    public static bool IsPcharNotPercent(int c) =>
        IsUnreserved(c) || c is '!' or '$' or '&' or '\'' or '(' or ')' or '*' or '+' or ',' or ';' or '=' or ':' or '@';

    /// <summary>query = *( pchar / "/" / "?" ) (RFC 3986 section 3.4), without the pct-encoded part.</summary>
    public static bool IsQueryCharNotPercent(int c) => IsPcharNotPercent(c) || c is '/' or '?';

    /// <returns>the value of a hex digit, or -1</returns>
    public static int HexValue(int c)
    {
        if ((uint)(c - '0') <= 9)
        {
            return c - '0';
        }

        int lower = c | 0x20;
        return (uint)(lower - 'a') <= 'f' - 'a' ? lower - 'a' + 10 : -1;
    }

    public static bool IsUpperHexDigit(int c) => (uint)(c - '0') <= 9 || (uint)(c - 'A') <= 'F' - 'A';

    /// <summary>A character for an error message: printable ASCII as is, anything else as U+XXXX.</summary>
    public static string Describe(char c) => c is >= ' ' and < (char)0x7F ? $"'{c}'" : $"U+{(int)c:X4}";

    /// <summary>Whether <paramref name="name"/> is [A-Za-z_][A-Za-z0-9_]*; returns the offset of the first bad character or -1.</summary>
    public static int FindInvalidNameChar(ReadOnlySpan<char> name)
    {
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            bool ok = (uint)((c | 0x20) - 'a') <= 'z' - 'a' || c == '_' || (i > 0 && (uint)(c - '0') <= 9);
            if (!ok)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// Checks a percent-encoding at <paramref name="text"/>[<paramref name="at"/>] as it must appear in a normalized
    /// path (see <see cref="PathNormalizer"/>): two upper-case hex digits, not an unreserved character, not NUL.
    /// </summary>
    /// <returns>null when valid, else the error message</returns>
    public static string? CheckNormalizedPercent(ReadOnlySpan<char> text, int at)
    {
        if (at + 2 >= text.Length || HexValue(text[at + 1]) < 0 || HexValue(text[at + 2]) < 0)
        {
            return "invalid percent-encoding: '%' must be followed by two hex digits";
        }

        if (!IsUpperHexDigit(text[at + 1]) || !IsUpperHexDigit(text[at + 2]))
        {
            return "percent-encoding must use upper-case hex digits (paths are matched after normalization)";
        }

        int value = (HexValue(text[at + 1]) << 4) | HexValue(text[at + 2]);
        if (value == 0)
        {
            return "'%00' is not allowed";
        }

        return IsUnreserved(value)
            ? $"percent-encoded unreserved character '{(char)value}' must be written as is (paths are matched after normalization)"
            : null;
    }
}
