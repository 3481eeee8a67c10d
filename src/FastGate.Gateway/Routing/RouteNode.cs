using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;

namespace FastGate.Gateway.Routing;

/// <summary>A node of the route trie: the routes whose template has consumed the same segments so far.</summary>
internal sealed class RouteNode
{
    /// <summary>
    /// Up to this many literal children are found by a linear scan (length and first 8 bytes compared as two
    /// integers); past it, by a hash of the segment, so a node with hundreds of resources stays O(1).
    /// </summary>
    internal const int LinearScanLimit = 8;

    // Build-time state, dropped by Freeze so a compiled table holds only the arrays the matcher reads.
    private Dictionary<string, RouteNode>? _buildChildren = new(StringComparer.Ordinal);
    private List<RouteEntry>? _buildTerminal = [];
    private List<RouteEntry>? _buildCatchAll = [];

    // Literal children: the key's length and its first 8 bytes as an integer (zero-padded; see SegmentPrefix)
    // side by side, so the scan reads one array. A key of up to 8 bytes is equal to a segment exactly when
    // length and prefix are; only longer keys compare their remaining bytes.
    private LiteralEdge[] _edges = [];

    // Past LinearScanLimit children: the edges again, in an open-addressing table at most half full (an empty
    // slot has no Child), so a probe reads the edge it compares without going through an index array.
    private LiteralEdge[]? _slots;

    // The first literal child again, in the node itself: most nodes have none or one, and then the walk to the
    // next node is one load from this object instead of two through the edge array (the match is a chain of
    // dependent loads, so that is most of its time per segment).
    private ulong _firstPrefix;
    private int _firstLength = -1;
    private byte[] _firstKey = [];
    private RouteNode? _firstChild;

    /// <summary>The <c>{param}</c> child (parameter names do not matter to the shape).</summary>
    public RouteNode? Parameter { get; private set; }

    /// <summary>Routes that end at this node, in priority order.</summary>
    public RouteEntry[] Terminal { get; private set; } = [];

    /// <summary>Routes whose <c>{*catchall}</c> starts at this node, in priority order.</summary>
    public RouteEntry[] CatchAll { get; private set; } = [];

    public bool HasCatchAll { get; private set; }

    public RouteNode GetOrAddLiteral(byte[] literal)
    {
        string key = Encoding.Latin1.GetString(literal);
        Dictionary<string, RouteNode> children = _buildChildren ?? throw Frozen();
        if (!children.TryGetValue(key, out RouteNode? child))
        {
            child = new RouteNode();
            children.Add(key, child);
        }

        return child;
    }

    public RouteNode GetOrAddParameter() => Parameter ??= new RouteNode();

    public void AddTerminal(RouteEntry entry) => (_buildTerminal ?? throw Frozen()).Add(entry);

    public void AddCatchAll(RouteEntry entry) => (_buildCatchAll ?? throw Frozen()).Add(entry);

    /// <summary>Turns the build-time collections into the arrays the matcher reads, and reports conflicts.</summary>
    public void Freeze(List<RouteConflict> conflicts)
    {
        if (_buildChildren is null || _buildTerminal is null || _buildCatchAll is null)
        {
            throw Frozen();
        }

        Terminal = Sorted(_buildTerminal, conflicts);
        CatchAll = Sorted(_buildCatchAll, conflicts);
        HasCatchAll = CatchAll.Length > 0;
        int count = _buildChildren.Count;
        _edges = new LiteralEdge[count];
        int i = 0;
        foreach ((string key, RouteNode child) in _buildChildren)
        {
            byte[] bytes = Encoding.Latin1.GetBytes(key);
            _edges[i] = new LiteralEdge(SegmentPrefix(bytes, 0, bytes.Length), bytes.Length, bytes, child);
            child.Freeze(conflicts);
            i++;
        }

        if (count > 0)
        {
            (_firstPrefix, _firstLength, _firstKey, _firstChild) = _edges[0];
        }

        if (count > LinearScanLimit)
        {
            _slots = new LiteralEdge[(int)BitOperations.RoundUpToPowerOf2((uint)count * 2)];
            int mask = _slots.Length - 1;
            foreach (LiteralEdge edge in _edges)
            {
                int slot = (int)(Hash(edge.Key, 0, edge.Length, edge.Prefix) & (uint)mask);
                while (_slots[slot].Child is not null)
                {
                    slot = (slot + 1) & mask;
                }

                _slots[slot] = edge;
            }
        }

        Parameter?.Freeze(conflicts);
        _buildChildren = null;
        _buildTerminal = null;
        _buildCatchAll = null;
    }

    /// <summary>The literal child for the segment <c>path[start..(start + length)]</c>, or null.</summary>
    /// <param name="prefix">the segment's <see cref="SegmentPrefix"/></param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public RouteNode? FindLiteral(ReadOnlySpan<byte> path, int start, int length, ulong prefix)
    {
        if (_firstPrefix == prefix && _firstLength == length && TailEquals(_firstKey, path, start, length))
        {
            return _firstChild;
        }

        return _edges.Length <= 1 ? null : _slots is null ? FindScanned(path, start, length, prefix) : FindHashed(path, start, length, prefix);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private RouteNode? FindScanned(ReadOnlySpan<byte> path, int start, int length, ulong prefix)
    {
        foreach (ref readonly LiteralEdge edge in _edges.AsSpan())
        {
            if (edge.Prefix == prefix && edge.Length == length && TailEquals(edge.Key, path, start, length))
            {
                return edge.Child;
            }
        }

        return null;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private RouteNode? FindHashed(ReadOnlySpan<byte> path, int start, int length, ulong prefix)
    {
        LiteralEdge[] slots = _slots!;
        int mask = slots.Length - 1;
        int slot = (int)(Hash(path, start, length, prefix) & (uint)mask);
        while (true)
        {
            ref readonly LiteralEdge edge = ref slots[slot];
            if (edge.Child is null)
            {
                return null;
            }

            if (edge.Prefix == prefix && edge.Length == length && TailEquals(edge.Key, path, start, length))
            {
                return edge.Child;
            }

            slot = (slot + 1) & mask;
        }
    }

    /// <summary>
    /// The first min(length, 8) bytes of <c>bytes[start..(start + length)]</c> as a little-endian integer,
    /// zero-padded.
    /// </summary>
    public static ulong SegmentPrefix(ReadOnlySpan<byte> bytes, int start, int length)
    {
        ulong assembled = 0;
        int take = Math.Min(length, sizeof(ulong));
        for (int i = 0; i < take; i++)
        {
            assembled |= (ulong)bytes[start + i] << (i * 8);
        }

        return assembled;
    }

    /// <summary>Bytes past the 8 that the prefix compared.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TailEquals(byte[] key, ReadOnlySpan<byte> path, int start, int length)
        => length <= sizeof(ulong)
            || path.Slice(start + sizeof(ulong), length - sizeof(ulong)).SequenceEqual(new ReadOnlySpan<byte>(key)[sizeof(ulong)..]);

    private static InvalidOperationException Frozen() => new("the route trie is already built");

    /// <summary>
    /// Mixes the length, the prefix and (for longer segments) the last 8 bytes: two loads instead of a loop
    /// over the bytes. The keys come from trusted configuration; a request's segment can only pick which
    /// (at most half-full) probe sequence it walks.
    /// </summary>
    private static uint Hash(ReadOnlySpan<byte> bytes, int start, int length, ulong prefix)
    {
        ulong hash = (prefix * 0xBF58476D1CE4E5B9) ^ ((ulong)length * 0x9E3779B97F4A7C15);
        if (length > sizeof(ulong))
        {
            hash ^= BinaryPrimitives.ReadUInt64LittleEndian(bytes.Slice(start + length - sizeof(ulong))) * 0xD6E8FEB86659FD93;
        }

        // A multiply carries low bits only upwards (a word's last byte reaches only the top 8 bits): fold the
        // high half down, multiply once more and keep the high half, which every input bit has reached.
        hash = (hash ^ (hash >> 32)) * 0x94D049BB133111EB;
        return (uint)(hash >> 32);
    }

    private static RouteEntry[] Sorted(List<RouteEntry> entries, List<RouteConflict> conflicts)
    {
        // Entries of one list have the same path shape: same host pattern and overlapping methods is a conflict.
        for (int i = 0; i < entries.Count; i++)
        {
            for (int j = i + 1; j < entries.Count; j++)
            {
                if (entries[i].SameHostPattern(entries[j]) && entries[i].MethodsOverlap(entries[j]))
                {
                    conflicts.Add(new RouteConflict(entries[i].Route, entries[j].Route));
                }
            }
        }

        RouteEntry[] sorted = [.. entries];
        Array.Sort(sorted, RouteEntry.ComparePriority);
        return sorted;
    }

    private readonly record struct LiteralEdge(ulong Prefix, int Length, byte[] Key, RouteNode? Child);
}
