namespace FastGate.Protocols.Text;

/// <summary>Field names the gateway acts on; everything else is <see cref="Unknown"/> and passes through.</summary>
internal enum KnownHeader : byte
{
    Unknown,
    Host,
    ContentLength,
    TransferEncoding,
    Connection,
    KeepAlive,
    ProxyConnection,
    TE,
    Trailer,
    Upgrade,
    Expect,
    XForwardedFor,
    XForwardedProto,
    XForwardedHost,
    XRequestId,
    Traceparent,
    ContentType,
    Date,
    Server,
    Via,
    ProxyAuthorization,
    ProxyAuthenticate,
    Authorization,
    Cookie,
}

/// <summary>Classifies field names without allocating: a switch on the length, then one comparison.</summary>
internal static class KnownHeaders
{
    /// <summary>Case-insensitive (field names are, RFC 9110 section 5.1).</summary>
    public static KnownHeader Classify(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty)
        {
            return KnownHeader.Unknown;
        }

        // Lower-cased first letter picks the candidate among names of equal length.
        int first = name[0] | 0x20;
        return name.Length switch
        {
            2 => Match(name, "te"u8, KnownHeader.TE),
            3 => Match(name, "via"u8, KnownHeader.Via),
            4 => first == 'h' ? Match(name, "host"u8, KnownHeader.Host) : Match(name, "date"u8, KnownHeader.Date),
            6 => first switch
            {
                'c' => Match(name, "cookie"u8, KnownHeader.Cookie),
                'e' => Match(name, "expect"u8, KnownHeader.Expect),
                _ => Match(name, "server"u8, KnownHeader.Server),
            },
            7 => first == 't' ? Match(name, "trailer"u8, KnownHeader.Trailer) : Match(name, "upgrade"u8, KnownHeader.Upgrade),
            10 => first == 'c' ? Match(name, "connection"u8, KnownHeader.Connection) : Match(name, "keep-alive"u8, KnownHeader.KeepAlive),
            11 => Match(name, "traceparent"u8, KnownHeader.Traceparent),
            12 => first == 'x' ? Match(name, "x-request-id"u8, KnownHeader.XRequestId) : Match(name, "content-type"u8, KnownHeader.ContentType),
            13 => Match(name, "authorization"u8, KnownHeader.Authorization),
            14 => Match(name, "content-length"u8, KnownHeader.ContentLength),
            15 => Match(name, "x-forwarded-for"u8, KnownHeader.XForwardedFor),
            16 => first == 'x' ? Match(name, "x-forwarded-host"u8, KnownHeader.XForwardedHost) : Match(name, "proxy-connection"u8, KnownHeader.ProxyConnection),
            17 => first == 'x' ? Match(name, "x-forwarded-proto"u8, KnownHeader.XForwardedProto) : Match(name, "transfer-encoding"u8, KnownHeader.TransferEncoding),
            18 => Match(name, "proxy-authenticate"u8, KnownHeader.ProxyAuthenticate),
            19 => Match(name, "proxy-authorization"u8, KnownHeader.ProxyAuthorization),
            _ => KnownHeader.Unknown,
        };
    }

    /// <summary>
    /// Connection-specific fields a proxy never forwards (RFC 9110 sections 7.6.1 and 7.8, RFC 9112
    /// section 7; Keep-Alive and Proxy-Connection are the legacy ones). Names listed in Connection are
    /// hop-by-hop too; the caller checks those with <see cref="Ascii8.TokenListContains"/>.
    /// </summary>
    public static bool IsHopByHop(KnownHeader header) => header is KnownHeader.Connection
        or KnownHeader.KeepAlive
        or KnownHeader.ProxyConnection
        or KnownHeader.TE
        or KnownHeader.Trailer
        or KnownHeader.TransferEncoding
        or KnownHeader.Upgrade;

    private static KnownHeader Match(ReadOnlySpan<byte> name, ReadOnlySpan<byte> lowerCase, KnownHeader header)
        => Ascii8.EqualsIgnoreCase(name, lowerCase) ? header : KnownHeader.Unknown;
}
