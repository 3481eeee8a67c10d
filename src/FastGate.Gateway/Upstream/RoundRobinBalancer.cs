namespace FastGate.Gateway.Upstream;

/// <summary>Each endpoint in turn; an unavailable one is skipped without doubling its successor's share.</summary>
internal sealed class RoundRobinBalancer : LoadBalancer
{
    // uint: wraps around silently after 2^32 picks instead of going negative.
    private uint _next = uint.MaxValue;

    public RoundRobinBalancer(EndpointState[] endpoints)
        : base(endpoints)
    {
    }

    public override EndpointState? Pick(in BalanceContext context, EndpointState? exclude)
    {
        var endpoints = Endpoints;
        var count = (uint)endpoints.Length;
        if (count == 0)
        {
            return null;
        }

        // NOTE: probing linearly past a skipped endpoint would hand all of its turns to the next one
        // (A, C, C, A, C, C with B down). Taking a fresh turn from the shared counter instead spreads them.
        var turn = Interlocked.Increment(ref _next);
        for (var attempt = 1u; attempt < count; attempt++)
        {
            var endpoint = endpoints[turn % count];
            if (IsCandidate(endpoint, exclude))
            {
                return endpoint;
            }

            turn = Interlocked.Increment(ref _next);
        }

        // Concurrent pickers may have taken the turns in between: settle with one full scan.
        return FirstCandidateFrom(turn, exclude);
    }
}
