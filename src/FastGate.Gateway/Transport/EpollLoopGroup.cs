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
    private long _upstreamPicks;
    private long _upstreamPicksOwn;

    public EpollLoopGroup(int loopCount)
    {
        _loops = new EpollLoop[Math.Max(1, loopCount)];
        for (int i = 0; i < _loops.Length; i++)
        {
            _loops[i] = new EpollLoop($"fg-epoll-{i}");
        }
    }

    public EpollBlockPool Pool { get; } = new();

    public IReadOnlyList<EpollLoop> Loops => _loops;

    /// <summary>The loops in turn.</summary>
    public EpollLoop NextLoop() => _loops[(int)(Interlocked.Increment(ref _next) % (uint)_loops.Length)];

    /// <summary>Loops picked for upstream connections so far (once per connect).</summary>
    public long UpstreamPicks => Interlocked.Read(ref _upstreamPicks);

    /// <summary>Of <see cref="UpstreamPicks"/>, those that were the connecting thread's own loop.</summary>
    public long UpstreamPicksOwn => Interlocked.Read(ref _upstreamPicksOwn);

    /// <summary>For an upstream connection: the calling thread's own loop when it is one of these, else the next in turn.</summary>
    public EpollLoop CurrentOrNextLoop()
    {
        Interlocked.Increment(ref _upstreamPicks);
        var current = EpollLoop.Current;
        if (current is not null && Array.IndexOf(_loops, current) >= 0)
        {
            Interlocked.Increment(ref _upstreamPicksOwn);
            return current;
        }

        return NextLoop();
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
