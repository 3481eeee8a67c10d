namespace FastGate.Gateway.Upstream;

/// <summary>A leased connection, or why none could be had (the connection is null then).</summary>
internal readonly record struct LeaseResult(UpstreamConnection? Connection, UpstreamFailure Failure);
