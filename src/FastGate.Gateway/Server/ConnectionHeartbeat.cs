namespace FastGate.Gateway.Server;

/// <summary>Something with deadlines that the heartbeat visits.</summary>
internal interface IHeartbeatClient
{
    /// <param name="now">milliseconds, <see cref="Environment.TickCount64"/></param>
    void OnHeartbeat(long now);
}

/// <summary>
/// One timer for every connection's deadlines (head, idle, body, upstream), in the manner of Kestrel's
/// heartbeat: a connection stores a deadline in a field and the heartbeat cancels its pending read
/// once the deadline has passed. No timer, task or CancellationTokenSource registration per request.
/// </summary>
internal sealed class ConnectionHeartbeat : IDisposable
{
    // 100 ms bounds how late a timeout fires: route timeouts are written in hundreds of milliseconds
    // or more, and visiting 10,000 connections ten times a second costs well under 1% of a core.
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    private readonly HashSet<IHeartbeatClient> _clients = [];
    private readonly Lock _lock = new();
    private readonly Timer _timer;
    private IHeartbeatClient[] _snapshot = [];
    private bool _dirty;

    public ConnectionHeartbeat()
    {
        _timer = new Timer(static state => ((ConnectionHeartbeat)state!).Tick(), this, Interval, Interval);
    }

    public void Add(IHeartbeatClient client)
    {
        lock (_lock)
        {
            _clients.Add(client);
            _dirty = true;
        }
    }

    public void Remove(IHeartbeatClient client)
    {
        lock (_lock)
        {
            _clients.Remove(client);
            _dirty = true;
        }
    }

    private void Tick()
    {
        IHeartbeatClient[] clients;
        lock (_lock)
        {
            if (_dirty)
            {
                _snapshot = [.. _clients];
                _dirty = false;
            }

            clients = _snapshot;
        }

        long now = Environment.TickCount64;
        foreach (var client in clients)
        {
            try
            {
                client.OnHeartbeat(now);
            }
            catch (ObjectDisposedException)
            {
                // Race window: a connection may finish between the snapshot and this call.
            }
        }
    }

    public void Dispose() => _timer.Dispose();
}
