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
