using System.Buffers;

namespace FastGate.Gateway.Server;

/// <summary>
/// Trailer fields on their way through the gateway (RFC 9110 section 6.5), kept as HTTP/1.1 field lines
/// ("name: value" CRLF), the form both hops understand: an HTTP/1.1 chunked trailer section is copied in
/// as it is, an HTTP/2 trailing HEADERS block is written out line by line. The buffer is rented only
/// when a message has trailers and grows up to <see cref="MaxLength"/>.
/// </summary>
internal struct TrailerFields
{
    /// <summary>
    /// Bigger than either source allows (the chunked decoder's 8 KiB trailer section, the HTTP/2 header
    /// list limit), so nothing a peer may legally send is cut.
    /// </summary>
    public const int MaxLength = 64 * 1024;

    private byte[]? _lines;
    private int _length;

    public readonly bool IsEmpty => _length == 0;

    public readonly ReadOnlySpan<byte> Lines => _lines.AsSpan(0, _length);

    /// <summary>Appends complete field lines; false when they would pass <see cref="MaxLength"/>.</summary>
    public bool Append(in ReadOnlySequence<byte> lines)
    {
        if (lines.IsEmpty)
        {
            return true;
        }

        if (!Reserve((int)Math.Min(lines.Length, MaxLength + 1)))
        {
            return false;
        }

        lines.CopyTo(_lines.AsSpan(_length));
        _length += (int)lines.Length;
        return true;
    }

    /// <summary>Appends one field as a line; false when it would pass <see cref="MaxLength"/>.</summary>
    public bool Append(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (!Reserve(name.Length + value.Length + 4))
        {
            return false;
        }

        var span = _lines.AsSpan(_length);
        name.CopyTo(span);
        int at = name.Length;
        span[at++] = (byte)':';
        span[at++] = (byte)' ';
        value.CopyTo(span[at..]);
        at += value.Length;
        span[at++] = (byte)'\r';
        span[at++] = (byte)'\n';
        _length += at;
        return true;
    }

    public void Clear() => _length = 0;

    /// <summary>Gives the buffer back (end of the request on a pooled object).</summary>
    public void Release()
    {
        _length = 0;
        if (_lines is not null)
        {
            ArrayPool<byte>.Shared.Return(_lines);
            _lines = null;
        }
    }

    [System.Diagnostics.CodeAnalysis.MemberNotNullWhen(true, nameof(_lines))]
    private bool Reserve(int more)
    {
        int needed = _length + more;
        if (needed > MaxLength)
        {
            return false;
        }

        if (_lines is null || needed > _lines.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 1024));
            Lines.CopyTo(larger);
            if (_lines is not null)
            {
                ArrayPool<byte>.Shared.Return(_lines);
            }

            _lines = larger;
        }

        return true;
    }
}
