using FastGate.Gateway.Model;
using FastGate.Gateway.Transport;

namespace FastGate.Gateway.Upstream;

/// <summary>
/// Runtime upstream states for a model. On reload, endpoints that did not change keep their pools and
/// health. Owns the active health checkers and the idle-connection sweep.
/// </summary>
internal sealed class UpstreamRegistry : IAsyncDisposable
{
    private static readonly TimeSpan MinSweepPeriod = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan MaxSweepPeriod = TimeSpan.FromSeconds(1);

    // Serializes Apply and DisposeAsync; Get never takes it.
    private readonly Lock _applyLock = new();
    private readonly Timer _sweep;
    private readonly EpollLoopGroup? _loops;
    private volatile Snapshot _snapshot = Snapshot.Empty;
    private bool _disposed;

    /// <param name="loops">the epoll loops that pump upstream connections (the epoll transport); null: System.Net.Sockets does</param>
    public UpstreamRegistry(EpollLoopGroup? loops = null)
    {
        _loops = loops;
        _sweep = new Timer(static state => ((UpstreamRegistry)state!).SweepIdle(), this, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>The state for an upstream of the current model.</summary>
    /// <remarks>
    /// A model from before a reload (a request in flight) resolves by name to the current state of that
    /// upstream, or to its retired state while the old model is still referenced.
    /// </remarks>
    public UpstreamState Get(UpstreamModel model)
    {
        var snapshot = _snapshot;
        if (snapshot.ByModel.TryGetValue(model, out var state)
            || snapshot.ByName.TryGetValue(model.Name, out state)
            || snapshot.Retired.TryGetValue(model, out state))
        {
            return state;
        }

        throw new ArgumentException($"upstream '{model.Name}' was never applied to this registry", nameof(model));
    }

    /// <summary>Adopts a new model (first load or reload).</summary>
    public void Apply(GatewayModel model)
    {
        lock (_applyLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var old = _snapshot;
            var byModel = new Dictionary<UpstreamModel, UpstreamState>(model.Upstreams.Count);
            var byName = new Dictionary<string, UpstreamState>(model.Upstreams.Count, StringComparer.Ordinal);
            var checkers = new Dictionary<string, HealthChecker>(StringComparer.Ordinal);
            var kept = new HashSet<EndpointState>();
            var sweepPeriod = MaxSweepPeriod;
            foreach (var upstream in model.Upstreams.Values)
            {
                old.ByName.TryGetValue(upstream.Name, out var previous);
                var state = new UpstreamState(upstream, BuildEndpoints(upstream, previous, kept, _loops));
                byModel[upstream] = state;
                byName[upstream.Name] = state;
                if (upstream.Health is { } health)
                {
                    checkers[upstream.Name] = HealthChecker.Start(health, state.Endpoints);
                }
                else
                {
                    foreach (var endpoint in state.Endpoints)
                    {
                        endpoint.ClearHealth();
                    }
                }

                // Close an idle connection at most a quarter of its timeout late.
                var period = upstream.Pool.IdleTimeout / 4;
                if (period < sweepPeriod)
                {
                    sweepPeriod = period < MinSweepPeriod ? MinSweepPeriod : period;
                }
            }

            // In-flight requests may still hold the old models: keep the retired states reachable from them
            // (weakly, so they go with the last old model) while their pools close.
            var retired = old.Retired;
            foreach (var (oldModel, oldState) in old.ByModel)
            {
                if (!byName.ContainsKey(oldModel.Name))
                {
                    retired.AddOrUpdate(oldModel, oldState);
                }

                foreach (var endpoint in oldState.Endpoints)
                {
                    if (!kept.Contains(endpoint))
                    {
                        endpoint.Retire();
                    }
                }
            }

            _snapshot = new Snapshot(byModel, byName, retired, checkers);
            foreach (var checker in old.Checkers.Values)
            {
                checker.Stop();
            }

            _sweep.Change(sweepPeriod, sweepPeriod);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Snapshot snapshot;
        lock (_applyLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            snapshot = _snapshot;
        }

        await _sweep.DisposeAsync().ConfigureAwait(false);
        foreach (var checker in snapshot.Checkers.Values)
        {
            await checker.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var state in snapshot.ByModel.Values)
        {
            foreach (var endpoint in state.Endpoints)
            {
                endpoint.Retire();
            }
        }
    }

    /// <summary>Endpoints in model order; one whose address was already in the upstream carries over.</summary>
    private static EndpointState[] BuildEndpoints(UpstreamModel upstream, UpstreamState? previous, HashSet<EndpointState> kept, EpollLoopGroup? loops)
    {
        var endpoints = new EndpointState[upstream.Endpoints.Count];
        for (var i = 0; i < endpoints.Length; i++)
        {
            var model = upstream.Endpoints[i];
            EndpointState? reused = null;
            if (previous is not null)
            {
                foreach (var candidate in previous.Endpoints)
                {
                    if (candidate.Model.Address.Equals(model.Address) && !kept.Contains(candidate))
                    {
                        reused = candidate;
                        break;
                    }
                }
            }

            if (reused is null)
            {
                endpoints[i] = new EndpointState(model, upstream, loops);
            }
            else
            {
                reused.Adopt(model, upstream);
                kept.Add(reused);
                endpoints[i] = reused;
            }
        }

        return endpoints;
    }

    private void SweepIdle()
    {
        var now = Environment.TickCount64;
        foreach (var state in _snapshot.ByModel.Values)
        {
            foreach (var endpoint in state.Endpoints)
            {
                endpoint.Pool.SweepIdle(now);
            }
        }
    }

    private sealed class Snapshot(
        Dictionary<UpstreamModel, UpstreamState> byModel,
        Dictionary<string, UpstreamState> byName,
        System.Runtime.CompilerServices.ConditionalWeakTable<UpstreamModel, UpstreamState> retired,
        Dictionary<string, HealthChecker> checkers)
    {
        public static readonly Snapshot Empty = new([], new(StringComparer.Ordinal), new(), []);

        /// <summary>Keyed by reference (UpstreamModel does not override equality): the O(1) hit of the hot path.</summary>
        public Dictionary<UpstreamModel, UpstreamState> ByModel { get; } = byModel;
        public Dictionary<string, UpstreamState> ByName { get; } = byName;
        public System.Runtime.CompilerServices.ConditionalWeakTable<UpstreamModel, UpstreamState> Retired { get; } = retired;
        public Dictionary<string, HealthChecker> Checkers { get; } = checkers;
    }
}
