namespace FastGate.Protocols.Hpack;

/// <summary>
/// Receives the fields of a decoded header block. The decoder is generic over a struct handler so each
/// callback is a direct, inlinable call. Spans are only valid during the callback.
/// </summary>
internal interface IHpackHeaderHandler
{
    void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value);
}

/// <summary>Why a header block could not be decoded. Each is a COMPRESSION_ERROR (RFC 9113 section 4.3).</summary>
internal enum HpackDecodingError : byte
{
    /// <summary>Index 0, or an index past the static and dynamic tables (RFC 7541 section 2.3.3).</summary>
    InvalidIndex,

    /// <summary>An integer that does not fit in 31 bits, or with too many continuation octets (section 5.1).</summary>
    IntegerOverflow,

    /// <summary>A string literal longer than the decoder's maximum string length (section 5.2).</summary>
    StringTooLong,

    /// <summary>Huffman padding longer than 7 bits or not all ones, or an EOS symbol (section 5.2).</summary>
    InvalidHuffman,

    /// <summary>A dynamic table size update above the SETTINGS_HEADER_TABLE_SIZE we advertised (section 6.3).</summary>
    TableSizeUpdateTooLarge,

    /// <summary>A dynamic table size update after the first field of a block (section 4.2).</summary>
    TableSizeUpdateNotAtStart,

    /// <summary>The block ended (END_HEADERS) in the middle of a field representation.</summary>
    IncompleteHeaderBlock,
}

/// <summary>
/// A header block that cannot be decoded. The decoder's dynamic table is no longer in step with the
/// peer's encoder, so this is always a connection error of type COMPRESSION_ERROR (RFC 9113 section 4.3).
/// </summary>
internal sealed class HpackDecodingException : Exception
{
    public HpackDecodingException(HpackDecodingError error)
        : base(error.ToString()) => Error = error;

    public HpackDecodingException()
        : this(HpackDecodingError.InvalidIndex)
    {
    }

    public HpackDecodingException(string message)
        : base(message)
    {
    }

    public HpackDecodingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public HpackDecodingError Error { get; }
}

/// <summary>
/// The decoded header list exceeded the maximum header list size (RFC 9113 section 6.5.2). The decoder
/// finished the block first, so its dynamic table is still in step with the peer's encoder: the
/// connection may answer with a stream error (or a 431) and keep going.
/// </summary>
internal sealed class HpackHeaderListTooLargeException : Exception
{
    public HpackHeaderListTooLargeException()
        : base("The header list exceeds the maximum header list size.")
    {
    }

    public HpackHeaderListTooLargeException(string message)
        : base(message)
    {
    }

    public HpackHeaderListTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
