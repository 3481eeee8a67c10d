// CONTRACT STUBS (written by the lead). The routing helper replaces the bodies and may split these types
// into their own files, keeping names and signatures. Match time allocates nothing.
#pragma warning disable CA1822 // stub bodies; removed when implemented
using System.Diagnostics.CodeAnalysis;
using FastGate.Gateway.Model;

namespace FastGate.Gateway.Routing;

/// <summary>Outcome of <see cref="RouteTable.Match"/>.</summary>
internal enum RouteMatchStatus : byte
{
    Matched,
    /// <summary>No route's host and path match (404).</summary>
    NotFound,
    /// <summary>A route's host and path match but not its methods (405, with Allow).</summary>
    MethodNotAllowed,
}

/// <summary>A parsed match template: literal segments, <c>{name}</c>, and a final <c>{*rest}</c>.</summary>
internal sealed class PathTemplate
{
    private PathTemplate(string text, IReadOnlyList<string> parameterNames)
    {
        Text = text;
        ParameterNames = parameterNames;
    }

    public string Text { get; }

    public IReadOnlyList<string> ParameterNames { get; }

    /// <param name="errorOffset">0-based offset into <paramref name="template"/> of the error</param>
    public static bool TryParse(string template, [NotNullWhen(true)] out PathTemplate? result, [NotNullWhen(false)] out string? error, out int errorOffset)
    {
        result = new PathTemplate(template, []);
        error = null;
        errorOffset = 0;
        return true;
    }
}

/// <summary>Captured parameters: ranges into the normalized path that was matched.</summary>
internal struct RouteValues
{
    public const int MaxCount = 16;

    public int Count { get; private set; }
}

/// <summary>A compiled rewrite template (path, optionally with a query) over a route's captured parameters.</summary>
internal sealed class RewriteTemplate
{
    public string Text { get; } = "";

    public bool HasQuery { get; }

    public static bool TryCreate(string template, PathTemplate matched, [NotNullWhen(true)] out RewriteTemplate? result, [NotNullWhen(false)] out string? error, out int errorOffset)
    {
        result = new RewriteTemplate();
        error = null;
        errorOffset = 0;
        return true;
    }

    /// <summary>
    /// Writes the rewritten path (and the template's query, if any) into <paramref name="destination"/>.
    /// Returns the bytes written, or -1 when the destination is too small.
    /// </summary>
    public int Write(Span<byte> destination, ReadOnlySpan<byte> path, in RouteValues values) => -1;
}

internal readonly record struct RouteConflict(RouteModel First, RouteModel Second);

/// <summary>The compiled trie over a configuration's routes.</summary>
internal sealed class RouteTable
{
    public static RouteTable Build(IReadOnlyList<RouteModel> routes, out IReadOnlyList<RouteConflict> conflicts)
    {
        conflicts = [];
        return new RouteTable();
    }

    /// <param name="host">the Host header (or authority) as received, possibly with a port</param>
    /// <param name="path">the normalized path (no query), see <see cref="PathNormalizer"/></param>
    public RouteMatchStatus Match(ReadOnlySpan<byte> host, ReadOnlySpan<byte> method, ReadOnlySpan<byte> path, ref RouteValues values, out RouteModel? route)
    {
        route = null;
        return RouteMatchStatus.NotFound;
    }
}

/// <summary>Makes a raw origin-form path safe to match and forward.</summary>
internal static class PathNormalizer
{
    /// <summary>False when the path is invalid or escapes the root (400).</summary>
    public static bool TryNormalize(ReadOnlySpan<byte> rawPath, Span<byte> destination, out int written)
    {
        written = 0;
        return false;
    }
}
