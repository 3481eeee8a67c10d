using System.Text;

namespace FastGate.Protocols.Hpack;

/// <summary>
/// The static table (RFC 7541 appendix A): indices 1 to 61 of the index address space (section 2.3.3).
/// </summary>
internal static class HpackStaticTable
{
    public const int Count = 61;

    /// <summary>Longest static name: "access-control-allow-origin".</summary>
    private const int MaxNameLength = 27;

    private static readonly byte[][] s_names = new byte[Count + 1][];
    private static readonly byte[][] s_values = new byte[Count + 1][];

    /// <summary>Indices of the entries with each name length, for the encoder's lookups.</summary>
    private static readonly int[][] s_byNameLength = new int[MaxNameLength + 1][];

    static HpackStaticTable()
    {
        (string Name, string Value)[] entries =
        [
            (":authority", ""), (":method", "GET"), (":method", "POST"), (":path", "/"), (":path", "/index.html"),
            (":scheme", "http"), (":scheme", "https"), (":status", "200"), (":status", "204"), (":status", "206"),
            (":status", "304"), (":status", "400"), (":status", "404"), (":status", "500"), ("accept-charset", ""),
            ("accept-encoding", "gzip, deflate"), ("accept-language", ""), ("accept-ranges", ""), ("accept", ""),
            ("access-control-allow-origin", ""), ("age", ""), ("allow", ""), ("authorization", ""),
            ("cache-control", ""), ("content-disposition", ""), ("content-encoding", ""), ("content-language", ""),
            ("content-length", ""), ("content-location", ""), ("content-range", ""), ("content-type", ""),
            ("cookie", ""), ("date", ""), ("etag", ""), ("expect", ""), ("expires", ""), ("from", ""), ("host", ""),
            ("if-match", ""), ("if-modified-since", ""), ("if-none-match", ""), ("if-range", ""),
            ("if-unmodified-since", ""), ("last-modified", ""), ("link", ""), ("location", ""), ("max-forwards", ""),
            ("proxy-authenticate", ""), ("proxy-authorization", ""), ("range", ""), ("referer", ""), ("refresh", ""),
            ("retry-after", ""), ("server", ""), ("set-cookie", ""), ("strict-transport-security", ""),
            ("transfer-encoding", ""), ("user-agent", ""), ("vary", ""), ("via", ""), ("www-authenticate", ""),
        ];

        s_names[0] = [];
        s_values[0] = [];
        var byLength = new List<int>[MaxNameLength + 1];
        for (int i = 0; i < entries.Length; i++)
        {
            byte[] name = Encoding.ASCII.GetBytes(entries[i].Name);
            s_names[i + 1] = name;
            s_values[i + 1] = Encoding.ASCII.GetBytes(entries[i].Value);
            (byLength[name.Length] ??= []).Add(i + 1);
        }

        for (int length = 0; length <= MaxNameLength; length++)
        {
            s_byNameLength[length] = byLength[length] is { } list ? [.. list] : [];
        }
    }

    /// <param name="index">1 to <see cref="Count"/></param>
    public static ReadOnlySpan<byte> Name(int index) => s_names[index];

    /// <param name="index">1 to <see cref="Count"/></param>
    public static ReadOnlySpan<byte> Value(int index) => s_values[index];

    /// <summary>
    /// Finds an entry for the field: returns its index with <paramref name="valueMatches"/> true when
    /// name and value both match, else the first index with the name, else 0.
    /// </summary>
    public static int Find(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, out bool valueMatches)
    {
        valueMatches = false;
        if (name.Length > MaxNameLength)
        {
            return 0;
        }

        int nameIndex = 0;
        foreach (int index in s_byNameLength[name.Length])
        {
            if (!name.SequenceEqual(s_names[index]))
            {
                continue;
            }

            if (value.SequenceEqual(s_values[index]))
            {
                valueMatches = true;
                return index;
            }

            if (nameIndex == 0)
            {
                nameIndex = index;
            }
        }

        return nameIndex;
    }
}
