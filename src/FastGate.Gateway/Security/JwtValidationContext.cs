using System.Buffers;

namespace FastGate.Gateway.Security;

/// <summary>Per-connection memory for token validation: the decoded header and payload live here until the
/// next token, so <see cref="Claims"/> can be read after any await of the request.</summary>
/// <remarks>Not thread-safe: one per connection (requests of one connection are sequential). A cached token
/// does not copy its payload here; the context then points at the cache's immutable copy.</remarks>
internal sealed class JwtValidationContext : IDisposable
{
    private byte[]? _buffer;
    private ReadOnlyMemory<byte> _payload;
    private long _expiresAt;

    /// <summary>The header last accepted with this context, kept across tokens (not by <see cref="Reset"/>).</summary>
    internal JwtValidator.AcceptedHeader? LastHeader { get; set; }

    /// <summary>The claims of the last token validated as <see cref="JwtValidationResult.Valid"/> with this
    /// context, or empty claims.</summary>
    public JwtClaims Claims => new(_payload.Span, _expiresAt);

    public bool HasClaims => !_payload.IsEmpty;

    /// <summary>Forgets the last token (its buffer is kept for the next one).</summary>
    public void Reset()
    {
        _payload = default;
        _expiresAt = 0;
    }

    public void Dispose()
    {
        Reset();
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }

    internal Span<byte> GetBuffer(int length)
    {
        if (_buffer is null || _buffer.Length < length)
        {
            if (_buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
            }

            _buffer = ArrayPool<byte>.Shared.Rent(length);
        }

        return _buffer;
    }

    /// <summary>Claims decoded into this context's buffer at [start, start + length).</summary>
    internal void SetPayload(int start, int length, long expiresAt)
    {
        _payload = _buffer.AsMemory(start, length);
        _expiresAt = expiresAt;
    }

    /// <summary>Claims held by the verified-token cache (immutable, never reused while referenced).</summary>
    internal void SetPayload(byte[] payload, long expiresAt)
    {
        _payload = payload;
        _expiresAt = expiresAt;
    }
}
