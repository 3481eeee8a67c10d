using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FastGate.Gateway.Security;

/// <summary>An <c>[ip_filters.NAME]</c>: the deny list wins; a non-empty allow list must match.</summary>
internal sealed class IpFilter
{
    public IpFilter(IpRangeSet allow, IpRangeSet deny)
    {
        Allow = allow;
        Deny = deny;
    }

    public IpRangeSet Allow { get; }

    public IpRangeSet Deny { get; }

    /// <summary>Parses both lists; false with every error (one per bad entry) when any entry is invalid.</summary>
    public static bool TryCreate(IReadOnlyList<string> allow, IReadOnlyList<string> deny, out IpFilter? filter, out List<string> errors)
    {
        errors = [];
        bool allowOk = IpRangeSet.TryCreate(allow, out IpRangeSet allowSet, errors);
        bool denyOk = IpRangeSet.TryCreate(deny, out IpRangeSet denySet, errors);
        filter = allowOk && denyOk ? new IpFilter(allowSet, denySet) : null;
        return filter is not null;
    }

    /// <summary>The client address as 4 (IPv4) or 16 (IPv6) network-order bytes; any other length is denied.</summary>
    public bool IsAllowed(ReadOnlySpan<byte> addressBytes)
    {
        if (addressBytes.Length is not (4 or 16) || Deny.Contains(addressBytes))
        {
            return false;
        }

        return Allow.IsEmpty || Allow.Contains(addressBytes);
    }

    public bool IsAllowed(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        return address.TryWriteBytes(bytes, out int written) && IsAllowed(bytes[..written]);
    }
}

/// <summary>A set of CIDR blocks, compiled to sorted, merged, disjoint ranges per address family and matched by
/// binary search: O(log n) and no allocation for any list size.</summary>
/// <remarks>IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, RFC 4291 section 2.5.5.2) are matched as the IPv4 address
/// they carry, both in the lists and for the client: a dual-stack socket reports IPv4 clients that way. An IPv6
/// block that covers part of ::ffff:0:0/96 (e.g. ::/0) therefore also covers those IPv4 addresses.</remarks>
internal sealed class IpRangeSet
{
    private static readonly UInt128 s_mappedStart = new(0, 0x0000_FFFF_0000_0000UL);
    private static readonly UInt128 s_mappedEnd = new(0, 0x0000_FFFF_FFFF_FFFFUL);

    private readonly uint[] _v4Starts;
    private readonly uint[] _v4Ends;
    private readonly UInt128[] _v6Starts;
    private readonly UInt128[] _v6Ends;

    private IpRangeSet(List<(uint Start, uint End)> v4, List<(UInt128 Start, UInt128 End)> v6)
    {
        v4 = Merge(v4, static (a, b) => a == uint.MaxValue || b <= a + 1);
        v6 = Merge(v6, static (a, b) => a == UInt128.MaxValue || b <= a + 1);
        _v4Starts = [.. v4.Select(r => r.Start)];
        _v4Ends = [.. v4.Select(r => r.End)];
        _v6Starts = [.. v6.Select(r => r.Start)];
        _v6Ends = [.. v6.Select(r => r.End)];
    }

    public static IpRangeSet Empty { get; } = new([], []);

    public bool IsEmpty => _v4Starts.Length == 0 && _v6Starts.Length == 0;

    /// <summary>Parses "addr/len" or a bare address (a single host); errors name the entry and the fix.</summary>
    public static bool TryCreate(IReadOnlyList<string> cidrs, out IpRangeSet set, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(cidrs);
        ArgumentNullException.ThrowIfNull(errors);
        var v4 = new List<(uint, uint)>();
        var v6 = new List<(UInt128, UInt128)>();
        int before = errors.Count;
        foreach (string cidr in cidrs)
        {
            if (TryParse(cidr, out IPAddress? address, out int prefix, out string? error))
            {
                Add(address!, prefix, v4, v6);
            }
            else
            {
                errors.Add(error!);
            }
        }

        set = new IpRangeSet(v4, v6);
        return errors.Count == before;
    }

    public bool Contains(ReadOnlySpan<byte> address)
    {
        if (address.Length == 4)
        {
            return ContainsV4(BinaryPrimitives.ReadUInt32BigEndian(address));
        }

        if (address.Length != 16)
        {
            return false;
        }

        UInt128 value = BinaryPrimitives.ReadUInt128BigEndian(address);
        if (value >= s_mappedStart && value <= s_mappedEnd)
        {
            return ContainsV4((uint)value);
        }

        int index = UpperBound(_v6Starts, value);
        return index >= 0 && value <= _v6Ends[index];
    }

    private bool ContainsV4(uint value)
    {
        int index = UpperBound(_v4Starts, value);
        return index >= 0 && value <= _v4Ends[index];
    }

    /// <summary>The index of the last start at or below <paramref name="value"/>, or -1.</summary>
    private static int UpperBound<T>(T[] starts, T value) where T : IComparable<T>
    {
        int low = 0;
        int high = starts.Length - 1;
        int found = -1;
        while (low <= high)
        {
            int middle = low + ((high - low) >> 1);
            if (starts[middle].CompareTo(value) <= 0)
            {
                found = middle;
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return found;
    }

    private static bool TryParse(string text, out IPAddress? address, out int prefix, out string? error)
    {
        error = null;
        prefix = -1;
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        string addressText = slash < 0 ? text : text[..slash];
        if (!IPAddress.TryParse(addressText, out address) || addressText.Contains('%', StringComparison.Ordinal))
        {
            error = $"'{text}' is not an IP address or CIDR block (e.g. \"10.0.0.0/8\" or \"2001:db8::/32\")";
            return false;
        }

        int bits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        if (slash < 0)
        {
            prefix = bits;
            return true;
        }

        if (!int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > bits)
        {
            error = $"'{text}' has an invalid prefix length (0 to {bits})";
            return false;
        }

        // Host bits set usually mean a typo ("10.0.0.1/8" for "10.0.0.0/8"): refuse instead of guessing.
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int length);
        UInt128 value = length == 4 ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : BinaryPrimitives.ReadUInt128BigEndian(bytes);
        UInt128 hostMask = prefix == bits ? UInt128.Zero : (UInt128.One << (bits - prefix)) - 1;
        if ((value & hostMask) != 0)
        {
            error = $"'{text}' has host bits set; did you mean '{Network(value, hostMask, length)}/{prefix}'?";
            return false;
        }

        return true;
    }

    private static string Network(UInt128 value, UInt128 hostMask, int length)
    {
        Span<byte> bytes = stackalloc byte[16];
        UInt128 network = value & ~hostMask;
        if (length == 4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)network);
        }
        else
        {
            BinaryPrimitives.WriteUInt128BigEndian(bytes, network);
        }

        return new IPAddress(bytes[..length]).ToString();
    }

    private static void Add(IPAddress address, int prefix, List<(uint, uint)> v4, List<(UInt128, UInt128)> v6)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int length);
        if (length == 4)
        {
            uint start = BinaryPrimitives.ReadUInt32BigEndian(bytes);
            uint hostMask = prefix == 0 ? uint.MaxValue : (uint)((1UL << (32 - prefix)) - 1);
            v4.Add((start, start | hostMask));
            return;
        }

        UInt128 first = BinaryPrimitives.ReadUInt128BigEndian(bytes);
        UInt128 last = first | (prefix == 0 ? UInt128.MaxValue : (UInt128.One << (128 - prefix)) - 1);

        // The part inside ::ffff:0:0/96 is IPv4 space (see the remarks); the rest stays IPv6.
        UInt128 mappedFirst = first > s_mappedStart ? first : s_mappedStart;
        UInt128 mappedLast = last < s_mappedEnd ? last : s_mappedEnd;
        if (mappedFirst <= mappedLast)
        {
            v4.Add(((uint)mappedFirst, (uint)mappedLast));
        }

        v6.Add((first, last));
    }

    /// <summary>Sorts by start and joins overlapping or adjacent ranges, so the starts are strictly increasing
    /// and a binary search finds the only range that can hold an address.</summary>
    private static List<(T Start, T End)> Merge<T>(List<(T Start, T End)> ranges, Func<T, T, bool> joins) where T : IComparable<T>
    {
        ranges.Sort((a, b) => a.Start.CompareTo(b.Start));
        var merged = new List<(T Start, T End)>();
        foreach ((T start, T end) in ranges)
        {
            if (merged.Count > 0 && joins(merged[^1].End, start))
            {
                if (end.CompareTo(merged[^1].End) > 0)
                {
                    merged[^1] = (merged[^1].Start, end);
                }
            }
            else
            {
                merged.Add((start, end));
            }
        }

        return merged;
    }
}
