using System.Buffers;

namespace FastGate.Protocols.Hpack;

/// <summary>
/// The dynamic table (RFC 7541 section 2.3.2 and 4): a FIFO of fields, newest first, whose size is the
/// sum of name length + value length + 32 per entry and never exceeds <see cref="MaxSize"/>.
/// </summary>
/// <remarks>
/// Name and value bytes live in one pooled ring of bytes, each entry contiguous (an entry that does not
/// fit before the end of the ring starts again at offset 0), and the entries' positions in a pooled
/// ring of <see cref="Entry"/>. Nothing is allocated per entry. The byte ring holds twice
/// <see cref="Limit"/>: live bytes are at most Limit - L - 32 when an entry of L bytes goes in, so the
/// free space is more than Limit + L and, split in at most two runs, one of them holds L bytes.
/// </remarks>
internal sealed class HpackDynamicTable : IDisposable
{
    /// <summary>The per-entry overhead of section 4.1.</summary>
    public const int EntryOverhead = 32;

    private byte[] _bytes;
    private Entry[] _entries;
    private int _newest = -1;
    private int _count;
    private int _size;
    private int _maxSize;

    /// <param name="limit">the largest size the table may be given (SETTINGS_HEADER_TABLE_SIZE)</param>
    public HpackDynamicTable(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        Limit = limit;
        _maxSize = limit;
        _bytes = ArrayPool<byte>.Shared.Rent(Math.Max(1, limit * 2));
        _entries = ArrayPool<Entry>.Shared.Rent((limit / EntryOverhead) + 1);
    }

    public int Limit { get; }

    public int Count => _count;

    /// <summary>The table size of section 4.1.</summary>
    public int Size => _size;

    public int MaxSize => _maxSize;

    /// <param name="index">0 = the newest entry (index 62 of the index address space)</param>
    public ReadOnlySpan<byte> Name(int index)
    {
        ref readonly Entry entry = ref At(index);
        return _bytes.AsSpan(entry.Offset, entry.NameLength);
    }

    /// <param name="index">0 = the newest entry</param>
    public ReadOnlySpan<byte> Value(int index)
    {
        ref readonly Entry entry = ref At(index);
        return _bytes.AsSpan(entry.Offset + entry.NameLength, entry.ValueLength);
    }

    /// <summary>The size (section 4.1) of entry <paramref name="index"/>, without touching its bytes.</summary>
    public int EntrySize(int index)
    {
        ref readonly Entry entry = ref At(index);
        return entry.NameLength + entry.ValueLength + EntryOverhead;
    }

    /// <summary>Changes the maximum size, evicting the oldest entries to fit (section 4.3).</summary>
    public void SetMaxSize(int maxSize)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)maxSize, (uint)Limit, nameof(maxSize));
        _maxSize = maxSize;
        EvictUntil(maxSize);
    }

    /// <summary>
    /// Adds a field as the newest entry after evicting what it needs (section 4.4). A field larger than the
    /// maximum size empties the table and is not added. The spans must not point into this table.
    /// </summary>
    public void Add(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        int length = name.Length + value.Length;
        if ((long)length + EntryOverhead > _maxSize)
        {
            EvictUntil(0);
            return;
        }

        EvictUntil(_maxSize - length - EntryOverhead);
        int offset = FindSpace(length);
        name.CopyTo(_bytes.AsSpan(offset));
        value.CopyTo(_bytes.AsSpan(offset + name.Length));
        _newest = _newest + 1 == _entries.Length ? 0 : _newest + 1;
        _entries[_newest] = new Entry(offset, name.Length, value.Length);
        _count++;
        _size += length + EntryOverhead;
    }

    public void Dispose()
    {
        if (_bytes.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_bytes);
            ArrayPool<Entry>.Shared.Return(_entries);
            _bytes = [];
            _entries = [];
            _count = 0;
        }
    }

    private ref readonly Entry At(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_count, nameof(index));
        int slot = _newest - index;
        return ref _entries[slot < 0 ? slot + _entries.Length : slot];
    }

    private void EvictUntil(int size)
    {
        while (_size > size)
        {
            ref readonly Entry oldest = ref At(_count - 1);
            _size -= oldest.NameLength + oldest.ValueLength + EntryOverhead;
            _count--;
        }
    }

    /// <summary>
    /// Where the next entry of <paramref name="length"/> bytes goes: right after the newest entry, or at 0
    /// when the ring's end is too close. Once wrapped, the free run between the newest and the oldest
    /// entry is always long enough: the wrap happened past Limit, and live bytes stay under Limit - length.
    /// </summary>
    private int FindSpace(int length)
    {
        if (_count == 0)
        {
            return 0;
        }

        ref readonly Entry newest = ref At(0);
        int end = newest.Offset + newest.NameLength + newest.ValueLength;
        bool wrapped = newest.Offset < At(_count - 1).Offset;
        return wrapped || _bytes.Length - end >= length ? end : 0;
    }

    private readonly record struct Entry(int Offset, int NameLength, int ValueLength);
}
