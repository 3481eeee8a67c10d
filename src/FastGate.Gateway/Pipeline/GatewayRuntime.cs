using FastGate.Gateway.Model;
using FastGate.Gateway.Observability;
using FastGate.Gateway.Server;
using FastGate.Gateway.Upstream;

namespace FastGate.Gateway.Pipeline;

/// <summary>
/// What every connection shares: the current model (swapped as one reference on reload; a request
/// keeps the model it started with), the upstream states, the heartbeat, the metrics.
/// </summary>
internal sealed class GatewayRuntime : IAsyncDisposable
{
    private GatewayModel _model;

    public GatewayRuntime(GatewayModel model)
    {
        _model = model;
        Upstreams.Apply(model);
    }

    public GatewayModel Model => Volatile.Read(ref _model);

    public UpstreamRegistry Upstreams { get; } = new();

    public ConnectionHeartbeat Heartbeat { get; } = new();

    public GatewayMetrics Metrics { get; } = new();

    /// <summary>Set when the gateway drains: connections finish their request and close.</summary>
    public bool IsStopping { get; private set; }

    /// <summary>Adopts a new model; requests in flight keep the one they started with.</summary>
    public void Apply(GatewayModel model)
    {
        Upstreams.Apply(model);
        Volatile.Write(ref _model, model);
    }

    public void BeginStopping() => IsStopping = true;

    public async ValueTask DisposeAsync()
    {
        Heartbeat.Dispose();
        await Upstreams.DisposeAsync().ConfigureAwait(false);
    }
}
