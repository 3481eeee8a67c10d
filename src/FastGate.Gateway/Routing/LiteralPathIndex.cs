using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace FastGate.Gateway.Routing;

/// <summary>
/// The routes of all-literal templates ("/api/v1/users/search"), found by one hash of the whole path.
/// </summary>
/// <remarks>
/// A template of only literal segments is the most specific one a path can match (literal beats parameter
/// and catch-all at every segment), so when the whole path is such a template, its node is where the trie walk
/// would end too, and none of the walk's alternatives can win over it. The table tries its routes first; only
/// when none of its routes takes the request's host and method does the walk run (and falls through to less
/// specific routes as usual). Keys come from trusted configuration and the table is at most half full, so a
/// request's path can only choose which existing probe sequence it walks.
/// </remarks>
internal sealed class LiteralPathIndex
{
    private readonly Entry[] _slots;
    private readonly int _mask;

    /// <summary>Bit (length mod 64) is set for every key length (see <see cref="MayContain"/>).</summary>
    private readonly ulong _lengths;

    private LiteralPathIndex(Entry[] slots, ulong lengths)
    {
        _slots = slots;
        _mask = slots.Length - 1;
        _lengths = lengths;
    }

    /// <returns>null when there is no all-literal template</returns>
    public static LiteralPathIndex? Build(IReadOnlyDictionary<string, RouteEntry[]> routesByPath)
    {
        if (routesByPath.Count == 0)
        {
            return null;
        }

        var slots = new Entry[(int)BitOperations.RoundUpToPowerOf2((uint)routesByPath.Count * 2)];
        int mask = slots.Length - 1;
        ulong lengths = 0;
        foreach ((string path, RouteEntry[] routes) in routesByPath)
        {
            byte[] key = System.Text.Encoding.Latin1.GetBytes(path);
            int slot = (int)(Hash(key) & (uint)mask);
            while (slots[slot].Key is not null)
            {
                slot = (slot + 1) & mask;
            }

            slots[slot] = new Entry(key, routes);
            lengths |= 1UL << key.Length;
        }

        return new LiteralPathIndex(slots, lengths);
    }

    /// <summary>
    /// False when no key has this length (mod 64): most paths that are not a literal template are turned away
    /// here, inlined into the caller, without a call to <see cref="Find"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool MayContain(int length) => (_lengths & (1UL << length)) != 0;

    /// <summary>The routes (in priority order) of the all-literal template equal to <paramref name="path"/>, or null.</summary>
    public RouteEntry[]? Find(ReadOnlySpan<byte> path)
    {
        Entry[] slots = _slots;
        int slot = (int)(Hash(path) & (uint)_mask);
        while (true)
        {
            ref readonly Entry entry = ref slots[slot];
            if (entry.Key is null)
            {
                return null;
            }

            if (path.SequenceEqual(entry.Key))
            {
                return entry.Routes;
            }

            slot = (slot + 1) & _mask;
        }
    }

    /// <summary>
    /// Three loads, whatever the length: the first, middle and last 8 bytes (paths of one API share long
    /// prefixes and suffixes, the middle tells "/res1000/search" from "/res2000/search"), each multiplied on its
    /// own so the products are computed side by side; keys that still collide are told apart by the compare.
    /// </summary>
    /// <remarks>Inlined into <see cref="Find"/>: a call of its own cost as much as the hash.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Hash(ReadOnlySpan<byte> path)
    {
        ulong hash = (ulong)path.Length * 0x9E3779B97F4A7C15;
        if (path.Length < sizeof(ulong))
        {
            ulong word = 0;
            for (int i = 0; i < path.Length; i++)
            {
                word |= (ulong)path[i] << (i * 8);
            }

            hash ^= word * 0xBF58476D1CE4E5B9;
        }
        else
        {
            hash ^= (BinaryPrimitives.ReadUInt64LittleEndian(path) * 0xBF58476D1CE4E5B9)
                ^ (BinaryPrimitives.ReadUInt64LittleEndian(path[((path.Length - sizeof(ulong)) / 2)..]) * 0x94D049BB133111EB)
                ^ (BinaryPrimitives.ReadUInt64LittleEndian(path[^sizeof(ulong)..]) * 0xD6E8FEB86659FD93);
        }

        // A multiply carries low bits only upwards (a word's last byte reaches only the top 8 bits): fold the
        // high half down, multiply once more and keep the high half, which every input bit has reached.
        hash = (hash ^ (hash >> 32)) * 0xBF58476D1CE4E5B9;
        return (uint)(hash >> 32);
    }

    private readonly record struct Entry(byte[]? Key, RouteEntry[] Routes);
}
