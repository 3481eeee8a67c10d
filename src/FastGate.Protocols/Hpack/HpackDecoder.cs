using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace FastGate.Protocols.Hpack;

/// <summary>
/// Decodes HPACK header blocks (RFC 7541) for one connection: static table, dynamic table with size
/// updates, Huffman and raw string literals, and a header block split over CONTINUATION frames.
/// </summary>
/// <remarks>
/// Field bytes are delivered as spans into the tables or into one pooled scratch buffer: nothing is
/// allocated per header. Limits, each checked before memory is committed:
/// - a string literal longer than <see cref="MaxStringLength"/> is a COMPRESSION_ERROR;
/// - the header list size (RFC 9113 section 6.5.2: name + value + 32 per field) is added up before a
///   field is delivered or copied; past <see cref="MaxHeaderListSize"/> the decoder stops delivering,
///   keeps decoding to stay in step with the peer's dynamic table (so that the error can stay on the
///   stream) and throws <see cref="HpackHeaderListTooLargeException"/> when the block ends. An indexed
///   field repeated thousands of times (the "HPACK bomb") therefore costs one comparison each;
/// - a field cut by the end of a fragment is kept for the next one in a buffer bounded by the string
///   limit, so a CONTINUATION sequence never makes the decoder hold more than one field.
/// </remarks>
[SkipLocalsInit]
internal sealed class HpackDecoder : IDisposable
{
    /// <summary>SETTINGS_HEADER_TABLE_SIZE's initial value (RFC 9113 section 6.5.2).</summary>
    public const int DefaultHeaderTableSize = 4096;

    public const int DefaultMaxHeaderListSize = 32 * 1024;

    private const int InitialScratchSize = 1024;

    /// <summary>A field's prefix octets: representation and name index, two string lengths.</summary>
    private const int MaxFieldOverhead = 3 * HpackInteger.MaxEncodedLength;

    private readonly HpackDynamicTable _table;
    private byte[] _scratch = [];
    private byte[] _pending = [];
    private int _pendingLength;

    // Block state, carried across the fragments of one header block.
    private bool _fieldSeen;
    private bool _overLimit;
    private long _headerListSize;

    /// <param name="maxHeaderTableSize">the SETTINGS_HEADER_TABLE_SIZE we advertise: the limit of size updates</param>
    /// <param name="maxHeaderListSize">the SETTINGS_MAX_HEADER_LIST_SIZE we advertise</param>
    /// <param name="maxStringLength">the longest name or value literal; defaults to the header list limit</param>
    public HpackDecoder(int maxHeaderTableSize = DefaultHeaderTableSize, int maxHeaderListSize = DefaultMaxHeaderListSize, int maxStringLength = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxHeaderListSize);
        ArgumentOutOfRangeException.ThrowIfNegative(maxStringLength);
        _table = new HpackDynamicTable(maxHeaderTableSize);
        MaxHeaderListSize = maxHeaderListSize;
        MaxStringLength = maxStringLength == 0 ? maxHeaderListSize : maxStringLength;
    }

    public int MaxHeaderListSize { get; }

    public int MaxStringLength { get; }

    /// <summary>The dynamic table, for inspection.</summary>
    public HpackDynamicTable DynamicTable => _table;

    /// <summary>
    /// Decodes one fragment of a header block (the payload of a HEADERS, PUSH_PROMISE or CONTINUATION
    /// frame). With <paramref name="endHeaders"/> false, a field cut at the end of the fragment is kept
    /// and completed by the next call.
    /// </summary>
    /// <exception cref="HpackDecodingException">a COMPRESSION_ERROR (connection error)</exception>
    /// <exception cref="HpackHeaderListTooLargeException">at the end of a block whose header list was too large</exception>
    public void Decode<THandler>(ReadOnlySequence<byte> headerBlock, bool endHeaders, ref THandler handler)
        where THandler : struct, IHpackHeaderHandler
    {
        var reader = new SequenceReader<byte>(headerBlock);
        if (_pendingLength == 0 || CompletePendingField(ref reader, ref handler))
        {
            while (!reader.End)
            {
                if (TryDecodeShortIndexedRun(ref reader, ref handler))
                {
                    continue;
                }

                if (!TryDecodeField(ref reader, ref handler))
                {
                    SavePending(ref reader);
                    break;
                }
            }
        }

        if (endHeaders)
        {
            EndBlock();
        }
    }

    public void Dispose()
    {
        _table.Dispose();
        ReturnBuffer(ref _scratch);
        ReturnBuffer(ref _pending);
    }

    private void EndBlock()
    {
        bool incomplete = _pendingLength != 0;
        bool overLimit = _overLimit;
        _pendingLength = 0;
        _fieldSeen = false;
        _overLimit = false;
        _headerListSize = 0;
        ReturnBuffer(ref _pending);
        if (incomplete)
        {
            Throw(HpackDecodingError.IncompleteHeaderBlock);
        }

        if (overLimit)
        {
            throw new HpackHeaderListTooLargeException();
        }
    }

    /// <summary>
    /// Completes the field cut at the end of the previous fragment: appends input to it until it decodes.
    /// False when this fragment ended too (all of it is now pending).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool CompletePendingField<THandler>(ref SequenceReader<byte> reader, ref THandler handler)
        where THandler : struct, IHpackHeaderHandler
    {
        int take = (int)Math.Min(reader.Remaining, _pending.Length - _pendingLength);
        reader.UnreadSequence.Slice(0, take).CopyTo(_pending.AsSpan(_pendingLength));
        int before = _pendingLength;
        var pendingReader = new SequenceReader<byte>(new ReadOnlySequence<byte>(_pending, 0, before + take));
        if (TryDecodeField(ref pendingReader, ref handler))
        {
            reader.Advance(pendingReader.Consumed - before);
            _pendingLength = 0;
            return true;
        }

        if (take < reader.Remaining)
        {
            // The pending buffer holds the largest possible field; a field that needs more is malformed.
            Throw(HpackDecodingError.StringTooLong);
        }

        reader.Advance(take);
        _pendingLength += take;
        return false;
    }

    private void SavePending(ref SequenceReader<byte> reader)
    {
        long remaining = reader.Remaining;
        int capacity = (2 * MaxStringLength) + MaxFieldOverhead;
        if (remaining > capacity)
        {
            Throw(HpackDecodingError.StringTooLong);
        }

        if (_pending.Length < capacity)
        {
            ReturnBuffer(ref _pending);
            _pending = ArrayPool<byte>.Shared.Rent(capacity);
        }

        reader.UnreadSequence.CopyTo(_pending);
        _pendingLength = (int)remaining;
        reader.Advance(remaining);
    }

    /// <summary>
    /// Decodes one field representation or size update (RFC 7541 section 6). False when the input ends
    /// inside it: the reader is then back at its start and nothing was delivered or changed.
    /// </summary>
    private bool TryDecodeField<THandler>(ref SequenceReader<byte> reader, ref THandler handler)
        where THandler : struct, IHpackHeaderHandler
    {
        long start = reader.Consumed;
        if (!reader.TryPeek(out byte first))
        {
            return false;
        }

        bool complete;
        if ((first & 0x80) != 0)
        {
            complete = TryDecodeIndexed(ref reader, ref handler);
        }
        else if ((first & 0x40) != 0)
        {
            complete = TryDecodeLiteral(ref reader, ref handler, prefixBits: 6, index: true);
        }
        else if ((first & 0x20) != 0)
        {
            complete = TryDecodeSizeUpdate(ref reader);
        }
        else
        {
            // Without indexing (0000) and never indexed (0001) decode alike; the difference only binds
            // intermediaries that re-encode (section 6.2.3), and the gateway re-encodes nothing as-is.
            complete = TryDecodeLiteral(ref reader, ref handler, prefixBits: 4, index: false);
        }

        if (!complete)
        {
            reader.Rewind(reader.Consumed - start);
        }

        return complete;
    }

    /// <summary>
    /// Fast path for the steady state of a connection, where most fields are indexed (section 6.1) with a
    /// one-octet index: decodes the run of them at the reader's position straight from the span. False
    /// when the next field is anything else.
    /// </summary>
    private bool TryDecodeShortIndexedRun<THandler>(ref SequenceReader<byte> reader, ref THandler handler)
        where THandler : struct, IHpackHeaderHandler
    {
        ReadOnlySpan<byte> unread = reader.UnreadSpan;
        int i = 0;
        while (i < unread.Length && unread[i] is > 0x80 and < 0xFF)
        {
            EmitIndexed(unread[i] & 0x7F, ref handler);
            i++;
        }

        reader.Advance(i);
        return i > 0;
    }

    /// <summary>Indexed header field (section 6.1).</summary>
    private bool TryDecodeIndexed<THandler>(ref SequenceReader<byte> reader, ref THandler handler)
        where THandler : struct, IHpackHeaderHandler
    {
        if (!HpackInteger.TryDecode(ref reader, 7, out int index))
        {
            return false;
        }

        EmitIndexed(index, ref handler);
        return true;
    }

    /// <summary>Delivers the entry at <paramref name="index"/>, its size counted before its bytes are touched.</summary>
    private void EmitIndexed<THandler>(int index, ref THandler handler)
        where THandler : struct, IHpackHeaderHandler
    {
        _fieldSeen = true;
        if (index <= HpackStaticTable.Count)
        {
            if (index == 0)
            {
                Throw(HpackDecodingError.InvalidIndex);
            }

            ReadOnlySpan<byte> name = HpackStaticTable.Name(index);
            ReadOnlySpan<byte> value = HpackStaticTable.Value(index);
            if (CountField(name.Length + value.Length + HpackDynamicTable.EntryOverhead))
            {
                handler.OnHeader(name, value);
            }

            return;
        }

        int dynamicIndex = DynamicIndex(index);
        if (CountField(_table.EntrySize(dynamicIndex)))
        {
            handler.OnHeader(_table.Name(dynamicIndex), _table.Value(dynamicIndex));
        }
    }

    /// <summary>
    /// Literal header field with incremental indexing (section 6.2.1, 6-bit prefix), without indexing
    /// (6.2.2) or never indexed (6.2.3, both 4-bit prefix).
    /// </summary>
    private bool TryDecodeLiteral<THandler>(ref SequenceReader<byte> reader, ref THandler handler, int prefixBits, bool index)
        where THandler : struct, IHpackHeaderHandler
    {
        if (!HpackInteger.TryDecode(ref reader, prefixBits, out int nameIndex))
        {
            return false;
        }

        // The name: a table reference (nameIndex > 0) or a literal at the start of the scratch buffer.
        int nameLength;
        if (nameIndex == 0)
        {
            if (!TryReadString(ref reader, 0, decode: true, out nameLength))
            {
                return false;
            }
        }
        else if (nameIndex <= HpackStaticTable.Count)
        {
            nameLength = HpackStaticTable.Name(nameIndex).Length;
        }
        else
        {
            nameLength = _table.Name(DynamicIndex(nameIndex)).Length;
        }

        // Without indexing, a field past the list limit is skipped undecoded: nothing depends on it.
        bool decodeValue = index || !_overLimit;
        if (!TryReadString(ref reader, nameIndex == 0 ? nameLength : 0, decodeValue, out int valueLength))
        {
            return false;
        }

        _fieldSeen = true;
        bool deliver = CountField(nameLength + valueLength + HpackDynamicTable.EntryOverhead);
        if (!index && !deliver)
        {
            return true;
        }

        int valueOffset = nameIndex == 0 ? nameLength : 0;
        ReadOnlySpan<byte> name;
        if (nameIndex == 0)
        {
            name = _scratch.AsSpan(0, nameLength);
        }
        else if (nameIndex <= HpackStaticTable.Count)
        {
            name = HpackStaticTable.Name(nameIndex);
        }
        else
        {
            ReadOnlySpan<byte> tableName = _table.Name(DynamicIndex(nameIndex));
            if (index)
            {
                // Adding may evict the entry that holds the name (section 4.4): copy it out first.
                EnsureScratch(valueLength + nameLength, preserve: valueLength);
                tableName.CopyTo(_scratch.AsSpan(valueLength));
                name = _scratch.AsSpan(valueLength, nameLength);
            }
            else
            {
                name = tableName;
            }
        }

        ReadOnlySpan<byte> value = _scratch.AsSpan(valueOffset, valueLength);
        if (index)
        {
            _table.Add(name, value);
        }

        if (deliver)
        {
            handler.OnHeader(name, value);
        }

        return true;
    }

    /// <summary>Dynamic table size update (section 6.3): only before the first field of a block (4.2).</summary>
    private bool TryDecodeSizeUpdate(ref SequenceReader<byte> reader)
    {
        if (!HpackInteger.TryDecode(ref reader, 5, out int size))
        {
            return false;
        }

        if (_fieldSeen)
        {
            Throw(HpackDecodingError.TableSizeUpdateNotAtStart);
        }

        if (size > _table.Limit)
        {
            Throw(HpackDecodingError.TableSizeUpdateTooLarge);
        }

        _table.SetMaxSize(size);
        return true;
    }

    /// <summary>
    /// String literal (section 5.2) into the scratch buffer at <paramref name="offset"/>; with
    /// <paramref name="decode"/> false the octets are only skipped. The length is checked against the
    /// limit before anything is copied.
    /// </summary>
    private bool TryReadString(ref SequenceReader<byte> reader, int offset, bool decode, out int length)
    {
        length = 0;
        if (!reader.TryPeek(out byte first) || !HpackInteger.TryDecode(ref reader, 7, out int encodedLength))
        {
            return false;
        }

        if (encodedLength > MaxStringLength)
        {
            Throw(HpackDecodingError.StringTooLong);
        }

        if (reader.Remaining < encodedLength)
        {
            return false;
        }

        if (!decode)
        {
            reader.Advance(encodedLength);
            return true;
        }

        bool huffman = (first & 0x80) != 0;

        // A Huffman code has at least 5 bits, so the decoded string is at most 8/5 of the encoded one.
        int capacity = huffman ? (int)Math.Min(MaxStringLength, ((long)encodedLength * 8 / 5) + 1) : encodedLength;
        EnsureScratch(offset + capacity, preserve: offset);
        Span<byte> destination = _scratch.AsSpan(offset, capacity);
        ReadOnlySpan<byte> unread = reader.UnreadSpan;
        if (unread.Length >= encodedLength)
        {
            length = huffman ? Huffman.Decode(unread[..encodedLength], destination) : Copy(unread[..encodedLength], destination);
        }
        else
        {
            length = DecodeSplit(reader.UnreadSequence.Slice(0, encodedLength), huffman, destination);
        }

        reader.Advance(encodedLength);
        return true;
    }

    private static int Copy(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        source.CopyTo(destination);
        return source.Length;
    }

    /// <summary>A string that spans segments: raw strings are copied; Huffman ones go through a rented buffer.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int DecodeSplit(ReadOnlySequence<byte> source, bool huffman, Span<byte> destination)
    {
        if (!huffman)
        {
            source.CopyTo(destination);
            return (int)source.Length;
        }

        byte[] encoded = ArrayPool<byte>.Shared.Rent((int)source.Length);
        try
        {
            source.CopyTo(encoded);
            return Huffman.Decode(encoded.AsSpan(0, (int)source.Length), destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(encoded);
        }
    }

    /// <summary>Adds a field to the header list size; false once the list is over the limit.</summary>
    private bool CountField(int fieldSize)
    {
        _headerListSize += fieldSize;
        if (_headerListSize > MaxHeaderListSize)
        {
            _overLimit = true;
        }

        return !_overLimit;
    }

    /// <summary>Maps an index past the static table to a dynamic table position (section 2.3.3).</summary>
    private int DynamicIndex(int index)
    {
        int dynamicIndex = index - HpackStaticTable.Count - 1;
        if (dynamicIndex >= _table.Count)
        {
            Throw(HpackDecodingError.InvalidIndex);
        }

        return dynamicIndex;
    }

    /// <summary>Grows the scratch buffer to <paramref name="size"/>, keeping its first <paramref name="preserve"/> bytes.</summary>
    private void EnsureScratch(int size, int preserve)
    {
        if (_scratch.Length >= size)
        {
            return;
        }

        byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(size, InitialScratchSize));
        _scratch.AsSpan(0, preserve).CopyTo(larger);
        ReturnBuffer(ref _scratch);
        _scratch = larger;
    }

    private static void ReturnBuffer(ref byte[] buffer)
    {
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = [];
        }
    }

    [DoesNotReturn]
    private static void Throw(HpackDecodingError error) => throw new HpackDecodingException(error);
}
