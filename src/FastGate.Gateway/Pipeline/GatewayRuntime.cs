using FastGate.Gateway.Model;
using FastGate.Gateway.Observability;
using FastGate.Gateway.Server;
using FastGate.Gateway.Transport;
using FastGate.Gateway.Upstream;
using Microsoft.Extensions.Logging.Abstractions;

namespace FastGate.Gateway.Pipeline;

/// <summary>A model and the policies built for it: swapped together as one reference.</summary>
internal sealed class ActiveConfiguration(GatewayModel model, PolicySet policies)
{
    public GatewayModel Model { get; } = model;

    public PolicySet Policies { get; } = policies;
}

/// <summary>
/// What every connection shares: the current model and its policies (swapped as one reference on
/// reload; a request keeps what it started with), the upstream states, the heartbeat, the metrics.
/// </summary>
internal sealed class GatewayRuntime : IAsyncDisposable
{
    // Requests that started on a replaced configuration may still use its validators and limiters.
    private static readonly TimeSpan RetiredPolicyGrace = TimeSpan.FromSeconds(30);

    private ActiveConfiguration _active;

    /// <param name="policies">built by the caller (async key loading); built here when null</param>
    /// <param name="upstreamLoops">the epoll transport's loops, which then pump the upstream connections too; null: System.Net.Sockets does</param>
    public GatewayRuntime(GatewayModel model, PolicySet? policies = null, EpollLoopGroup? upstreamLoops = null)
    {
        Upstreams = new UpstreamRegistry(upstreamLoops);
        policies ??= PolicySet.BuildAsync(model, NullLogger.Instance).GetAwaiter().GetResult();
        _active = new ActiveConfiguration(model, policies);
        Upstreams.Apply(model);
    }

    public GatewayModel Model => Volatile.Read(ref _active).Model;

    public ActiveConfiguration Active => Volatile.Read(ref _active);

    public UpstreamRegistry Upstreams { get; }

    public ConnectionHeartbeat Heartbeat { get; } = new();

    public GatewayMetrics Metrics { get; } = new();

    /// <summary>Set when the gateway drains: connections finish their request and close.</summary>
    public bool IsStopping { get; private set; }

    /// <summary>Adopts a new model and its policies; requests in flight keep the ones they started with.</summary>
    public void Apply(GatewayModel model, PolicySet policies)
    {
        Upstreams.Apply(model);
        var retired = Interlocked.Exchange(ref _active, new ActiveConfiguration(model, policies));
        _ = DisposeLaterAsync(retired.Policies);
    }

    private static async Task DisposeLaterAsync(PolicySet policies)
    {
        await Task.Delay(RetiredPolicyGrace).ConfigureAwait(false);
        await policies.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The drain begins (the host's ApplicationStopping): idle connections close now, busy ones after their response.</summary>
    public void BeginStopping()
    {
        IsStopping = true;
        Heartbeat.NotifyStopping();
    }

    public async ValueTask DisposeAsync()
    {
        Heartbeat.Dispose();
        await Upstreams.DisposeAsync().ConfigureAwait(false);
        await Active.Policies.DisposeAsync().ConfigureAwait(false);
    }
}
