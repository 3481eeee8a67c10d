namespace FastGate.Protocols.Http2;

/// <summary>The request pseudo-header fields (RFC 9113 section 8.3.1).</summary>
internal enum Http2PseudoHeader : byte
{
    None,
    Method,
    Scheme,
    Authority,
    Path,
}

/// <summary>What a field of a request header block is.</summary>
internal enum Http2FieldKind : byte
{
    /// <summary>A regular field, valid in HTTP/2.</summary>
    Regular,

    /// <summary>A request pseudo-header, valid here; see the out parameter for which.</summary>
    Pseudo,

    /// <summary>The request is malformed (section 8.1.1): a stream error PROTOCOL_ERROR.</summary>
    Malformed,
}

/// <summary>
/// Checks the fields of one request header block (or trailer block) as RFC 9113 sections 8.2 and 8.3
/// require, field by field as the HPACK decoder delivers them, with no allocation:
/// - names are lowercase and contain no SP, controls, DEL, non-ASCII or colon except a leading one
///   (section 8.2.1); values contain no NUL, CR or LF and do not start or end with SP or HTAB;
/// - connection-specific fields (Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade)
///   are malformed, and TE carries nothing but "trailers" (section 8.2.2);
/// - pseudo-headers come before regular fields, each once, only the request ones, never in trailers,
///   and ":path" is not empty (sections 8.3 and 8.3.1); <see cref="Complete"/> checks the mandatory ones.
/// </summary>
internal struct Http2RequestFieldValidator
{
    private bool _trailers;
    private bool _regularSeen;
    private byte _pseudoSeen;

    /// <summary>Starts a header block; trailers may carry no pseudo-header.</summary>
    public void Begin(bool trailers)
    {
        _trailers = trailers;
        _regularSeen = false;
        _pseudoSeen = 0;
    }

    public Http2FieldKind Check(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, out Http2PseudoHeader pseudo)
    {
        pseudo = Http2PseudoHeader.None;
        if (name.IsEmpty || !IsValidValue(value))
        {
            return Http2FieldKind.Malformed;
        }

        if (name[0] == (byte)':')
        {
            pseudo = Classify(name);
            if (_trailers || _regularSeen || pseudo == Http2PseudoHeader.None)
            {
                return Http2FieldKind.Malformed;
            }

            byte bit = (byte)(1 << (int)pseudo);
            if ((_pseudoSeen & bit) != 0 || (pseudo == Http2PseudoHeader.Path && value.IsEmpty))
            {
                return Http2FieldKind.Malformed;
            }

            _pseudoSeen |= bit;
            return Http2FieldKind.Pseudo;
        }

        _regularSeen = true;
        if (!IsValidName(name) || IsConnectionSpecific(name, value))
        {
            return Http2FieldKind.Malformed;
        }

        return Http2FieldKind.Regular;
    }

    /// <summary>
    /// The mandatory pseudo-headers are present (section 8.3.1): ":method", and ":scheme" and ":path"
    /// unless the method is CONNECT, which has ":authority" and neither of the two (section 8.5).
    /// </summary>
    public readonly bool Complete(bool isConnect)
    {
        if (_trailers)
        {
            return true;
        }

        int seen = _pseudoSeen;
        bool has(Http2PseudoHeader p) => (seen & (1 << (int)p)) != 0;
        if (!has(Http2PseudoHeader.Method))
        {
            return false;
        }

        return isConnect
            ? has(Http2PseudoHeader.Authority) && !has(Http2PseudoHeader.Scheme) && !has(Http2PseudoHeader.Path)
            : has(Http2PseudoHeader.Scheme) && has(Http2PseudoHeader.Path);
    }

    public static Http2PseudoHeader Classify(ReadOnlySpan<byte> name)
    {
        if (name.SequenceEqual(":method"u8))
        {
            return Http2PseudoHeader.Method;
        }

        if (name.SequenceEqual(":path"u8))
        {
            return Http2PseudoHeader.Path;
        }

        if (name.SequenceEqual(":scheme"u8))
        {
            return Http2PseudoHeader.Scheme;
        }

        return name.SequenceEqual(":authority"u8) ? Http2PseudoHeader.Authority : Http2PseudoHeader.None;
    }

    // Section 8.2.1: no octet in 0x00-0x20, 0x41-0x5A (uppercase) or 0x7F-0xFF, and no colon.
    private static bool IsValidName(ReadOnlySpan<byte> name)
    {
        foreach (byte b in name)
        {
            if (b <= 0x20 || b is >= 0x41 and <= 0x5A || b >= 0x7F || b == (byte)':')
            {
                return false;
            }
        }

        return true;
    }

    // Section 8.2.1: no NUL, LF or CR anywhere; no SP or HTAB first or last.
    private static bool IsValidValue(ReadOnlySpan<byte> value)
    {
        if (value.IndexOfAny((byte)0, (byte)'\n', (byte)'\r') >= 0)
        {
            return false;
        }

        return value.IsEmpty || (!IsWhitespace(value[0]) && !IsWhitespace(value[^1]));
    }

    private static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\t';

    // Section 8.2.2.
    private static bool IsConnectionSpecific(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) =>
        name.SequenceEqual("connection"u8) || name.SequenceEqual("keep-alive"u8) || name.SequenceEqual("proxy-connection"u8)
        || name.SequenceEqual("transfer-encoding"u8) || name.SequenceEqual("upgrade"u8)
        || (name.SequenceEqual("te"u8) && !value.SequenceEqual("trailers"u8));
}
