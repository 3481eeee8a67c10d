using System.Buffers;
using System.Text.Json;

namespace FastGate.Gateway.Security;

/// <summary>The claims of a validated token: its decoded payload JSON, read on demand without allocation.</summary>
/// <remarks>A view over memory owned by a <see cref="JwtValidationContext"/> or by the verified-token cache; a ref
/// struct so it cannot outlive the synchronous code that validated the token. The payload was checked to be one
/// JSON object of valid UTF-8 with unique member names before this view exists, so the readers here never throw.</remarks>
internal readonly ref struct JwtClaims
{
    public JwtClaims(ReadOnlySpan<byte> payload, long expiresAt)
    {
        Payload = payload;
        ExpiresAt = expiresAt;
    }

    /// <summary>The decoded payload: a UTF-8 JSON object.</summary>
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>"exp", in Unix seconds.</summary>
    public long ExpiresAt { get; }

    public bool IsEmpty => Payload.IsEmpty;

    /// <summary>Finds a top-level claim by its (unescaped UTF-8) name, e.g. <c>"sub"u8</c>.</summary>
    public bool TryGetClaim(ReadOnlySpan<byte> name, out JsonValueSpan value)
    {
        value = default;
        if (Payload.IsEmpty)
        {
            return false;
        }

        var reader = new Utf8JsonReader(Payload);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool match = reader.ValueTextEquals(name);
            reader.Read();
            int start = (int)reader.TokenStartIndex;
            JsonTokenType kind = reader.TokenType;
            if (kind is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                reader.Skip();
            }

            if (match)
            {
                value = new JsonValueSpan(Payload[start..(int)reader.BytesConsumed], kind);
                return true;
            }
        }

        return false;
    }
}

/// <summary>One JSON value of a payload, as its raw text: a string with its quotes, a number, an array...</summary>
internal readonly ref struct JsonValueSpan
{
    /// <summary>Longest escaped string unescaped on the stack; longer ones use a pooled buffer.</summary>
    private const int StackLimit = 512;

    public JsonValueSpan(ReadOnlySpan<byte> rawJson, JsonTokenType kind)
    {
        RawJson = rawJson;
        Kind = kind;
    }

    /// <summary>The value exactly as in the payload (strings still quoted and escaped).</summary>
    public ReadOnlySpan<byte> RawJson { get; }

    /// <summary>String, Number, True, False, Null, StartArray or StartObject.</summary>
    public JsonTokenType Kind { get; }

    /// <summary>A string equal to <paramref name="utf8"/> after unescaping, or a number, true or false whose
    /// JSON text is exactly <paramref name="utf8"/>.</summary>
    public bool ValueEquals(ReadOnlySpan<byte> utf8)
    {
        if (Kind == JsonTokenType.String)
        {
            var reader = new Utf8JsonReader(RawJson);
            reader.Read();
            return reader.ValueTextEquals(utf8);
        }

        return Kind is JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False && RawJson.SequenceEqual(utf8);
    }

    /// <summary>This value equals <paramref name="utf8"/>, or it is an array with an element that does.</summary>
    public bool Contains(ReadOnlySpan<byte> utf8)
    {
        if (Kind != JsonTokenType.StartArray)
        {
            return ValueEquals(utf8);
        }

        var reader = new Utf8JsonReader(RawJson);
        reader.Read();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.String when reader.ValueTextEquals(utf8):
                    return true;
                case JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False when reader.ValueSpan.SequenceEqual(utf8):
                    return true;
                case JsonTokenType.StartArray or JsonTokenType.StartObject:
                    reader.Skip();
                    break;
            }
        }

        return false;
    }

    /// <summary>An array with an element equal to <paramref name="word"/>, or a string of space-separated words
    /// one of which is <paramref name="word"/> (the "scope" claim, RFC 8693 section 4.2).</summary>
    public bool ContainsWord(ReadOnlySpan<byte> word)
    {
        if (Kind == JsonTokenType.StartArray)
        {
            return Contains(word);
        }

        if (Kind != JsonTokenType.String || word.IsEmpty)
        {
            return false;
        }

        var reader = new Utf8JsonReader(RawJson);
        reader.Read();
        if (!reader.ValueIsEscaped)
        {
            return ContainsWord(reader.ValueSpan, word);
        }

        byte[]? rented = null;
        Span<byte> buffer = reader.ValueSpan.Length <= StackLimit
            ? stackalloc byte[StackLimit]
            : (rented = ArrayPool<byte>.Shared.Rent(reader.ValueSpan.Length));
        int written = reader.CopyString(buffer);
        bool found = ContainsWord(buffer[..written], word);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return found;
    }

    /// <summary>An integer number claim.</summary>
    public bool TryGetInt64(out long value)
    {
        value = 0;
        if (Kind != JsonTokenType.Number)
        {
            return false;
        }

        var reader = new Utf8JsonReader(RawJson);
        reader.Read();
        return reader.TryGetInt64(out value);
    }

    /// <summary>Writes the value as an HTTP field value for <c>forward_claims</c>: a string unescaped, a number,
    /// true or false as written. False for arrays, objects, null, a value longer than
    /// <paramref name="destination"/>, and a string holding a control character (CR, LF, NUL... are never
    /// valid in a field value, RFC 9110 section 5.5, and would let a token inject headers).</summary>
    public bool TryWriteHeaderValue(Span<byte> destination, out int written)
    {
        written = 0;
        switch (Kind)
        {
            case JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False:
                if (!RawJson.TryCopyTo(destination))
                {
                    return false;
                }

                written = RawJson.Length;
                return true;
            case JsonTokenType.String:
                var reader = new Utf8JsonReader(RawJson);
                reader.Read();
                if (reader.ValueSpan.Length > destination.Length && !reader.ValueIsEscaped)
                {
                    return false;
                }

                int length;
                if (reader.ValueIsEscaped)
                {
                    byte[]? rented = null;
                    Span<byte> buffer = reader.ValueSpan.Length <= StackLimit
                        ? stackalloc byte[StackLimit]
                        : (rented = ArrayPool<byte>.Shared.Rent(reader.ValueSpan.Length));
                    length = reader.CopyString(buffer);
                    bool fits = length <= destination.Length;
                    if (fits)
                    {
                        buffer[..length].CopyTo(destination);
                    }

                    if (rented is not null)
                    {
                        ArrayPool<byte>.Shared.Return(rented);
                    }

                    if (!fits)
                    {
                        return false;
                    }
                }
                else
                {
                    reader.ValueSpan.CopyTo(destination);
                    length = reader.ValueSpan.Length;
                }

                // Control characters 0x00-0x1F (HTAB too: legal in a field value, never in a claim worth forwarding)
                // and DEL are refused; visible ASCII, SP and UTF-8 (obs-text) pass.
                if (destination[..length].IndexOfAnyInRange((byte)0, (byte)0x1F) >= 0 || destination[..length].Contains((byte)0x7F))
                {
                    return false;
                }

                written = length;
                return true;
            default:
                return false;
        }
    }

    private static bool ContainsWord(ReadOnlySpan<byte> words, ReadOnlySpan<byte> word)
    {
        while (!words.IsEmpty)
        {
            int space = words.IndexOf((byte)' ');
            ReadOnlySpan<byte> current = space < 0 ? words : words[..space];
            if (current.SequenceEqual(word))
            {
                return true;
            }

            words = space < 0 ? default : words[(space + 1)..];
        }

        return false;
    }
}
