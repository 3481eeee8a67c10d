using FastGate.Gateway.Model;

namespace FastGate.Gateway.Upstream;

/// <summary>
/// Chooses an endpoint per request, one subclass per <see cref="BalanceMode"/>. Every mode skips
/// unavailable endpoints and the excluded one (a retry's previous choice) and returns null when none is left.
/// </summary>
internal abstract class LoadBalancer
{
    protected LoadBalancer(EndpointState[] endpoints) => Endpoints = endpoints;

    protected EndpointState[] Endpoints { get; }

    public abstract EndpointState? Pick(in BalanceContext context, EndpointState? exclude);

    public static LoadBalancer Create(BalanceMode mode, EndpointState[] endpoints) => mode switch
    {
        BalanceMode.RoundRobin => new RoundRobinBalancer(endpoints),
        BalanceMode.LeastRequests => new LeastRequestsBalancer(endpoints),
        BalanceMode.PowerOfTwoChoices => new PowerOfTwoChoicesBalancer(endpoints),
        BalanceMode.Weighted => new WeightedBalancer(endpoints),
        BalanceMode.Hash => new HashBalancer(endpoints),
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown balance mode"),
    };

    protected static bool IsCandidate(EndpointState endpoint, EndpointState? exclude) =>
        endpoint != exclude && endpoint.IsAvailable;

    /// <summary>The first candidate at or after <paramref name="start"/>, wrapping around.</summary>
    protected EndpointState? FirstCandidateFrom(uint start, EndpointState? exclude)
    {
        var endpoints = Endpoints;
        var count = (uint)endpoints.Length;
        if (count == 0)
        {
            return null;
        }

        var index = start % count;
        for (var i = 0u; i < count; i++)
        {
            var endpoint = endpoints[index];
            if (IsCandidate(endpoint, exclude))
            {
                return endpoint;
            }

            index = index + 1 == count ? 0 : index + 1;
        }

        return null;
    }
}
