using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace FastGate.Protocols.Http1;

/// <summary>Character classes of the HTTP/1.1 grammar and the single throw helper of the codecs.</summary>
internal static class Http1Syntax
{
    /// <summary>tchar (RFC 9110 section 5.6.2): the bytes of a token (method, field name, ext-name).</summary>
    public static readonly SearchValues<byte> Token = SearchValues.Create(
        "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    /// <summary>
    /// Bytes allowed in a request-target: visible ASCII only (RFC 9112 section 3.2 with RFC 3986 syntax).
    /// The exact URI grammar is left to the router; here we only keep out whitespace, CTLs and non-ASCII.
    /// </summary>
    public static readonly SearchValues<byte> TargetChar = SearchValues.Create(Range(0x21, 0x7E));

    /// <summary>
    /// field-vchar / SP / HTAB (RFC 9110 section 5.5), obs-text included; also the bytes of a
    /// reason-phrase (RFC 9112 section 4).
    /// </summary>
    public static readonly SearchValues<byte> FieldValueChar = SearchValues.Create(FieldValueBytes());

    public static readonly SearchValues<byte> HexDigit = SearchValues.Create("0123456789ABCDEFabcdef"u8);

    public const byte CR = (byte)'\r';
    public const byte LF = (byte)'\n';
    public const byte SP = (byte)' ';
    public const byte HTAB = (byte)'\t';

    public static bool IsWhitespace(byte b) => b is SP or HTAB;

    /// <summary>Removes leading and trailing OWS (SP / HTAB), RFC 9110 section 5.6.3.</summary>
    public static ReadOnlySpan<byte> TrimWhitespace(ReadOnlySpan<byte> value)
    {
        int start = 0;
        while (start < value.Length && IsWhitespace(value[start]))
        {
            start++;
        }

        int end = value.Length;
        while (end > start && IsWhitespace(value[end - 1]))
        {
            end--;
        }

        return value[start..end];
    }

    [DoesNotReturn]
    public static void Throw(Http1ParseError error) => throw new Http1ParseException(error);

    private static byte[] Range(int first, int last)
    {
        var bytes = new byte[last - first + 1];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(first + i);
        }

        return bytes;
    }

    private static byte[] FieldValueBytes()
    {
        var bytes = new List<byte>(256) { HTAB };
        bytes.AddRange(Range(0x20, 0x7E));
        bytes.AddRange(Range(0x80, 0xFF));
        return [.. bytes];
    }
}
