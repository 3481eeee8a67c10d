using FastGate.Gateway.Model;

namespace FastGate.Gateway.Upstream;

/// <summary>Runtime state of one upstream: its endpoints and balancer.</summary>
internal sealed class UpstreamState
{
    private readonly EndpointState[] _endpoints;
    private readonly LoadBalancer _balancer;

    /// <summary>Fresh state: new endpoints, empty pools, all healthy.</summary>
    public UpstreamState(UpstreamModel model)
        : this(model, CreateEndpoints(model))
    {
    }

    /// <summary>State over endpoints that may carry over from a previous model (in model order).</summary>
    internal UpstreamState(UpstreamModel model, EndpointState[] endpoints)
    {
        Model = model;
        _endpoints = endpoints;
        _balancer = LoadBalancer.Create(model.Balance, endpoints);
    }

    public UpstreamModel Model { get; }

    /// <summary>In the order of the model's endpoints.</summary>
    public IReadOnlyList<EndpointState> Endpoints => _endpoints;

    /// <summary>An available endpoint by the upstream's balance mode, never <paramref name="exclude"/>; null when none.</summary>
    public EndpointState? Pick(in BalanceContext context, EndpointState? exclude) => _balancer.Pick(in context, exclude);

    private static EndpointState[] CreateEndpoints(UpstreamModel model)
    {
        var endpoints = new EndpointState[model.Endpoints.Count];
        for (var i = 0; i < endpoints.Length; i++)
        {
            endpoints[i] = new EndpointState(model.Endpoints[i], model);
        }

        return endpoints;
    }
}
