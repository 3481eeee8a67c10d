using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;

namespace FastGate.Gateway.Routing;

/// <summary>
/// A node of the route trie while it is built: the routes whose template has consumed the same segments so far.
/// <see cref="Flatten"/> turns the finished tree into the <see cref="TrieNode"/> and <see cref="TrieEdge"/> arrays
/// the matcher reads.
/// </summary>
internal sealed class RouteNode
{
    /// <summary>
    /// Up to this many literal children are found by a linear scan (length and first 8 bytes compared as two
    /// integers); past it, by a hash of the segment, so a node with hundreds of resources stays O(1).
    /// </summary>
    internal const int LinearScanLimit = 8;

    private readonly Dictionary<string, RouteNode> _children = new(StringComparer.Ordinal);
    private readonly List<RouteEntry> _buildTerminal = [];
    private readonly List<RouteEntry> _buildCatchAll = [];
    private RouteNode? _parameter;

    /// <summary>Routes that end at this node, in priority order (set by <see cref="Freeze"/>).</summary>
    public RouteEntry[] Terminal { get; private set; } = [];

    /// <summary>Routes whose <c>{*catchall}</c> starts at this node, in priority order (set by <see cref="Freeze"/>).</summary>
    public RouteEntry[] CatchAll { get; private set; } = [];

    public RouteNode GetOrAddLiteral(byte[] literal)
    {
        string key = Encoding.Latin1.GetString(literal);
        if (!_children.TryGetValue(key, out RouteNode? child))
        {
            child = new RouteNode();
            _children.Add(key, child);
        }

        return child;
    }

    public RouteNode GetOrAddParameter() => _parameter ??= new RouteNode();

    public void AddTerminal(RouteEntry entry) => _buildTerminal.Add(entry);

    public void AddCatchAll(RouteEntry entry) => _buildCatchAll.Add(entry);

    /// <summary>Sorts the routes of this node and of every node below it, and reports conflicts.</summary>
    public void Freeze(List<RouteConflict> conflicts)
    {
        Terminal = Sorted(_buildTerminal, conflicts);
        CatchAll = Sorted(_buildCatchAll, conflicts);
        foreach (RouteNode child in _children.Values)
        {
            child.Freeze(conflicts);
        }

        _parameter?.Freeze(conflicts);
    }

    /// <summary>
    /// Lays the frozen tree out as arrays: nodes in depth-first order (a node's first literal child right after
    /// it, so a walk down a chain reads neighbouring memory), the root first, at offset 0, which is never a
    /// child, so 0 means "no child" in <see cref="TrieNode"/> and <see cref="TrieEdge"/>.
    /// </summary>
    /// <param name="keys">the bytes past the 8th of literal keys longer than 8, one after another</param>
    public static TrieNode[] Flatten(RouteNode root, out TrieEdge[] edges, out byte[] keys)
    {
        var nodes = new List<TrieNode>();
        var edgeList = new List<TrieEdge>();
        var keyBytes = new List<byte>();
        root.FlattenInto(nodes, edgeList, keyBytes);
        edges = [.. edgeList];
        keys = [.. keyBytes];
        return [.. nodes];
    }

    /// <returns>this node's byte offset in the node array (see <see cref="TrieNode"/>)</returns>
    private int FlattenInto(List<TrieNode> nodes, List<TrieEdge> edges, List<byte> keys)
    {
        int index = nodes.Count;
        nodes.Add(default);
        var children = new TrieEdge[_children.Count];
        var childKeys = new byte[_children.Count][];
        int i = 0;
        foreach ((string key, RouteNode child) in _children)
        {
            byte[] bytes = Encoding.Latin1.GetBytes(key);
            childKeys[i] = bytes;
            int tail = keys.Count;
            if (bytes.Length > sizeof(ulong))
            {
                keys.AddRange(bytes.AsSpan(sizeof(ulong)).ToArray());
            }

            int childOffset = child.FlattenInto(nodes, edges, keys);
            children[i++] = new TrieEdge(TrieEdge.SegmentPrefix(bytes, 0, bytes.Length), bytes.Length, childOffset, tail);
        }

        int parameter = _parameter?.FlattenInto(nodes, edges, keys) ?? 0;
        var node = new TrieNode
        {
            FirstLength = -1,
            FastSlash = 1,
            FastEnd = 1,
            Parameter = parameter,
            HasCatchAll = CatchAll.Length > 0,
            Ways = (_children.Count > 0, parameter != 0, CatchAll.Length > 0) switch
            {
                (true, false, false) => TrieNodeWays.Literals,
                (false, true, false) => TrieNodeWays.Parameter,
                (false, false, _) => TrieNodeWays.Rest,
                _ => TrieNodeWays.Mixed,
            },
            Terminal = Terminal,
            CatchAll = CatchAll,
            EdgeStart = edges.Count,
        };

        if (children.Length > 0)
        {
            TrieEdge first = children[0];
            node.FirstPrefix = first.Prefix;
            node.FirstLength = first.Length;
            node.FirstChild = first.Child;
            node.FirstTail = first.Tail;
            if (first.Length < sizeof(ulong) && parameter == 0 && CatchAll.Length == 0)
            {
                int bits = first.Length * 8;
                node.FastMask = (1UL << (bits + 8)) - 1;
                node.FastSlash = first.Prefix | ((ulong)'/' << bits);
                node.FastEnd = first.Prefix;
            }
        }

        if (children.Length > LinearScanLimit)
        {
            // An open-addressing table at most half full; an empty slot has no Child. It holds the first child
            // too: the lookup that reaches it has already compared that one, and the table stays one kind.
            int size = (int)BitOperations.RoundUpToPowerOf2((uint)children.Length * 2);
            int shift = 64 - BitOperations.Log2((uint)size);
            var slots = new TrieEdge[size];
            for (int c = 0; c < children.Length; c++)
            {
                TrieEdge edge = children[c];
                int slot = TrieEdge.Slot(childKeys[c], 0, edge.Length, edge.Prefix, shift);
                while (slots[slot].Child != 0)
                {
                    slot = (slot + 1) & (size - 1);
                }

                slots[slot] = edge;
            }

            edges.AddRange(slots);
            node.Others = -shift;
        }
        else if (children.Length > 1)
        {
            edges.AddRange(children.AsSpan(1).ToArray());
            node.Others = children.Length - 1;
        }

        nodes[index] = node;
        return index * Unsafe.SizeOf<TrieNode>();
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
