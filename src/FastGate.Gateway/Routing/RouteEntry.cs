using System.Text;
using FastGate.Gateway.Model;

namespace FastGate.Gateway.Routing;

internal enum HostPatternKind : byte
{
    Exact,
    /// <summary>"*.example.com": at least one label before the suffix.</summary>
    Wildcard,
    Any,
}

/// <summary>A route as the trie stores it: host pattern and methods pre-encoded to bytes.</summary>
internal sealed class RouteEntry
{
    public RouteEntry(RouteModel route, int fileIndex)
    {
        Route = route;
        FileIndex = fileIndex;
        ParameterCount = route.Path.ParameterNames.Count;
        Methods = [.. route.Methods.Select(Encoding.ASCII.GetBytes)];
        MethodWords = [.. Methods.Select(method => ByteWord.Load(method))];
        if (route.Host is null)
        {
            HostKind = HostPatternKind.Any;
            Host = [];
        }
        else
        {
            bool wildcard = route.Host.StartsWith("*.", StringComparison.Ordinal);
            HostKind = wildcard ? HostPatternKind.Wildcard : HostPatternKind.Exact;
            // A wildcard keeps its leading '.', so the suffix test also checks the label boundary.
            byte[] host = Encoding.ASCII.GetBytes(route.Host[(wildcard ? 1 : 0)..].ToLowerInvariant());
            Host = HostWithoutPort(host).ToArray();
        }

        TakesAll = HostKind == HostPatternKind.Any && Methods.Length == 0;
    }

    public RouteModel Route { get; }

    /// <summary>Position in the list given to <see cref="RouteTable.Build"/>.</summary>
    public int FileIndex { get; }

    public int ParameterCount { get; }

    public HostPatternKind HostKind { get; }

    /// <summary>Lower-case host, or the suffix with its leading '.' for a wildcard.</summary>
    public byte[] Host { get; }

    /// <summary>Empty for any method.</summary>
    public byte[][] Methods { get; }

    /// <summary><see cref="Methods"/> as <see cref="ByteWord.Load"/> reads them, in the same order.</summary>
    public ulong[] MethodWords { get; }

    /// <summary>Any host and any method: the route takes every request that reaches it, which the matcher
    /// tells by one test.</summary>
    public bool TakesAll { get; }

    /// <param name="host">the request's host already passed through <see cref="HostWithoutPort"/></param>
    public bool MatchesHost(ReadOnlySpan<byte> host) => HostKind switch
    {
        HostPatternKind.Any => true,
        HostPatternKind.Exact => Ascii.EqualsIgnoreCase(host, Host),
        _ => host.Length > Host.Length && Ascii.EqualsIgnoreCase(host[^Host.Length..], Host),
    };

    public bool AllowsMethod(ReadOnlySpan<byte> method)
    {
        if (Methods.Length == 0)
        {
            return true;
        }

        foreach (byte[] allowed in Methods)
        {
            if (method.SequenceEqual(allowed))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// <see cref="AllowsMethod(ReadOnlySpan{byte})"/> for the matcher, which reads the request's method once as a
    /// word: one integer compare a method instead of a call to compare bytes (methods are case-sensitive,
    /// RFC 9110 section 9.1, so equal bytes are the test).
    /// </summary>
    /// <param name="word">the method as <see cref="ByteWord.Load"/> reads it</param>
    public bool AllowsMethod(ReadOnlySpan<byte> method, ulong word)
    {
        ulong[] words = MethodWords;
        if (words.Length == 0)
        {
            return true;
        }

        for (int i = 0; i < words.Length; i++)
        {
            // Word and length settle methods of up to 8 bytes; longer (extension) methods compare the rest.
            if (words[i] == word && Methods[i].Length == method.Length
                && (method.Length <= sizeof(ulong) || method.SequenceEqual(Methods[i])))
            {
                return true;
            }
        }

        return false;
    }

    public bool SameHostPattern(RouteEntry other) => HostKind == other.HostKind && Host.AsSpan().SequenceEqual(other.Host);

    public bool MethodsOverlap(RouteEntry other)
    {
        if (Methods.Length == 0 || other.Methods.Length == 0)
        {
            return true;
        }

        foreach (byte[] method in Methods)
        {
            if (other.AllowsMethod(method))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Priority among routes of equal path specificity: exact host, longer wildcard suffix, any host, then file order.</summary>
    public static int ComparePriority(RouteEntry a, RouteEntry b)
    {
        int c = a.HostKind.CompareTo(b.HostKind);
        if (c == 0 && a.HostKind == HostPatternKind.Wildcard)
        {
            c = b.Host.Length.CompareTo(a.Host.Length);
        }

        if (c == 0)
        {
            c = a.Route.Order.CompareTo(b.Route.Order);
        }

        return c != 0 ? c : a.FileIndex.CompareTo(b.FileIndex);
    }

    /// <summary>
    /// The host a route is chosen by: without a ":port" (RFC 9110 section 7.2 allows one in Host) and without
    /// the trailing dot of a fully qualified name, which names the same host.
    /// </summary>
    public static ReadOnlySpan<byte> HostWithoutPort(ReadOnlySpan<byte> host)
    {
        if (host.Length > 0 && host[0] == (byte)'[')
        {
            // IP-literal (RFC 3986 section 3.2.2): its colons are not a port separator.
            int close = host.IndexOf((byte)']');
            if (close >= 0)
            {
                host = host[..(close + 1)];
            }
        }
        else
        {
            int colon = host.IndexOf((byte)':');
            if (colon >= 0)
            {
                host = host[..colon];
            }
        }

        return host.Length > 0 && host[^1] == (byte)'.' ? host[..^1] : host;
    }
}
