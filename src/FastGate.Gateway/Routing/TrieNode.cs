namespace FastGate.Gateway.Routing;

/// <summary>
/// A node of the compiled route trie, one element of the table's node array. Children are byte offsets into that
/// array (0, the root's, means none): the step to a child adds the offset to the array's start, where an index
/// would put a multiply by the node's size on the chain of dependent loads that a walk is.
/// </summary>
internal struct TrieNode
{
    /// <summary>
    /// The fast step, for a node whose only way on is its first literal child, of up to 7 bytes: the 8 bytes
    /// from a segment's start, masked with this, equal <see cref="FastSlash"/> (the key, then '/') or, at the
    /// path's end, <see cref="FastEnd"/> (the key, then nothing) exactly when the segment is that key. The
    /// segment's end then needs no search. 0 for other nodes (and the two values 1, which no masked word is).
    /// </summary>
    public ulong FastMask;

    public ulong FastSlash;

    public ulong FastEnd;

    /// <summary>The first literal child's <see cref="TrieEdge.Prefix"/>: most nodes have none or one literal
    /// child, and then the step to the next node needs no read of the edge array.</summary>
    public ulong FirstPrefix;

    /// <summary>The first literal child's length, or -1 when the node has no literal child.</summary>
    public int FirstLength;

    /// <summary>The first literal child's offset.</summary>
    public int FirstChild;

    /// <summary>The first literal child's <see cref="TrieEdge.Tail"/>.</summary>
    public int FirstTail;

    /// <summary>The <c>{param}</c> child's offset, or 0 (parameter names do not matter to the shape).</summary>
    public int Parameter;

    /// <summary>Where the other literal children start in the edge array.</summary>
    public int EdgeStart;

    /// <summary>
    /// 0: no literal child but the first. n &gt; 0: n more edges from <see cref="EdgeStart"/>, scanned. n &lt; 0: all
    /// the literal children in a hash table from <see cref="EdgeStart"/>, and -n is the shift given to
    /// <see cref="TrieEdge.Slot"/> (2^(64 + n) slots). One field, so a node with one literal child is told by
    /// one test.
    /// </summary>
    public int Others;

    public bool HasCatchAll;

    /// <summary>Which kinds of child the node has, so the walk takes the common single-kind nodes by a short path.</summary>
    public TrieNodeWays Ways;

    /// <summary>Routes that end at this node, in priority order.</summary>
    public RouteEntry[] Terminal;

    /// <summary>Routes whose <c>{*catchall}</c> starts at this node, in priority order.</summary>
    public RouteEntry[] CatchAll;
}

/// <summary>The ways on from a <see cref="TrieNode"/> past its path segment.</summary>
internal enum TrieNodeWays : byte
{
    /// <summary>Literal children and a parameter child, or a catch-all with either.</summary>
    Mixed,

    /// <summary>Only literal children.</summary>
    Literals,

    /// <summary>Only a <c>{param}</c> child.</summary>
    Parameter,

    /// <summary>No literal or parameter child: a catch-all or nothing.</summary>
    Rest,
}
