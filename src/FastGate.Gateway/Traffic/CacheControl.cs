using System.Text;

namespace FastGate.Gateway.Traffic;

/// <summary>
/// The Cache-Control directives the response cache acts on (RFC 9111 section 5.2), merged over every
/// field line with <see cref="Add"/>. Directive names are case-insensitive; a duplicated max-age or
/// s-maxage keeps its first value (section 4.2.1 allows that or "stale"); an invalid delta-seconds counts
/// as 0, i.e. stale (section 4.2.1: "invalid freshness information ... treated as stale"); values above
/// 2^31 are capped (section 1.2.2). The qualified forms <c>private="field"</c> and <c>no-cache="field"</c>
/// are treated as their unqualified forms: not storing is always allowed.
/// </summary>
internal struct CacheControl
{
    public bool NoStore;
    public bool NoCache;
    public bool Private;
    public bool Public;

    /// <summary>max-age in seconds, or -1 when absent.</summary>
    public long MaxAge;

    /// <summary>s-maxage in seconds (shared caches, section 5.2.2.10), or -1 when absent.</summary>
    public long SharedMaxAge;

    public CacheControl()
    {
        MaxAge = -1;
        SharedMaxAge = -1;
    }

    /// <summary>Parses one field line: <c>#cache-directive</c>, directive = token [ "=" ( token / quoted-string ) ].</summary>
    public void Add(ReadOnlySpan<byte> value)
    {
        int position = 0;
        while (position < value.Length)
        {
            // Skip separators and whitespace between list elements (RFC 9110 section 5.6.1).
            byte b = value[position];
            if (b is (byte)',' or (byte)' ' or (byte)'\t')
            {
                position++;
                continue;
            }

            int nameStart = position;
            while (position < value.Length && value[position] is not ((byte)'=' or (byte)',' or (byte)' ' or (byte)'\t'))
            {
                position++;
            }

            ReadOnlySpan<byte> name = value[nameStart..position];
            while (position < value.Length && value[position] is (byte)' ' or (byte)'\t')
            {
                position++;
            }

            ReadOnlySpan<byte> argument = default;
            bool hasArgument = false;
            if (position < value.Length && value[position] == '=')
            {
                hasArgument = true;
                position++;
                if (position < value.Length && value[position] == '"')
                {
                    // quoted-string: runs to the closing quote; a backslash escapes the next byte.
                    int start = ++position;
                    while (position < value.Length && value[position] != '"')
                    {
                        position += value[position] == '\\' ? 2 : 1;
                    }

                    argument = value[start..Math.Min(position, value.Length)];
                    position++;
                }
                else
                {
                    int start = position;
                    while (position < value.Length && value[position] is not ((byte)',' or (byte)' ' or (byte)'\t'))
                    {
                        position++;
                    }

                    argument = value[start..position];
                }
            }

            Apply(name, hasArgument, argument);
        }
    }

    private void Apply(ReadOnlySpan<byte> name, bool hasArgument, ReadOnlySpan<byte> argument)
    {
        if (Ascii.EqualsIgnoreCase(name, "no-store"u8))
        {
            NoStore = true;
        }
        else if (Ascii.EqualsIgnoreCase(name, "no-cache"u8))
        {
            NoCache = true;
        }
        else if (Ascii.EqualsIgnoreCase(name, "private"u8))
        {
            Private = true;
        }
        else if (Ascii.EqualsIgnoreCase(name, "public"u8))
        {
            Public = true;
        }
        else if (Ascii.EqualsIgnoreCase(name, "max-age"u8))
        {
            if (MaxAge < 0)
            {
                MaxAge = ParseDeltaSeconds(hasArgument, argument);
            }
        }
        else if (Ascii.EqualsIgnoreCase(name, "s-maxage"u8) && SharedMaxAge < 0)
        {
            SharedMaxAge = ParseDeltaSeconds(hasArgument, argument);
        }
    }

    /// <summary>delta-seconds = 1*DIGIT (RFC 9111 section 1.2.2); anything else is 0 (stale).</summary>
    internal static long ParseDeltaSeconds(bool hasArgument, ReadOnlySpan<byte> digits)
    {
        const long Cap = 1L << 31;
        if (!hasArgument || digits.IsEmpty)
        {
            return 0;
        }

        long result = 0;
        foreach (byte b in digits)
        {
            uint digit = (uint)(b - '0');
            if (digit > 9)
            {
                return 0;
            }

            result = Math.Min(Cap, (result * 10) + digit);
        }

        return result;
    }
}
