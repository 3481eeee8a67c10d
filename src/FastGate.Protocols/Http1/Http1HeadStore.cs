using FastGate.Protocols.Buffers;
using FastGate.Protocols.Text;

namespace FastGate.Protocols.Http1;

/// <summary>Where one field line of a stored head lives in the store's buffer.</summary>
internal struct Http1Field
{
    public int NameStart;
    public int NameLength;
    public int ValueStart;
    public int ValueLength;
    public KnownHeader Kind;
}

/// <summary>
/// The bytes of one parsed head (request or response), copied out of the connection's input so that
/// the pipe can be advanced and the head replayed on a retry, plus the positions of its fields. The
/// buffer starts small, grows on demand from <see cref="HeadBufferPool"/>, and goes back between
/// messages, so an idle connection holds no head memory. The field table is rented and returned the
/// same way: it was 1.3 KB of every idle connection (a request and a response table each).
/// Positions are offsets, so growth is safe.
/// </summary>
internal sealed class Http1HeadStore
{
    private const int InitialFieldCount = HeadBufferPool.InitialFieldCount;

    private byte[] _buffer = [];
    private int _used;
    private int _limit;
    private Http1Field[] _fields = [];

    public int FieldCount { get; private set; }

    /// <summary>
    /// Takes a small buffer for the next head (unless <see cref="Recycle"/> kept one); it grows up to
    /// <paramref name="limit"/> bytes if needed.
    /// </summary>
    public void Begin(int limit)
    {
        if (_buffer.Length == 0)
        {
            _buffer = HeadBufferPool.Rent(Math.Min(HeadBufferPool.InitialSize, limit));
        }

        if (_fields.Length == 0)
        {
            _fields = HeadBufferPool.RentFields(InitialFieldCount);
        }
        _limit = limit;
        Clear();
    }

    /// <summary>Forgets the stored bytes and fields and keeps the buffer (an interim 1xx answer).</summary>
    public void Clear()
    {
        _used = 0;
        FieldCount = 0;
    }

    /// <summary>Gives the buffer back to its pool; every span of the head is invalid afterwards.</summary>
    public void Release()
    {
        if (_buffer.Length > 0)
        {
            HeadBufferPool.Return(_buffer);
            _buffer = [];
        }

        if (_fields.Length > 0)
        {
            HeadBufferPool.ReturnFields(_fields);
            _fields = [];
        }
    }

    /// <summary>
    /// Forgets the head and keeps a buffer and field table of the initial sizes for the next one: the
    /// owner goes back to a pool of its own (idle connections hold none), and a pool rent and return
    /// per head was measurable on the request path. A buffer or table grown for a large head goes back.
    /// </summary>
    public void Recycle()
    {
        if (_buffer.Length > HeadBufferPool.InitialSize)
        {
            HeadBufferPool.Return(_buffer);
            _buffer = [];
        }

        if (_fields.Length > InitialFieldCount)
        {
            HeadBufferPool.ReturnFields(_fields);
            _fields = [];
        }

        Clear();
    }

    public ReadOnlySpan<byte> Slice(int start, int length) => _buffer.AsSpan(start, length);

    /// <summary>Appends bytes; returns where they start.</summary>
    public int Copy(ReadOnlySpan<byte> bytes)
    {
        EnsureCapacity(bytes.Length);
        int start = _used;
        bytes.CopyTo(_buffer.AsSpan(start));
        _used += bytes.Length;
        return start;
    }

    /// <summary>At least <paramref name="size"/> free bytes to write into; then <see cref="Commit"/>.</summary>
    public Span<byte> Reserve(int size)
    {
        EnsureCapacity(size);
        return _buffer.AsSpan(_used);
    }

    /// <summary>Keeps <paramref name="length"/> bytes written into <see cref="Reserve"/>; returns where they start.</summary>
    public int Commit(int length)
    {
        int start = _used;
        _used += length;
        return start;
    }

    /// <summary>Stores a field line; returns its index.</summary>
    public int AddField(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, KnownHeader kind)
    {
        if (FieldCount == _fields.Length)
        {
            // A head with many fields takes a larger table from the pool, kept until Release.
            var larger = HeadBufferPool.RentFields(Math.Max(InitialFieldCount, _fields.Length * 2));
            _fields.AsSpan(0, FieldCount).CopyTo(larger);
            if (_fields.Length > 0)
            {
                HeadBufferPool.ReturnFields(_fields);
            }
            _fields = larger;
        }

        int index = FieldCount++;
        ref var field = ref _fields[index];
        field.NameStart = Copy(name);
        field.NameLength = name.Length;
        field.ValueStart = Copy(value);
        field.ValueLength = value.Length;
        field.Kind = kind;
        return index;
    }

    public ref readonly Http1Field Field(int index) => ref _fields[index];

    public ReadOnlySpan<byte> Name(int index) => _buffer.AsSpan(_fields[index].NameStart, _fields[index].NameLength);

    public ReadOnlySpan<byte> Value(int index) => _buffer.AsSpan(_fields[index].ValueStart, _fields[index].ValueLength);

    /// <summary>Is the named field listed in a Connection field, and so hop-by-hop (RFC 9110 section 7.6.1)?</summary>
    public bool IsListedInConnection(ReadOnlySpan<byte> name)
    {
        for (int i = 0; i < FieldCount; i++)
        {
            if (_fields[i].Kind == KnownHeader.Connection && Ascii8.TokenListContains(Value(i), name))
            {
                return true;
            }
        }

        return false;
    }

    // Grows by doubling. Callers bound what is copied by slicing their input to the head limit, so the
    // buffer never grows past that limit (plus the normalized path, no longer than the target).
    private void EnsureCapacity(int more)
    {
        if (_used + more <= _buffer.Length)
        {
            return;
        }

        int size = Math.Max(Math.Max(_buffer.Length * 2, _used + more), HeadBufferPool.InitialSize);
        var larger = HeadBufferPool.Rent(Math.Min(size, Math.Max(_limit, _used + more)));
        _buffer.AsSpan(0, _used).CopyTo(larger);
        if (_buffer.Length > 0)
        {
            HeadBufferPool.Return(_buffer);
        }

        _buffer = larger;
    }
}
