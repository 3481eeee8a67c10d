using System.Text;

namespace FastGate.Protocols.Text;

/// <summary>ASCII helpers over bytes for field names and values.</summary>
internal static class Ascii8
{
    /// <summary>Case-insensitive ASCII equality; non-ASCII bytes compare exactly.</summary>
    public static bool EqualsIgnoreCase(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
        => Ascii.EqualsIgnoreCase(left, right);

    /// <summary>
    /// Content-Length = 1*DIGIT (RFC 9110 section 8.6): no sign, no whitespace, no list. False on any
    /// other byte or when the value exceeds <see cref="long.MaxValue"/>, so the caller rejects the message.
    /// </summary>
    public static bool TryParseContentLength(ReadOnlySpan<byte> value, out long length)
    {
        length = 0;
        if (value.IsEmpty)
        {
            return false;
        }

        long result = 0;
        foreach (byte b in value)
        {
            uint digit = (uint)(b - '0');
            if (digit > 9 || result > (long.MaxValue - digit) / 10)
            {
                return false;
            }

            result = (result * 10) + digit;
        }

        length = result;
        return true;
    }

    /// <summary>
    /// Whether a comma-separated list (RFC 9110 section 5.6.1: OWS around commas, empty elements
    /// allowed) holds <paramref name="token"/>, compared case-insensitively (Connection, Upgrade, TE).
    /// </summary>
    public static bool TokenListContains(ReadOnlySpan<byte> list, ReadOnlySpan<byte> token)
    {
        while (true)
        {
            int comma = list.IndexOf((byte)',');
            ReadOnlySpan<byte> element = comma < 0 ? list : list[..comma];
            if (Ascii.EqualsIgnoreCase(element.Trim(" \t"u8), token))
            {
                return true;
            }

            if (comma < 0)
            {
                return false;
            }

            list = list[(comma + 1)..];
        }
    }

    /// <summary>Removes optional whitespace (SP and HTAB, RFC 9110 section 5.6.3) from both ends.</summary>
    public static ReadOnlySpan<byte> TrimOws(ReadOnlySpan<byte> value) => value.Trim(" \t"u8);

    public static bool StartsWithIgnoreCase(ReadOnlySpan<byte> value, ReadOnlySpan<byte> prefix)
        => value.Length >= prefix.Length && Ascii.EqualsIgnoreCase(value[..prefix.Length], prefix);

}
