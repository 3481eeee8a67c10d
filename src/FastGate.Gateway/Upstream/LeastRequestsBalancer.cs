namespace FastGate.Gateway.Upstream;

/// <summary>
/// The endpoint with the fewest requests in flight. The scan starts at a rotating offset so that ties
/// (all idle, the common case at low load) spread round-robin instead of piling onto the first endpoint.
/// </summary>
internal sealed class LeastRequestsBalancer : LoadBalancer
{
    private uint _next = uint.MaxValue;

    public LeastRequestsBalancer(EndpointState[] endpoints)
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

        var index = Interlocked.Increment(ref _next) % count;
        EndpointState? best = null;
        var bestActive = int.MaxValue;
        for (var i = 0u; i < count; i++)
        {
            var endpoint = endpoints[index];
            if (IsCandidate(endpoint, exclude))
            {
                var active = endpoint.ActiveRequests;
                if (active < bestActive)
                {
                    best = endpoint;
                    bestActive = active;
                }
            }

            index = index + 1 == count ? 0 : index + 1;
        }

        return best;
    }
}
