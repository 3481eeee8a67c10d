using System.Buffers;
using System.Runtime.CompilerServices;

namespace FastGate.Protocols.Hpack;

/// <summary>
/// Encodes header blocks (RFC 7541) for one connection. Fields found in the static or dynamic table are
/// sent as one index; other fields are literals added to the dynamic table (incremental indexing) so a
/// header repeated on the next response of the connection costs one octet, except sensitive fields, which
/// are never indexed (section 7.1.3), and fields whose values rarely repeat. String literals are Huffman
/// coded unless that is longer.
/// </summary>
/// <remarks>
/// Dynamic table lookups scan the table: it holds at most a few dozen response headers, and a scan over
/// contiguous entries beats hashing each field name at that size.
/// </remarks>
[SkipLocalsInit]
internal sealed class HpackEncoder : IDisposable
{
    /// <summary>The size a field's prefix octets can take: representation, name index, two lengths.</summary>
    private const int MaxFieldOverhead = 3 * HpackInteger.MaxEncodedLength;

    private readonly HpackDynamicTable _table;
    private readonly bool _useHuffman;

    // Size updates owed at the start of the next block (section 4.2): the smallest size the table went
    // through since the last block, then the current size.
    private int _pendingMinSize = -1;
    private bool _sizeUpdatePending;

    /// <param name="headerTableSize">the peer's SETTINGS_HEADER_TABLE_SIZE as the connection starts (4096 in HTTP/2)</param>
    /// <param name="maxHeaderTableSize">the most memory this encoder commits to its table, whatever the peer allows</param>
    /// <param name="useHuffman">Huffman-code literals when shorter; false sends every literal raw</param>
    public HpackEncoder(int headerTableSize = HpackDecoder.DefaultHeaderTableSize, int maxHeaderTableSize = HpackDecoder.DefaultHeaderTableSize, bool useHuffman = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(headerTableSize);
        _table = new HpackDynamicTable(maxHeaderTableSize);
        _useHuffman = useHuffman;
        if (headerTableSize > maxHeaderTableSize)
        {
            // The peer's decoder starts at headerTableSize; tell it that ours is smaller.
            _table.SetMaxSize(maxHeaderTableSize);
            _sizeUpdatePending = true;
        }
        else
        {
            _table.SetMaxSize(headerTableSize);
        }
    }

    /// <summary>The dynamic table, for inspection.</summary>
    public HpackDynamicTable DynamicTable => _table;

    /// <summary>The longest encoding of a field: its strings raw plus the prefix octets.</summary>
    public static int GetMaxEncodedLength(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        => name.Length + value.Length + MaxFieldOverhead;

    /// <summary>
    /// The peer changed SETTINGS_HEADER_TABLE_SIZE (RFC 9113 section 6.5.2). The table shrinks now and a
    /// size update goes at the start of the next block (RFC 7541 section 4.2).
    /// </summary>
    public void SetPeerHeaderTableSize(int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        int newSize = Math.Min(size, _table.Limit);
        if (newSize == _table.MaxSize && !_sizeUpdatePending)
        {
            return;
        }

        _pendingMinSize = _pendingMinSize < 0 ? Math.Min(newSize, _table.MaxSize) : Math.Min(_pendingMinSize, newSize);
        _table.SetMaxSize(newSize);
        _sizeUpdatePending = true;
    }

    /// <summary>Starts a header block: writes the size updates owed since the last block, if any.</summary>
    public void BeginHeaderBlock(IBufferWriter<byte> output)
    {
        if (!_sizeUpdatePending)
        {
            return;
        }

        Span<byte> span = output.GetSpan(2 * HpackInteger.MaxEncodedLength);
        int written = 0;
        if (_pendingMinSize >= 0 && _pendingMinSize < _table.MaxSize)
        {
            written = HpackInteger.Encode(_pendingMinSize, 5, 0x20, span);
        }

        written += HpackInteger.Encode(_table.MaxSize, 5, 0x20, span[written..]);
        output.Advance(written);
        _pendingMinSize = -1;
        _sizeUpdatePending = false;
    }

    /// <summary>Encodes one field (name in lowercase, as HTTP/2 requires) after <see cref="BeginHeaderBlock"/>.</summary>
    public void EncodeHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, IBufferWriter<byte> output)
    {
        Span<byte> span = output.GetSpan(GetMaxEncodedLength(name, value));
        output.Advance(EncodeHeader(name, value, span));
    }

    /// <summary>
    /// Encodes one field into <paramref name="destination"/>, which must hold
    /// <see cref="GetMaxEncodedLength"/> octets. Returns the octets written.
    /// </summary>
    public int EncodeHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, Span<byte> destination)
    {
        if (destination.Length < GetMaxEncodedLength(name, value))
        {
            throw new ArgumentException("The destination is shorter than GetMaxEncodedLength.", nameof(destination));
        }

        int staticIndex = HpackStaticTable.Find(name, value, out bool staticValueMatches);
        if (staticValueMatches)
        {
            return HpackInteger.Encode(staticIndex, 7, 0x80, destination);
        }

        bool sensitive = IsSensitive(name);
        bool dynamicValueMatches = false;
        int dynamicIndex = sensitive ? -1 : FindInTable(name, value, out dynamicValueMatches);
        if (dynamicValueMatches)
        {
            return HpackInteger.Encode(dynamicIndex + HpackStaticTable.Count + 1, 7, 0x80, destination);
        }

        int nameIndex = staticIndex != 0 ? staticIndex : dynamicIndex >= 0 ? dynamicIndex + HpackStaticTable.Count + 1 : 0;
        bool index = !sensitive && !IsUnique(name)
            && name.Length + value.Length + HpackDynamicTable.EntryOverhead <= _table.MaxSize;

        // Literal with incremental indexing (01, 6-bit prefix), never indexed (0001) or without indexing
        // (0000), both with a 4-bit prefix (RFC 7541 section 6.2).
        int pos = index
            ? HpackInteger.Encode(nameIndex, 6, 0x40, destination)
            : HpackInteger.Encode(nameIndex, 4, sensitive ? (byte)0x10 : (byte)0x00, destination);
        if (nameIndex == 0)
        {
            pos += EncodeString(name, destination[pos..]);
        }

        pos += EncodeString(value, destination[pos..]);
        if (index)
        {
            _table.Add(name, value);
        }

        return pos;
    }

    public void Dispose() => _table.Dispose();

    /// <summary>
    /// String literal (section 5.2): Huffman unless it is longer than the raw string (on a tie Huffman is
    /// chosen, as the encoder of RFC 7541 appendix C does).
    /// </summary>
    private int EncodeString(ReadOnlySpan<byte> value, Span<byte> destination)
    {
        if (_useHuffman)
        {
            int huffmanLength = Huffman.GetEncodedLength(value);
            if (huffmanLength <= value.Length)
            {
                int pos = HpackInteger.Encode(huffmanLength, 7, 0x80, destination);
                return pos + Huffman.Encode(value, destination[pos..]);
            }
        }

        int written = HpackInteger.Encode(value.Length, 7, 0x00, destination);
        value.CopyTo(destination[written..]);
        return written + value.Length;
    }

    /// <summary>Newest matching entry of the dynamic table, by name and value, else by name only; -1 if none.</summary>
    private int FindInTable(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, out bool valueMatches)
    {
        valueMatches = false;
        int nameMatch = -1;
        for (int i = 0; i < _table.Count; i++)
        {
            if (!name.SequenceEqual(_table.Name(i)))
            {
                continue;
            }

            if (value.SequenceEqual(_table.Value(i)))
            {
                valueMatches = true;
                return i;
            }

            if (nameMatch < 0)
            {
                nameMatch = i;
            }
        }

        return nameMatch;
    }

    /// <summary>
    /// Fields an attacker could guess by watching the compressed size (section 7.1): sent as never
    /// indexed so no intermediary adds them to a table either (section 6.2.3).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsSensitive(ReadOnlySpan<byte> name)
        => name.SequenceEqual("set-cookie"u8) || name.SequenceEqual("authorization"u8)
            || name.SequenceEqual("cookie"u8) || name.SequenceEqual("proxy-authorization"u8);

    /// <summary>Fields whose values differ on nearly every message: indexing them only evicts useful entries.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsUnique(ReadOnlySpan<byte> name)
        => name.SequenceEqual("content-length"u8) || name.SequenceEqual("etag"u8);
}
