using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using FastGate.Gateway.Model;

namespace FastGate.Gateway.Routing;

/// <summary>The compiled trie over a configuration's routes.</summary>
/// <remarks>
/// Matching walks the trie segment by segment, trying at each node the literal child, then the <c>{param}</c>
/// child, then the <c>{*catchall}</c> routes: the first route found is the most specific by path (templates
/// compared segment by segment, literal &gt; parameter &gt; catch-all). Routes ending at one node are kept in
/// host-then-file order. The walk backtracks only when a branch holds no route for this host and method, so
/// a method filtered out by a more specific route falls through to a less specific one that allows it, and
/// 405 is answered only when some route matched the host and path but none the method.
/// Immutable after <see cref="Build"/>; safe to share across threads.
/// </remarks>
internal sealed class RouteTable
{
    private readonly TrieNode[] _nodes;
    private readonly TrieEdge[] _edges;
    private readonly byte[] _keys;
    private readonly LiteralPathIndex? _literalPaths;

    private RouteTable(TrieNode[] nodes, TrieEdge[] edges, byte[] keys, LiteralPathIndex? literalPaths)
    {
        _nodes = nodes;
        _edges = edges;
        _keys = keys;
        _literalPaths = literalPaths;
    }

    public static RouteTable Build(IReadOnlyList<RouteModel> routes, out IReadOnlyList<RouteConflict> conflicts)
    {
        var root = new RouteNode();
        var literalPaths = new Dictionary<string, RouteNode>(StringComparer.Ordinal);
        var fileIndex = new Dictionary<RouteModel, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < routes.Count; i++)
        {
            RouteModel route = routes[i];
            fileIndex[route] = i;
            var entry = new RouteEntry(route, i);
            RouteNode node = root;
            foreach (TemplateSegment segment in route.Path.Segments)
            {
                switch (segment.Kind)
                {
                    case TemplateSegmentKind.Literal:
                        node = node.GetOrAddLiteral(segment.Literal);
                        break;
                    case TemplateSegmentKind.Parameter:
                        node = node.GetOrAddParameter();
                        break;
                    default:
                        node.AddCatchAll(entry);
                        break;
                }
            }

            if (route.Path.Segments[^1].Kind != TemplateSegmentKind.CatchAll)
            {
                node.AddTerminal(entry);
                if (route.Path.ParameterNames.Count == 0)
                {
                    literalPaths.TryAdd("/" + string.Join('/', route.Path.Segments.Select(segment => Encoding.Latin1.GetString(segment.Literal))), node);
                }
            }
        }

        var found = new List<RouteConflict>();
        root.Freeze(found);
        found.Sort((a, b) =>
        {
            int c = fileIndex[a.First].CompareTo(fileIndex[b.First]);
            return c != 0 ? c : fileIndex[a.Second].CompareTo(fileIndex[b.Second]);
        });
        conflicts = found.AsReadOnly();
        TrieNode[] nodes = RouteNode.Flatten(root, out TrieEdge[] edges, out byte[] keys);
        return new RouteTable(nodes, edges, keys, LiteralPathIndex.Build(literalPaths.ToDictionary(pair => pair.Key, pair => pair.Value.Terminal, StringComparer.Ordinal)));
    }

    /// <param name="host">the Host header (or authority) as received, possibly with a port</param>
    /// <param name="path">the normalized path (no query), see <see cref="PathNormalizer"/></param>
    /// <remarks>Never inlined: the JIT's inlining budget is per compiled method, and inlined into a caller the
    /// walk below used it up, which left even the one-edge lookup of every segment as a call.</remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public RouteMatchStatus Match(ReadOnlySpan<byte> host, ReadOnlySpan<byte> method, ReadOnlySpan<byte> path, ref RouteValues values, out RouteModel? route)
    {
        var visitor = new MatchVisitor(host, method);
        RouteEntry[]? exact = _literalPaths is { } literalPaths && literalPaths.MayContain(path.Length) ? literalPaths.Find(path) : null;
        if ((exact is not null && Visit(exact, ref visitor))
            || (path.Length > 0 && path[0] == (byte)'/' && Search(0, path, 0, 0, ref values, ref visitor)))
        {
            RouteEntry found = visitor.Found!;
            values.SetCount(found.ParameterCount);
            route = found.Route;
            return RouteMatchStatus.Matched;
        }

        values.SetCount(0);
        route = null;
        return visitor.HostMatched ? RouteMatchStatus.MethodNotAllowed : RouteMatchStatus.NotFound;
    }

    /// <summary>
    /// Writes the value of an <c>Allow</c> header (RFC 9110 section 10.2.1) for a request that got
    /// <see cref="RouteMatchStatus.MethodNotAllowed"/>: the distinct methods of the routes matching its host and
    /// path, in priority order, separated by ", ". Returns the bytes written, or -1 when the destination is too small.
    /// </summary>
    public int WriteAllowedMethods(ReadOnlySpan<byte> host, ReadOnlySpan<byte> path, Span<byte> destination)
    {
        var visitor = new AllowVisitor(RouteEntry.HostWithoutPort(host), destination);
        RouteValues scratch = default;
        if (path.Length > 0 && path[0] == (byte)'/')
        {
            Search(0, path, 0, 0, ref scratch, ref visitor);
        }

        return visitor.Overflow ? -1 : visitor.Written;
    }

    /// <param name="offset">the byte offset in the node array of the node to search from</param>
    /// <param name="position">the index of the '/' before the next segment, or path.Length when none is left</param>
    /// <param name="parameterIndex">how many parameters were captured on the way to the node</param>
    /// <returns>true when the visitor stopped the walk</returns>
    /// <remarks>
    /// Recurses only where the walk may have to come back: into the literal child when the node also has a
    /// parameter or catch-all alternative, into the parameter child when a catch-all remains. The last
    /// alternative of a node is taken by looping, so a walk down a plain chain of segments makes no call.
    /// </remarks>
    private bool Search<TVisitor>(int offset, ReadOnlySpan<byte> path, int position, int parameterIndex, ref RouteValues values, ref TVisitor visitor)
        where TVisitor : IRouteVisitor, allows ref struct
    {
        // Node offsets come from the compiled arrays themselves, so they are in bounds.
        ref TrieNode nodes = ref MemoryMarshal.GetArrayDataReference(_nodes);
        while (true)
        {
            ref readonly TrieNode node = ref Unsafe.AddByteOffset(ref nodes, (nuint)(uint)offset);
            if (position == path.Length)
            {
                if (Visit(node.Terminal, ref visitor))
                {
                    return true;
                }

                if (node.HasCatchAll)
                {
                    // A catch-all also matches zero segments: "/files/{*rest}" matches "/files" with rest "".
                    values.Set(parameterIndex, position, 0);
                    return Visit(node.CatchAll, ref visitor);
                }

                return false;
            }

            int start = position + 1;
            if (node.Ways == TrieNodeWays.Rest)
            {
                // No literal or parameter child: only a catch-all can take the rest, so where the segment ends
                // does not matter.
                if (node.HasCatchAll)
                {
                    values.Set(parameterIndex, start, path.Length - start);
                    return Visit(node.CatchAll, ref visitor);
                }

                return false;
            }

            ulong word = SegmentWord(path, start);
            ulong head = word & node.FastMask;
            if (head == node.FastSlash || (head == node.FastEnd && start + node.FirstLength == path.Length))
            {
                offset = node.FirstChild;
                position = start + node.FirstLength;
                continue;
            }

            // Segments are short: the word finds a '/' in it (SWAR zero-byte test on word ^ "////////"; its lowest
            // flagged byte is exact, and the zero bytes past the path's end are never flagged).
            int end;
            ulong x = word ^ 0x2F2F2F2F2F2F2F2FUL;
            ulong slashes = (x - 0x0101010101010101UL) & ~x & 0x8080808080808080UL;
            if (slashes != 0)
            {
                end = start + (BitOperations.TrailingZeroCount(slashes) >> 3);
            }
            else
            {
                end = path.Length - start > sizeof(ulong) ? EndOfSegment(path, start + sizeof(ulong)) : path.Length;
            }

            int length = end - start;
            if (node.Ways == TrieNodeWays.Parameter)
            {
                // Only a parameter child (".../items/{item}"): no literal to look up, nothing to come back to. A
                // parameter is one non-empty segment, so "/users/" does not match "/users/{id}".
                if (length == 0)
                {
                    return false;
                }

                values.Set(parameterIndex, start, length);
                parameterIndex++;
                offset = node.Parameter;
                position = end;
                continue;
            }

            // The segment's first 8 bytes, zero-padded: the word holds them, and past a '/' only the bytes before it.
            ulong prefix = length >= sizeof(ulong) ? word : word & ((1UL << (length * 8)) - 1);
            int literal;
            if (length <= sizeof(ulong))
            {
                // A key of up to 8 bytes is settled by prefix and length: no tail to compare, no call.
                literal = node.Others < 0 ? FindHashed(in node, prefix, length)
                    : node.FirstPrefix == prefix && node.FirstLength == length ? node.FirstChild
                    : node.Others == 0 ? 0
                    : FindScanned(in node, prefix, length);
            }
            else
            {
                literal = node.FirstPrefix == prefix && node.FirstLength == length && TailEquals(path, start, length, node.FirstTail)
                    ? node.FirstChild
                    : node.Others == 0 ? 0 : FindOther(in node, path, start, length, prefix);
            }

            if (node.Ways == TrieNodeWays.Literals)
            {
                // Only literal children: the found one is the only way on.
                if (literal == 0)
                {
                    return false;
                }

                offset = literal;
                position = end;
                continue;
            }

            bool hasCatchAll = node.HasCatchAll;
            int parameter = length > 0 ? node.Parameter : 0;
            if (literal != 0)
            {
                if (parameter == 0 && !hasCatchAll)
                {
                    offset = literal;
                    position = end;
                    continue;
                }

                if (Search(literal, path, end, parameterIndex, ref values, ref visitor))
                {
                    return true;
                }
            }

            if (parameter != 0)
            {
                values.Set(parameterIndex, start, length);
                if (!hasCatchAll)
                {
                    offset = parameter;
                    position = end;
                    parameterIndex++;
                    continue;
                }

                if (Search(parameter, path, end, parameterIndex + 1, ref values, ref visitor))
                {
                    return true;
                }
            }

            if (hasCatchAll)
            {
                values.Set(parameterIndex, start, path.Length - start);
                return Visit(node.CatchAll, ref visitor);
            }

            return false;
        }
    }

    /// <summary>The literal child past a node's first one for the segment <c>path[start..(start + length)]</c>, or 0: the
    /// walk calls it for segments longer than 8 bytes, which compare a tail too (shorter ones are found in line).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private int FindOther(in TrieNode node, ReadOnlySpan<byte> path, int start, int length, ulong prefix)
    {
        if (node.Others > 0)
        {
            foreach (ref readonly TrieEdge edge in _edges.AsSpan(node.EdgeStart, node.Others))
            {
                if (edge.Prefix == prefix && edge.Length == length && TailEquals(path, start, length, edge.Tail))
                {
                    return edge.Child;
                }
            }

            return 0;
        }

        int shift = -node.Others;
        Span<TrieEdge> slots = _edges.AsSpan(node.EdgeStart, 1 << (64 - shift));
        int mask = slots.Length - 1;
        int slot = TrieEdge.Slot(path, start, length, prefix, shift);
        while (true)
        {
            ref readonly TrieEdge edge = ref slots[slot];
            if (edge.Child == 0)
            {
                return 0;
            }

            if (edge.Prefix == prefix && edge.Length == length && TailEquals(path, start, length, edge.Tail))
            {
                return edge.Child;
            }

            slot = (slot + 1) & mask;
        }
    }

    /// <summary>The literal child of a hashed node (<see cref="TrieNode.Others"/> &lt; 0) for a segment of up to 8 bytes, or 0.</summary>
    /// <remarks>
    /// Probed in the walk, not in a call. The table holds all the node's literal children (the first one too, so
    /// that is not compared first) and is at most half full, so the loop ends at a match or an empty slot. The
    /// slots lie inside the edge array and the slot index is masked to the table's size (both set by
    /// <see cref="RouteNode.Flatten"/>), so the reads need no bounds check whatever the segment is.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int FindHashed(in TrieNode node, ulong prefix, int length)
    {
        int shift = -node.Others;
        int mask = (1 << (64 - shift)) - 1;
        ref TrieEdge slots = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_edges), (nuint)(uint)node.EdgeStart);
        int slot = TrieEdge.Slot(prefix, shift);
        while (true)
        {
            ref readonly TrieEdge edge = ref Unsafe.Add(ref slots, (nuint)(uint)slot);
            if (edge.Child == 0 || (edge.Prefix == prefix && edge.Length == length))
            {
                return edge.Child;
            }

            slot = (slot + 1) & mask;
        }
    }

    /// <summary>The literal child past a node's first one, of a node with a few (<see cref="TrieNode.Others"/> &gt; 0),
    /// for a segment of up to 8 bytes, or 0.</summary>
    /// <remarks>In the walk, not in a call; the edges lie inside the edge array (set by <see cref="RouteNode.Flatten"/>).</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int FindScanned(in TrieNode node, ulong prefix, int length)
    {
        ref TrieEdge edge = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_edges), (nuint)(uint)node.EdgeStart);
        for (int i = node.Others; i > 0; i--)
        {
            if (edge.Prefix == prefix && edge.Length == length)
            {
                return edge.Child;
            }

            edge = ref Unsafe.Add(ref edge, 1);
        }

        return 0;
    }

    /// <summary>Bytes past the 8 that the prefix compared, against the key's in the blob from <paramref name="tail"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TailEquals(ReadOnlySpan<byte> path, int start, int length, int tail)
        => length <= sizeof(ulong)
            || path.Slice(start + sizeof(ulong), length - sizeof(ulong)).SequenceEqual(_keys.AsSpan(tail, length - sizeof(ulong)));

    /// <summary>
    /// The 8 bytes of <paramref name="path"/> from <paramref name="start"/> as a little-endian integer, zero
    /// past the path's end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong SegmentWord(ReadOnlySpan<byte> path, int start)
    {
        int remaining = path.Length - start;
        if (path.Length < sizeof(ulong) || remaining == 0)
        {
            return TrieEdge.SegmentPrefix(path, start, remaining);
        }

        // One 8-byte load; near the end of the path it takes the path's last 8 bytes and shifts the ones before
        // start out. Both loads are in bounds by the check above (path.Length >= 8), so they skip the span's.
        ref byte first = ref MemoryMarshal.GetReference(path);
        return remaining >= sizeof(ulong)
            ? Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref first, start))
            : Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref first, path.Length - sizeof(ulong))) >> ((sizeof(ulong) - remaining) * 8);
    }

    private static int EndOfSegment(ReadOnlySpan<byte> path, int from)
    {
        int end = from;
        while ((uint)end < (uint)path.Length && path[end] != (byte)'/')
        {
            end++;
        }

        return end;
    }

    /// <remarks>Inlined: most walks end by visiting one route that takes all (<see cref="MatchVisitor.Visit"/>), which
    /// is then a load and a test instead of a call.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Visit<TVisitor>(RouteEntry[] entries, ref TVisitor visitor)
        where TVisitor : IRouteVisitor, allows ref struct
    {
        foreach (RouteEntry entry in entries)
        {
            if (visitor.Visit(entry))
            {
                return true;
            }
        }

        return false;
    }

    private interface IRouteVisitor
    {
        /// <returns>true to stop the walk</returns>
        bool Visit(RouteEntry entry);
    }

    /// <param name="host">as received: the port is stripped only when a route with a host pattern is reached,
    /// so tables without host patterns never pay for it</param>
    private ref struct MatchVisitor(ReadOnlySpan<byte> host, ReadOnlySpan<byte> method) : IRouteVisitor
    {
        private readonly ReadOnlySpan<byte> _method = method;
        private ReadOnlySpan<byte> _host = host;
        private bool _hostStripped;
        private bool _methodRead;
        private ulong _methodWord;

        public RouteEntry? Found { get; private set; }

        public bool HostMatched { get; private set; }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool Visit(RouteEntry entry)
        {
            if (entry.TakesAll)
            {
                HostMatched = true;
                Found = entry;
                return true;
            }

            return VisitFiltered(entry);
        }

        /// <summary>A route with a host pattern or a method list: kept out of line, so the common case above stays small.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private bool VisitFiltered(RouteEntry entry)
        {
            if (entry.HostKind != HostPatternKind.Any)
            {
                if (!_hostStripped)
                {
                    _host = RouteEntry.HostWithoutPort(_host);
                    _hostStripped = true;
                }

                if (!entry.MatchesHost(_host))
                {
                    return false;
                }
            }

            HostMatched = true;
            if (!_methodRead)
            {
                // Read once, when the first route with a method list is reached: tables whose routes take any
                // method never pay for it.
                _methodWord = ByteWord.Load(_method);
                _methodRead = true;
            }

            if (!entry.AllowsMethod(_method, _methodWord))
            {
                return false;
            }

            Found = entry;
            return true;
        }
    }

    private ref struct AllowVisitor(ReadOnlySpan<byte> host, Span<byte> destination) : IRouteVisitor
    {
        private readonly ReadOnlySpan<byte> _host = host;
        private readonly Span<byte> _destination = destination;

        public int Written { get; private set; }

        public bool Overflow { get; private set; }

        public bool Visit(RouteEntry entry)
        {
            if (!entry.MatchesHost(_host))
            {
                return false;
            }

            foreach (byte[] method in entry.Methods)
            {
                if (!Contains(method))
                {
                    Append(method);
                }
            }

            return Overflow;
        }

        private readonly bool Contains(ReadOnlySpan<byte> method)
        {
            ReadOnlySpan<byte> written = _destination[..Written];
            while (!written.IsEmpty)
            {
                int comma = written.IndexOf(", "u8);
                ReadOnlySpan<byte> token = comma < 0 ? written : written[..comma];
                if (token.SequenceEqual(method))
                {
                    return true;
                }

                written = comma < 0 ? [] : written[(comma + 2)..];
            }

            return false;
        }

        private void Append(ReadOnlySpan<byte> method)
        {
            int separator = Written == 0 ? 0 : 2;
            if (Overflow || Written + separator + method.Length > _destination.Length)
            {
                Overflow = true;
                return;
            }

            if (separator > 0)
            {
                ", "u8.CopyTo(_destination[Written..]);
            }

            method.CopyTo(_destination[(Written + separator)..]);
            Written += separator + method.Length;
        }
    }
}
