using FastGate.Protocols.Text;

namespace FastGate.Protocols.Http1;

/// <summary>
/// Walks field lines in their HTTP/1.1 form, "name: value" CRLF (RFC 9112 section 5), as the gateway keeps
/// fields it adds and trailer sections, and as the chunked decoder returns trailer lines. The input is
/// already validated; a line without a name is skipped.
/// </summary>
internal ref struct Http1FieldLines(ReadOnlySpan<byte> lines)
{
    private ReadOnlySpan<byte> _rest = lines;

    /// <summary>The next field: the whole line with its line ending, its name, and its value without surrounding whitespace.</summary>
    public bool MoveNext(out ReadOnlySpan<byte> line, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        while (!_rest.IsEmpty)
        {
            int lf = _rest.IndexOf(Http1Syntax.LF);
            line = lf < 0 ? _rest : _rest[..(lf + 1)];
            _rest = lf < 0 ? default : _rest[(lf + 1)..];
            var content = line.TrimEnd("\r\n"u8);
            int colon = content.IndexOf((byte)':');
            if (colon > 0)
            {
                name = content[..colon];
                value = Ascii8.TrimOws(content[(colon + 1)..]);
                return true;
            }
        }

        line = name = value = default;
        return false;
    }

    /// <summary>Connection-specific fields (RFC 9110 section 7.6.1) never cross a proxy, in trailers as in headers.</summary>
    public static bool IsConnectionSpecific(ReadOnlySpan<byte> name) => KnownHeaders.IsHopByHop(KnownHeaders.Classify(name));
}
