namespace FastGate.Gateway.Routing;

/// <summary>Makes a raw origin-form path safe to match and forward.</summary>
/// <remarks>
/// Routes are matched on the normalized path and the normalized path is what goes upstream, so no upstream can
/// read a "..", a "%2E%2E" or an encoded slash differently from the router and escape a route's prefix:
/// <list type="number">
/// <item>Percent-encoded unreserved characters are decoded and the hex of every other percent-encoding is
/// upper-cased (RFC 3986 sections 2.3, 6.2.2.1, 6.2.2.2). "%2F" and "%5C" stay encoded, so they are never
/// separators: "/api/a%2F..%2Fadmin" is one segment. Invalid encodings and "%00" are rejected.</item>
/// <item>Dot segments, literal or decoded from "%2E", are removed (RFC 3986 section 5.2.4); a ".." above the
/// root is rejected instead of being clamped, since such a path is an attack, not a mistake.</item>
/// </list>
/// A raw NUL or backslash is rejected too: neither is valid in a URI path, and some upstreams treat '\' as '/'.
/// Empty segments ("//") are kept as they are: they are distinct paths to RFC 3986 and to many upstreams.
/// The output is never longer than the input.
/// </remarks>
internal static class PathNormalizer
{
    /// <summary>False when the path is invalid or escapes the root (400).</summary>
    /// <param name="destination">at least <paramref name="rawPath"/>.Length bytes: either the input's own memory
    /// (normalizing in place is safe, the output never overtakes the input) or memory apart from it</param>
    public static bool TryNormalize(ReadOnlySpan<byte> rawPath, Span<byte> destination, out int written)
    {
        written = 0;
        if (rawPath.IsEmpty || rawPath[0] != (byte)'/' || destination.Length < rawPath.Length)
        {
            return false;
        }

        // Fast path: nothing to decode and no segment that starts with '.', so nothing can be a dot segment.
        if (rawPath.IndexOfAny((byte)'%', (byte)'\\', (byte)0) < 0 && rawPath.IndexOf("/."u8) < 0)
        {
            rawPath.CopyTo(destination);
            written = rawPath.Length;
            return true;
        }

        if (!TryDecodeUnreserved(rawPath, destination, out int decoded))
        {
            return false;
        }

        // Decoding may have made a "." from "%2E": look again before the segment walk.
        if (destination[..decoded].IndexOf("/."u8) < 0)
        {
            written = decoded;
            return true;
        }

        return TryRemoveDotSegments(destination[..decoded], out written);
    }

    private static bool TryDecodeUnreserved(ReadOnlySpan<byte> source, Span<byte> destination, out int written)
    {
        written = 0;
        int w = 0;
        int i = 0;
        while (true)
        {
            // Copy the run up to the next byte that needs a look, whole.
            int run = source[i..].IndexOfAny((byte)'%', (byte)'\\', (byte)0);
            if (run < 0)
            {
                source[i..].CopyTo(destination[w..]);
                written = w + source.Length - i;
                return true;
            }

            source.Slice(i, run).CopyTo(destination[w..]);
            w += run;
            i += run;
            if (source[i] != (byte)'%')
            {
                return false;
            }

            int high = i + 2 < source.Length ? UriChars.HexValue(source[i + 1]) : -1;
            int low = high >= 0 ? UriChars.HexValue(source[i + 2]) : -1;
            int value = (high << 4) | low;
            if (low < 0 || value == 0)
            {
                return false;
            }

            if (UriChars.IsUnreserved(value))
            {
                destination[w++] = (byte)value;
            }
            else
            {
                destination[w] = (byte)'%';
                destination[w + 1] = "0123456789ABCDEF"u8[high];
                destination[w + 2] = "0123456789ABCDEF"u8[low];
                w += 3;
            }

            i += 3;
        }
    }

    /// <summary>RFC 3986 section 5.2.4 over whole segments, in place: the output never passes the input.</summary>
    private static bool TryRemoveDotSegments(Span<byte> path, out int written)
    {
        int w = 0;
        int i = 0;
        while (i < path.Length)
        {
            // path[i] is the '/' that starts a segment.
            int rest = path[(i + 1)..].IndexOf((byte)'/');
            int end = rest < 0 ? path.Length : i + 1 + rest;
            ReadOnlySpan<byte> segment = path[(i + 1)..end];
            bool last = end == path.Length;
            if (segment is [(byte)'.'])
            {
                // "/a/./b" -> "/a/b"; a final "." leaves the directory: "/a/." -> "/a/".
                if (last)
                {
                    path[w++] = (byte)'/';
                }
            }
            else if (segment is [(byte)'.', (byte)'.'])
            {
                if (w == 0)
                {
                    written = 0;
                    return false;
                }

                // Drop the last output segment with its '/': "/a/b/.." -> "/a" then "/" for the directory.
                w = path[..w].LastIndexOf((byte)'/');
                if (last)
                {
                    path[w++] = (byte)'/';
                }
            }
            else
            {
                // Until the first dot segment the output is the input: nothing to move.
                if (w != i)
                {
                    path[i..end].CopyTo(path[w..]);
                }

                w += end - i;
            }

            i = end;
        }

        written = w;
        return true;
    }
}
