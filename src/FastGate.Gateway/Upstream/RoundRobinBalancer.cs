namespace FastGate.Gateway.Upstream;

/// <summary>Each endpoint in turn; an unavailable one passes its turn to the next.</summary>
internal sealed class RoundRobinBalancer : LoadBalancer
{
    // uint: wraps around silently after 2^32 picks instead of going negative.
    private uint _next = uint.MaxValue;

    public RoundRobinBalancer(EndpointState[] endpoints)
        : base(endpoints)
    {
    }

    public override EndpointState? Pick(in BalanceContext context, EndpointState? exclude) =>
        FirstCandidateFrom(Interlocked.Increment(ref _next), exclude);
}
