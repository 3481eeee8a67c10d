using FastGate.Gateway.Model;
using FastGate.Gateway.Transport;

namespace FastGate.Gateway.Upstream;

/// <summary>Runtime state of one endpoint: pool, requests in flight, availability.</summary>
internal sealed class EndpointState
{
    private EndpointModel _model;
    private UpstreamModel _upstream;
    private ConnectionPool _pool;
    private int _activeRequests;
    private long _totalRequests;
    private long _failures;
    private long _connectionsOpened;
    // Environment.TickCount64 (monotonic) until which the endpoint is skipped; 0 = not marked down, so
    // the common case reads no clock (balancers test every candidate on every pick).
    private long _downUntil;
    private volatile bool _healthy = true;
    // Written only by the upstream's single health-check loop.
    private int _consecutiveFailures;
    private int _consecutiveSuccesses;

    /// <param name="loops">the epoll loops that pump its connections; null: System.Net.Sockets does</param>
    public EndpointState(EndpointModel model, UpstreamModel upstream, EpollLoopGroup? loops = null)
    {
        _model = model;
        _upstream = upstream;
        Loops = loops;
        _pool = new ConnectionPool(this, upstream.Pool.MaxConnections);
    }

    public EndpointModel Model => Volatile.Read(ref _model);

    /// <summary>The upstream settings this endpoint runs by (connect timeout, pool, mark-down period).</summary>
    public UpstreamModel Upstream => Volatile.Read(ref _upstream);

    public ConnectionPool Pool => Volatile.Read(ref _pool);

    /// <summary>The epoll loops that pump its connections (the epoll transport); null for System.Net.Sockets.</summary>
    public EpollLoopGroup? Loops { get; }

    /// <summary>Requests in flight (least_requests, p2c).</summary>
    public int ActiveRequests => Volatile.Read(ref _activeRequests);

    /// <summary>Healthy by the active check and not marked down by a refused connection.</summary>
    public bool IsAvailable => _healthy && (Volatile.Read(ref _downUntil) == 0 || MarkDownExpired());

    /// <summary>As judged by the active health check alone (true when the upstream has none).</summary>
    public bool IsHealthy => _healthy;

    public long TotalRequests => Interlocked.Read(ref _totalRequests);

    /// <summary>Failed connects and failures reported through <see cref="RecordFailure"/>.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>TCP connections opened to this endpoint by its pools (not counting health probes).</summary>
    public long ConnectionsOpened => Interlocked.Read(ref _connectionsOpened);

    public void OnRequestStart()
    {
        Interlocked.Increment(ref _activeRequests);
        Interlocked.Increment(ref _totalRequests);
    }

    public void OnRequestEnd() => Interlocked.Decrement(ref _activeRequests);

    public void RecordFailure() => Interlocked.Increment(ref _failures);

    /// <summary>Skip this endpoint for the upstream's mark-down period (it refused a connection).</summary>
    public void MarkDown()
    {
        var until = Environment.TickCount64 + (long)Upstream.MarkDownFor.TotalMilliseconds;
        // Concurrent mark-downs keep the later deadline; none can shorten another's.
        var current = Volatile.Read(ref _downUntil);
        while (until > current)
        {
            var seen = Interlocked.CompareExchange(ref _downUntil, until, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private bool MarkDownExpired()
    {
        var until = Volatile.Read(ref _downUntil);
        if (until == 0 || Environment.TickCount64 >= until)
        {
            // Race window: a concurrent MarkDown may have moved the deadline; the exchange only clears the
            // deadline it saw expire.
            Interlocked.CompareExchange(ref _downUntil, 0, until);
            return true;
        }

        return false;
    }

    internal void OnConnectionOpened() => Interlocked.Increment(ref _connectionsOpened);

    /// <summary>One active probe's verdict; flips health after the configured run of equal verdicts.</summary>
    internal void ReportProbe(bool success, HealthModel health)
    {
        if (success)
        {
            _consecutiveFailures = 0;
            if (!_healthy && ++_consecutiveSuccesses >= health.HealthyThreshold)
            {
                _healthy = true;
            }
        }
        else
        {
            _consecutiveSuccesses = 0;
            if (_healthy && ++_consecutiveFailures >= health.UnhealthyThreshold)
            {
                _healthy = false;
            }
        }
    }

    /// <summary>Starts a health-check run from a clean slate (a new checker after a reload).</summary>
    internal void ResetProbeCounters()
    {
        _consecutiveFailures = 0;
        _consecutiveSuccesses = 0;
    }

    /// <summary>The upstream no longer checks health: nothing can bring the endpoint back otherwise.</summary>
    internal void ClearHealth() => _healthy = true;

    /// <summary>
    /// A reload kept this endpoint (same address): adopt the new settings, keeping counters and health.
    /// A changed pool size gets a fresh pool; the old one closes and its leased connections close on return.
    /// </summary>
    internal void Adopt(EndpointModel model, UpstreamModel upstream)
    {
        Volatile.Write(ref _model, model);
        Volatile.Write(ref _upstream, upstream);
        var pool = Pool;
        if (pool.MaxConnections != upstream.Pool.MaxConnections)
        {
            Volatile.Write(ref _pool, new ConnectionPool(this, upstream.Pool.MaxConnections));
            pool.Close();
        }
    }

    /// <summary>The endpoint left the configuration.</summary>
    internal void Retire() => Pool.Close();
}
