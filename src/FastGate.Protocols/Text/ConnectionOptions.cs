namespace FastGate.Protocols.Text;

/// <summary>What a Connection field lists (RFC 9110 section 7.6.1).</summary>
[Flags]
internal enum ConnectionOptions : byte
{
    None = 0,
    Close = 1,
    KeepAlive = 2,
    Upgrade = 4,
    /// <summary>Any other token: the name of a field that is hop-by-hop for this message.</summary>
    OtherNames = 8,
}

internal static class ConnectionOptionsParser
{
    /// <summary>Walks the comma-separated list once; empty elements are skipped (RFC 9110 section 5.6.1).</summary>
    public static ConnectionOptions Parse(ReadOnlySpan<byte> value)
    {
        var options = ConnectionOptions.None;
        while (!value.IsEmpty)
        {
            int comma = value.IndexOf((byte)',');
            var token = Ascii8.TrimOws(comma < 0 ? value : value[..comma]);
            value = comma < 0 ? default : value[(comma + 1)..];
            if (token.IsEmpty)
            {
                continue;
            }

            options |= Ascii8.EqualsIgnoreCase(token, "close"u8) ? ConnectionOptions.Close
                : Ascii8.EqualsIgnoreCase(token, "keep-alive"u8) ? ConnectionOptions.KeepAlive
                : Ascii8.EqualsIgnoreCase(token, "upgrade"u8) ? ConnectionOptions.Upgrade
                : ConnectionOptions.OtherNames;
        }

        return options;
    }
}
