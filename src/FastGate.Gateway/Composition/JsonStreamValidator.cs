using System.Text.Json;
using System.Text.Unicode;

namespace FastGate.Gateway.Composition;

internal enum JsonValidation : byte
{
    /// <summary>Well-formed so far; the value is not complete yet (or may still be followed by whitespace).</summary>
    NeedMore,
    /// <summary>Exactly one well-formed JSON value (RFC 8259 section 2), and only whitespace around it.</summary>
    Complete,
    Invalid,
}

/// <summary>
/// Checks, block by block, that a byte stream is exactly one well-formed JSON value, without building
/// anything: a <see cref="Utf8JsonReader"/> over each block with <c>isFinalBlock: false</c>, resumed from
/// the <see cref="JsonReaderState"/> of the previous one. It also tracks the containers open at the last
/// complete token, so a prefix that ends there can always be closed into valid JSON
/// (<see cref="WriteClosing"/>).
/// </summary>
/// <remarks>
/// The caller passes each block starting where the previous call's <c>consumed</c> ended: a token cut by
/// a block boundary is not consumed, and is passed again with the bytes that complete it.
/// </remarks>
internal struct JsonStreamValidator
{
    /// <summary>Nesting bound: one bit per level in <see cref="_objects"/>. Deeper documents are refused.</summary>
    public const int MaxDepth = 64;

    /// <summary>Bytes <see cref="WriteClosing"/> may write: "null" and one closer per level.</summary>
    public const int MaxClosingLength = 4 + MaxDepth;

    private static readonly JsonReaderOptions Options = new() { MaxDepth = MaxDepth };

    private JsonReaderState _state;
    private ulong _objects;
    private int _depth;
    private bool _afterPropertyName;
    private bool _complete;
    private bool _started;

    public static JsonStreamValidator Create() => new() { _state = new JsonReaderState(Options) };

    /// <summary>A whole value was read (only whitespace may follow).</summary>
    public readonly bool IsComplete => _complete;

    /// <summary>Validates the next block.</summary>
    /// <param name="consumed">bytes of <paramref name="block"/> up to the end of its last complete token</param>
    public JsonValidation Validate(ReadOnlySpan<byte> block, bool isFinalBlock, out int consumed)
    {
        var reader = new Utf8JsonReader(block, isFinalBlock, _state);

        // On an error, what counts as consumed ends at the last token the container tracking saw, so
        // that WriteClosing matches the bytes a caller may already have passed on.
        long lastGood = 0;
        try
        {
            while (reader.Read())
            {
                if (!OnToken(ref reader))
                {
                    consumed = (int)lastGood;
                    return JsonValidation.Invalid;
                }

                lastGood = reader.BytesConsumed;
            }
        }
        catch (JsonException)
        {
            consumed = (int)lastGood;
            return JsonValidation.Invalid;
        }

        consumed = (int)reader.BytesConsumed;
        _state = reader.CurrentState;
        if (isFinalBlock)
        {
            return _complete ? JsonValidation.Complete : JsonValidation.Invalid;
        }

        return JsonValidation.NeedMore;
    }

    /// <summary>Tracks the containers; false (and nothing changed) for a string that is not UTF-8.</summary>
    private bool OnToken(ref Utf8JsonReader reader)
    {
        var type = reader.TokenType;

        // The reader checks escapes but leaves UTF-8 inside strings to whoever decodes them (RFC 8259
        // section 8.1 requires UTF-8); nothing here decodes, so it is checked here.
        if (type is JsonTokenType.String or JsonTokenType.PropertyName && !Utf8.IsValid(reader.ValueSpan))
        {
            return false;
        }

        _started = true;
        switch (type)
        {
            case JsonTokenType.StartObject:
                // The reader enforces MaxDepth, so the bit always fits.
                _objects |= 1UL << _depth;
                _depth++;
                _afterPropertyName = false;
                return true;
            case JsonTokenType.StartArray:
                _objects &= ~(1UL << _depth);
                _depth++;
                _afterPropertyName = false;
                return true;
            case JsonTokenType.EndObject:
            case JsonTokenType.EndArray:
                _depth--;
                break;
            case JsonTokenType.PropertyName:
                _afterPropertyName = true;
                return true;
        }

        _afterPropertyName = false;
        _complete |= _depth == 0;
        return true;
    }

    /// <summary>
    /// Writes what makes the bytes consumed so far one valid JSON value: "null" for a value that was
    /// never started or a member name still waiting for its value, then the closer of each open
    /// container. Returns the bytes written (at most <see cref="MaxClosingLength"/>).
    /// </summary>
    public readonly int WriteClosing(Span<byte> destination)
    {
        int n = 0;
        if (!_started || _afterPropertyName)
        {
            "null"u8.CopyTo(destination);
            n = 4;
        }

        for (int level = _depth - 1; level >= 0; level--)
        {
            destination[n++] = (_objects & (1UL << level)) != 0 ? (byte)'}' : (byte)']';
        }

        return n;
    }
}
