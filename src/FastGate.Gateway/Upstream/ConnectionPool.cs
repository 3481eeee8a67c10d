using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;
using System.Net.Sockets;
using FastGate.Gateway.Transport;

namespace FastGate.Gateway.Upstream;

/// <summary>
/// Bounded pool of keep-alive connections to one endpoint. At most <c>max_connections</c> leases are out
/// at once (a semaphore of lease rights); idle connections sit in a LIFO so the hot few stay warm and the
/// cold ones sink to the bottom where the sweep closes them. The pool distrusts idle sockets: a connection
/// is re-checked (idle age, peer closed or stray bytes) before it is handed out again.
/// </summary>
[SuppressMessage("Reliability", "CA1001", Justification = "The SemaphoreSlim never creates its wait handle, so it holds nothing to dispose; disposing it would break Release() by leases still out when the pool closes.")]
internal sealed class ConnectionPool
{
    /// <summary>
    /// How deep below the top of the idle stack a connection on the caller's own epoll loop is looked
    /// for: a few compares under the lock, and only the warm end of the stack is disturbed.
    /// </summary>
    private const int LoopAffinityScan = 8;

    private readonly EndpointState _endpoint;
    private readonly SemaphoreSlim _leases;
    private readonly Lock _idleLock = new();
    // Bottom (index 0) is the oldest: Return pushes with the current time, so ages are sorted and the sweep
    // only ever trims a prefix.
    private readonly UpstreamConnection?[] _idle;
    private int _idleCount;
    private volatile bool _closed;

    public ConnectionPool(EndpointState endpoint, int maxConnections)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConnections, 1);
        _endpoint = endpoint;
        MaxConnections = maxConnections;
        _leases = new SemaphoreSlim(maxConnections, maxConnections);
        _idle = new UpstreamConnection?[maxConnections];
    }

    public int MaxConnections { get; }

    /// <summary>Connections leased right now (including leases still connecting).</summary>
    public int LeasedCount => MaxConnections - _leases.CurrentCount;

    public int IdleCount => Volatile.Read(ref _idleCount);

    /// <summary>Closed pools still lease (requests in flight finish), but keep nothing idle.</summary>
    public bool IsClosed => _closed;

    /// <summary>An idle connection that passes the reuse check, or a new one (connect timeout applies).</summary>
    public ValueTask<LeaseResult> LeaseAsync(CancellationToken cancellationToken)
    {
        // Steady state: a free lease right and a warm idle connection, all synchronous, nothing allocated.
        if (!_leases.Wait(0, CancellationToken.None))
        {
            return WaitThenLeaseAsync(cancellationToken);
        }

        var connection = PopReusable();
        if (connection is not null)
        {
            return new ValueTask<LeaseResult>(new LeaseResult(connection, UpstreamFailure.None));
        }

        return ConnectAsync(cancellationToken);
    }

    /// <summary>
    /// Only after a clean exchange: response read to its end, keep-alive allowed. Anything the upstream
    /// sent beyond the response (or a close) means the connection's state is unknown, so it is checked
    /// here and such a connection is discarded instead.
    /// </summary>
    public void Return(UpstreamConnection connection)
    {
        if (connection.Pool != this)
        {
            connection.Pool.Return(connection);
            return;
        }

        if (_closed || connection.IsClosed || HasBufferedInput(connection.Input))
        {
            Discard(connection);
            return;
        }

        connection.LastReturnedTimestamp = Environment.TickCount64;
        bool kept;
        lock (_idleLock)
        {
            // Race window: Close() may have drained the idle set between the check above and this lock;
            // re-check under the lock so nothing is pushed into a closed pool.
            kept = !_closed && _idleCount < _idle.Length;
            if (kept)
            {
                _idle[_idleCount] = connection;
                Volatile.Write(ref _idleCount, _idleCount + 1);
            }
        }

        if (!kept)
        {
            connection.Close();
        }

        // Idle connections hold no lease right: a waiter woken here pops the one just pushed.
        _leases.Release();
    }

    /// <summary>Closes the connection and frees its slot.</summary>
    public void Discard(UpstreamConnection connection)
    {
        if (connection.Pool != this)
        {
            connection.Pool.Discard(connection);
            return;
        }

        connection.Close();
        _leases.Release();
    }

    /// <summary>Closes connections idle for longer than the pool's idle timeout (called by the registry's sweep).</summary>
    public int SweepIdle(long nowTicks)
    {
        var idleTimeoutMs = (long)_endpoint.Upstream.Pool.IdleTimeout.TotalMilliseconds;
        UpstreamConnection?[]? expired = null;
        var expiredCount = 0;
        lock (_idleLock)
        {
            while (expiredCount < _idleCount && nowTicks - _idle[expiredCount]!.LastReturnedTimestamp >= idleTimeoutMs)
            {
                expiredCount++;
            }

            if (expiredCount > 0)
            {
                expired = ArrayPool<UpstreamConnection?>.Shared.Rent(expiredCount);
                Array.Copy(_idle, expired, expiredCount);
                Array.Copy(_idle, expiredCount, _idle, 0, _idleCount - expiredCount);
                Array.Clear(_idle, _idleCount - expiredCount, expiredCount);
                Volatile.Write(ref _idleCount, _idleCount - expiredCount);
            }
        }

        if (expired is not null)
        {
            for (var i = 0; i < expiredCount; i++)
            {
                expired[i]!.Close();
            }

            ArrayPool<UpstreamConnection?>.Shared.Return(expired, clearArray: true);
        }

        return expiredCount;
    }

    /// <summary>Stops keeping connections: idle ones close now, leased ones close when they come back.</summary>
    public void Close()
    {
        _closed = true;
        while (TryPopIdle() is { } connection)
        {
            connection.Close();
        }
    }

    private UpstreamConnection? PopReusable()
    {
        var idleTimeoutMs = (long)_endpoint.Upstream.Pool.IdleTimeout.TotalMilliseconds;
        while (TryPopIdle() is { } connection)
        {
            // An EOF, a reset or stray bytes that came while the connection was idle show up in its input
            // (the sockets path's receive loop read them; the epoll reader recvs only when an edge came):
            // none of them leave a usable exchange. (No poll system call per lease.)
            if (Environment.TickCount64 - connection.LastReturnedTimestamp >= idleTimeoutMs || HasBufferedInput(connection.Input))
            {
                connection.Close();
                continue;
            }

            connection.IsReused = true;
            connection.ReusedCount++;
            return connection;
        }

        return null;
    }

    private UpstreamConnection? TryPopIdle()
    {
        // On an epoll loop thread (the epoll transport), a connection pumped by this same loop is
        // preferred among the warmest few: the exchange then needs no other thread.
        var loop = EpollLoop.Current;
        lock (_idleLock)
        {
            if (_idleCount == 0)
            {
                return null;
            }

            var top = _idleCount - 1;
            var index = top;
            if (loop is not null)
            {
                for (var i = top; i >= 0 && top - i < LoopAffinityScan; i--)
                {
                    if (_idle[i]!.Loop == loop)
                    {
                        index = i;
                        break;
                    }
                }
            }

            var connection = _idle[index];
            // The ones above move down one: ages stay sorted for the sweep.
            Array.Copy(_idle, index + 1, _idle, index, top - index);
            _idle[top] = null;
            Volatile.Write(ref _idleCount, top);
            return connection;
        }
    }

    private static bool HasBufferedInput(PipeReader input)
    {
        // Bytes already read past the response (pipelined junk) or a seen EOF make the connection unusable.
        if (!input.TryRead(out var result))
        {
            return false;
        }

        var dirty = !result.Buffer.IsEmpty || result.IsCompleted || result.IsCanceled;
        input.AdvanceTo(result.Buffer.Start);
        return dirty;
    }

    private async ValueTask<LeaseResult> WaitThenLeaseAsync(CancellationToken cancellationToken)
    {
        var wait = _leases.WaitAsync(cancellationToken);
        await ((Task)wait).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (!wait.IsCompletedSuccessfully)
        {
            return new LeaseResult(null, UpstreamFailure.PoolExhausted);
        }

        var connection = PopReusable();
        if (connection is not null)
        {
            return new LeaseResult(connection, UpstreamFailure.None);
        }

        return await ConnectAsync(cancellationToken).ConfigureAwait(false);
    }

    // Holds a lease right on entry; gives it back on every failure.
    private async ValueTask<LeaseResult> ConnectAsync(CancellationToken cancellationToken)
    {
        var endpoint = _endpoint;
        var address = endpoint.Model.Address;
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        // On the epoll transport, the loop of the client connection asking (this thread's, before any
        // await): its request and the upstream exchange then run on one thread.
        var loops = endpoint.Loops;
        var pump = loops is null ? null : new UpstreamEpollPump(socket, loops.CurrentOrNextLoop());
        UpstreamFailure failure;
        // A timer-backed source is fine here: connecting is the cold path, reuse is the hot one.
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(endpoint.Upstream.ConnectTimeout);
            try
            {
                if (pump is null)
                {
                    await socket.ConnectAsync(address, timeout.Token).ConfigureAwait(false);
                }
                else
                {
                    await pump.ConnectAsync(address, timeout.Token).ConfigureAwait(false);
                }

                endpoint.OnConnectionOpened();
                return new LeaseResult(new UpstreamConnection(socket, endpoint, this, pump, loops?.Pool), UpstreamFailure.None);
            }
            catch (OperationCanceledException)
            {
                // The caller's token carries the route timeout (504); our own timer is the connect timeout.
                failure = cancellationToken.IsCancellationRequested ? UpstreamFailure.Timeout : UpstreamFailure.ConnectTimeout;
            }
            catch (SocketException ex)
            {
                failure = ex.SocketErrorCode == SocketError.TimedOut ? UpstreamFailure.ConnectTimeout : UpstreamFailure.ConnectRefused;
            }
        }

        if (pump is null)
        {
            socket.Dispose();
        }
        else
        {
            pump.Abandon();
        }

        _leases.Release();
        endpoint.RecordFailure();
        if (failure != UpstreamFailure.Timeout)
        {
            // Refused or silent: skip the endpoint for the mark-down period instead of paying a connect
            // attempt (or a connect timeout) on every request.
            endpoint.MarkDown();
        }

        return new LeaseResult(null, failure);
    }
}
