using System.Buffers;
using System.Buffers.Text;
using System.Runtime.CompilerServices;

namespace FastGate.Protocols.Buffers;

/// <summary>
/// Sequential writes into an <see cref="IBufferWriter{T}"/> (a pipe), asking it for memory only when
/// the current span is full. <see cref="Commit"/> must be called before the writer is flushed.
/// </summary>
internal ref struct BufferCursor
{
    private readonly IBufferWriter<byte> _output;
    private Span<byte> _span;
    private int _position;

    public BufferCursor(IBufferWriter<byte> output, int sizeHint)
    {
        _output = output;
        _span = output.GetSpan(sizeHint);
        _position = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(scoped ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > _span.Length - _position)
        {
            Grow(bytes.Length);
        }

        bytes.CopyTo(_span[_position..]);
        _position += bytes.Length;
    }

    public void Write(byte value)
    {
        if (_position == _span.Length)
        {
            Grow(1);
        }

        _span[_position++] = value;
    }

    public void WriteDecimal(long value)
    {
        if (_span.Length - _position < 20)
        {
            Grow(20);
        }

        Utf8Formatter.TryFormat(value, _span[_position..], out int written);
        _position += written;
    }

    public void WriteHex(long value)
    {
        if (_span.Length - _position < 16)
        {
            Grow(16);
        }

        Utf8Formatter.TryFormat(value, _span[_position..], out int written, new StandardFormat('x'));
        _position += written;
    }

    /// <summary>Writes "name: value\r\n".</summary>
    public void WriteField(scoped ReadOnlySpan<byte> name, scoped ReadOnlySpan<byte> value)
    {
        int length = name.Length + value.Length + 4;
        if (length > _span.Length - _position)
        {
            Grow(length);
        }

        var span = _span[_position..];
        name.CopyTo(span);
        span[name.Length] = (byte)':';
        span[name.Length + 1] = (byte)' ';
        value.CopyTo(span[(name.Length + 2)..]);
        span[length - 2] = (byte)'\r';
        span[length - 1] = (byte)'\n';
        _position += length;
    }

    /// <summary>A span of at least <paramref name="size"/> bytes to write into; then call <see cref="Advance"/>.</summary>
    public Span<byte> Reserve(int size)
    {
        if (size > _span.Length - _position)
        {
            Grow(size);
        }

        return _span[_position..];
    }

    public void Advance(int count) => _position += count;

    private void Grow(int needed)
    {
        _output.Advance(_position);
        _span = _output.GetSpan(Math.Max(needed, 256));
        _position = 0;
    }

    public void Commit()
    {
        _output.Advance(_position);
        _position = 0;
        _span = default;
    }
}
