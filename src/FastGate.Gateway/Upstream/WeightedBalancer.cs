namespace FastGate.Gateway.Upstream;

/// <summary>
/// Smooth weighted round-robin (nginx's algorithm): each pick adds every candidate's weight to its
/// running score, takes the highest score and subtracts the total. Weights 3:1 give A A B A, not A A A B,
/// and the counts are exact over every cycle of sum(weights) picks.
/// </summary>
internal sealed class WeightedBalancer : LoadBalancer
{
    private readonly int[] _weights;
    private readonly long[] _scores;
    // The scores move together; a short lock keeps each pick's read-modify-write of all of them atomic,
    // which is what makes the distribution exact under concurrency.
    private readonly Lock _lock = new();

    public WeightedBalancer(EndpointState[] endpoints)
        : base(endpoints)
    {
        _weights = new int[endpoints.Length];
        _scores = new long[endpoints.Length];
        for (var i = 0; i < endpoints.Length; i++)
        {
            // A weight below 1 would never be picked and never recover; configuration rejects it anyway.
            _weights[i] = Math.Max(1, endpoints[i].Model.Weight);
        }
    }

    public override EndpointState? Pick(in BalanceContext context, EndpointState? exclude)
    {
        var endpoints = Endpoints;
        lock (_lock)
        {
            var best = -1;
            long total = 0;
            for (var i = 0; i < endpoints.Length; i++)
            {
                if (!IsCandidate(endpoints[i], exclude))
                {
                    continue;
                }

                _scores[i] += _weights[i];
                total += _weights[i];
                if (best < 0 || _scores[i] > _scores[best])
                {
                    best = i;
                }
            }

            if (best < 0)
            {
                return null;
            }

            _scores[best] -= total;
            return endpoints[best];
        }
    }
}
