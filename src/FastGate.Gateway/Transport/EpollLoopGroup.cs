namespace FastGate.Gateway.Transport;

/// <summary>
/// The epoll loops of one gateway (one per core by default) and the block pool of their sockets'
/// pipes. The listeners hand accepted connections to the loops in turn; upstream connections go to
/// the loop of the thread that opens them, so that a request and its upstream exchange run on one
/// thread with no handoff.
/// </summary>
internal sealed class EpollLoopGroup : IDisposable
{
    private readonly EpollLoop[] _loops;
    private uint _next;

    public EpollLoopGroup(int loopCount)
    {
        _loops = new EpollLoop[Math.Max(1, loopCount)];
        for (int i = 0; i < _loops.Length; i++)
        {
            _loops[i] = new EpollLoop($"fg-epoll-{i}");
        }
    }

    public EpollBlockPool Pool { get; } = new();

    /// <summary>The loops in turn.</summary>
    public EpollLoop NextLoop() => _loops[(int)(Interlocked.Increment(ref _next) % (uint)_loops.Length)];

    /// <summary>The calling thread's own loop when it is one of these, else the next in turn.</summary>
    public EpollLoop CurrentOrNextLoop()
    {
        var current = EpollLoop.Current;
        return current is not null && Array.IndexOf(_loops, current) >= 0 ? current : NextLoop();
    }

    public void Dispose()
    {
        foreach (var loop in _loops)
        {
            loop.Dispose();
        }

        Pool.Dispose();
    }
}
