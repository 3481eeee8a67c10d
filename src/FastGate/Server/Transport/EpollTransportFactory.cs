using System.Buffers;
using System.Net;
using System.Net.Sockets;
using FastGate.Gateway.Transport;
using Microsoft.AspNetCore.Connections;

namespace FastGate.Server.Transport;

/// <summary>
/// Kestrel's transport when FASTGATE_TRANSPORT=epoll: listeners whose accepted connections are served
/// by <see cref="EpollLoop"/> threads (one per core by default, connections assigned round-robin)
/// instead of System.Net.Sockets' engine. Linux only.
/// </summary>
internal sealed class EpollTransportFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector, IDisposable
{
    /// <summary>The listen(2) backlog, as Kestrel's socket transport uses.</summary>
    private const int Backlog = 512;

    private readonly EpollLoopGroup _loops;
    private readonly bool _ownsLoops;
    private readonly Dictionary<EpollLoop, EpollConnection.LoopSettings> _settings;
    private long _accepted;

    public EpollTransportFactory()
        : this(Environment.ProcessorCount)
    {
    }

    /// <summary>A factory with loops of its own, disposed with it.</summary>
    public EpollTransportFactory(int loopCount)
        : this(new EpollLoopGroup(loopCount), ownsLoops: true)
    {
    }

    /// <summary>A factory over loops it shares (with the upstream connections); their owner disposes them.</summary>
    public EpollTransportFactory(EpollLoopGroup loops, bool ownsLoops)
    {
        _loops = loops;
        _ownsLoops = ownsLoops;
        _settings = loops.Loops.ToDictionary(loop => loop, loop => new EpollConnection.LoopSettings(loop, loops.Pool));
    }

    public MemoryPool<byte> Pool => _loops.Pool;

    /// <summary>Connections accepted by this factory's listeners so far.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint or UnixDomainSocketEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
        new(EpollListener.Bind(endpoint, this, _loops.NextLoop(), Backlog));

    /// <summary>For an accepted connection: the next loop in turn, with its connections' shared settings.</summary>
    public EpollConnection.LoopSettings NextLoop()
    {
        Interlocked.Increment(ref _accepted);
        return _settings[_loops.NextLoop()];
    }

    public void Dispose()
    {
        if (_ownsLoops)
        {
            _loops.Dispose();
        }
    }
}
