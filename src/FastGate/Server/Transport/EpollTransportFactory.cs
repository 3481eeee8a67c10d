using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace FastGate.Server.Transport;

/// <summary>
/// Kestrel's transport when FASTGATE_TRANSPORT=epoll: listeners whose accepted connections are served
/// by <see cref="EpollLoop"/> threads (one per core by default, connections assigned round-robin)
/// instead of System.Net.Sockets' engine. Linux only.
/// </summary>
internal sealed class EpollTransportFactory(int loopCount) : IConnectionListenerFactory, IConnectionListenerFactorySelector, IDisposable
{
    /// <summary>The listen(2) backlog, as Kestrel's socket transport uses.</summary>
    private const int Backlog = 512;

    private readonly Lock _gate = new();
    private EpollLoop[]? _loops;
    private uint _next;
    private long _accepted;

    public EpollTransportFactory()
        : this(Environment.ProcessorCount)
    {
    }

    public MemoryPool<byte> Pool { get; } = new EpollBlockPool();

    /// <summary>Connections accepted by this factory's listeners so far.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint or UnixDomainSocketEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        StartLoops();
        return new ValueTask<IConnectionListener>(EpollListener.Bind(endpoint, this, Backlog));
    }

    public EpollLoop NextLoop()
    {
        Interlocked.Increment(ref _accepted);
        var loops = _loops!;
        return loops[(int)(Interlocked.Increment(ref _next) % (uint)loops.Length)];
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var loop in _loops ?? [])
            {
                loop.Dispose();
            }

            _loops = null;
        }

        Pool.Dispose();
    }

    private void StartLoops()
    {
        lock (_gate)
        {
            if (_loops is not null)
            {
                return;
            }

            var loops = new EpollLoop[Math.Max(1, loopCount)];
            for (int i = 0; i < loops.Length; i++)
            {
                loops[i] = new EpollLoop($"fg-epoll-{i}");
            }

            _loops = loops;
        }
    }
}
