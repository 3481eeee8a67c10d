using FastGate.Gateway.Routing;

namespace FastGate.Gateway.Model;

/// <summary>The one action of a route (DESIGN.md, the request path).</summary>
internal enum RouteAction : byte
{
    Proxy,
    Aggregate,
    Batch,
}

internal sealed class AggregateModel
{
    /// <summary>In file order.</summary>
    public required IReadOnlyList<AggregatePartModel> Parts { get; init; }

    /// <summary>Bound of each part's exchange until its answer is validated and starts to stream.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);
}

internal sealed class AggregatePartModel
{
    public required string Key { get; init; }

    /// <summary><c>"key":</c> with the key JSON-escaped: the member's prefix in the merged object.</summary>
    public required byte[] MemberPrefix { get; init; }

    /// <summary><c>"key"</c>, JSON-escaped, for the <c>_errors</c> member.</summary>
    public required byte[] KeyJson { get; init; }

    public required UpstreamModel Upstream { get; init; }

    /// <summary>The part's path (and query) over the route's captured parameters.</summary>
    public required RewriteTemplate Path { get; init; }

    /// <summary>Upper-case method token, "GET" unless the file says otherwise.</summary>
    public required byte[] Method { get; init; }

    /// <summary>A required part that fails turns the whole answer into a 502; an optional one becomes null.</summary>
    public bool Required { get; init; } = true;
}

internal sealed class BatchModel
{
    public int MaxRequests { get; init; } = 20;

    /// <summary>How many items run at once.</summary>
    public int MaxConcurrency { get; init; } = 4;
}
