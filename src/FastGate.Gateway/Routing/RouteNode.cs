using System.Numerics;
using System.Text;

namespace FastGate.Gateway.Routing;

/// <summary>A node of the route trie: the routes whose template has consumed the same segments so far.</summary>
internal sealed class RouteNode
{
    /// <summary>
    /// Up to this many literal children are found by a linear scan (length check, then a vectorized compare);
    /// past it, by a hash of the segment bytes, so a node with hundreds of resources stays O(segment length).
    /// </summary>
    internal const int LinearScanLimit = 8;

    // Build-time state, dropped by Freeze so a compiled table holds only the arrays the matcher reads.
    private Dictionary<string, RouteNode>? _buildChildren = new(StringComparer.Ordinal);
    private List<RouteEntry>? _buildTerminal = [];
    private List<RouteEntry>? _buildCatchAll = [];

    private byte[][] _keys = [];
    private RouteNode[] _children = [];
    private int[]? _buckets;

    /// <summary>The <c>{param}</c> child (parameter names do not matter to the shape).</summary>
    public RouteNode? Parameter { get; private set; }

    /// <summary>Routes that end at this node, in priority order.</summary>
    public RouteEntry[] Terminal { get; private set; } = [];

    /// <summary>Routes whose <c>{*catchall}</c> starts at this node, in priority order.</summary>
    public RouteEntry[] CatchAll { get; private set; } = [];

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
        _keys = new byte[_buildChildren.Count][];
        _children = new RouteNode[_buildChildren.Count];
        int i = 0;
        foreach ((string key, RouteNode child) in _buildChildren)
        {
            _keys[i] = Encoding.Latin1.GetBytes(key);
            _children[i] = child;
            child.Freeze(conflicts);
            i++;
        }

        if (_keys.Length > LinearScanLimit)
        {
            _buckets = new int[(int)BitOperations.RoundUpToPowerOf2((uint)_keys.Length * 2)];
            for (int k = 0; k < _keys.Length; k++)
            {
                int mask = _buckets.Length - 1;
                int slot = (int)(Hash(_keys[k]) & (uint)mask);
                while (_buckets[slot] != 0)
                {
                    slot = (slot + 1) & mask;
                }

                _buckets[slot] = k + 1;
            }
        }

        Parameter?.Freeze(conflicts);
        _buildChildren = null;
        _buildTerminal = null;
        _buildCatchAll = null;
    }

    public RouteNode? FindLiteral(ReadOnlySpan<byte> segment)
    {
        byte[][] keys = _keys;
        if (_buckets is not { } buckets)
        {
            for (int i = 0; i < keys.Length; i++)
            {
                byte[] key = keys[i];
                if (key.Length == segment.Length && segment.SequenceEqual(key))
                {
                    return _children[i];
                }
            }

            return null;
        }

        int mask = buckets.Length - 1;
        int slot = (int)(Hash(segment) & (uint)mask);
        while (true)
        {
            int index = buckets[slot] - 1;
            if (index < 0)
            {
                return null;
            }

            if (segment.SequenceEqual(keys[index]))
            {
                return _children[index];
            }

            slot = (slot + 1) & mask;
        }
    }

    private static InvalidOperationException Frozen() => new("the route trie is already built");

    /// <summary>FNV-1a: segments are short, and the table is built from trusted configuration.</summary>
    private static uint Hash(ReadOnlySpan<byte> bytes)
    {
        uint hash = 2166136261;
        foreach (byte b in bytes)
        {
            hash = (hash ^ b) * 16777619;
        }

        return hash;
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
}
