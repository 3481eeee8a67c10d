using System.Buffers;
using System.Net;
using System.Net.Sockets;
using FastGate.Gateway.Model;
using FastGate.Gateway.Transport;
using FastGate.Gateway.Upstream;
using static FastGate.Gateway.Tests.Upstream.UpstreamTestKit;

namespace FastGate.Gateway.Tests.Upstream;

/// <summary>Connections pumped by System.Net.Sockets.</summary>
public sealed class ConnectionPoolSocketsTests : ConnectionPoolTests
{
    private protected override EpollLoopGroup? Loops => null;
}

/// <summary>Connections pumped by an epoll loop (the epoll transport); by System.Net.Sockets where there is no epoll.</summary>
public sealed class ConnectionPoolEpollTests : ConnectionPoolTests, IDisposable
{
    private protected override EpollLoopGroup? Loops { get; } = OperatingSystem.IsLinux() ? new EpollLoopGroup(1) : null;

    public void Dispose() => Loops?.Dispose();

    [Fact]
    public async Task A_lease_on_a_loop_thread_prefers_an_idle_connection_of_that_loop()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        using var loops = new EpollLoopGroup(2);
        var first = loops.NextLoop();
        var second = loops.NextLoop();
        Assert.NotSame(first, second);
        await using var backend = new TcpBackend();
        var endpoint = Endpoint(backend.Address);
        var state = new EndpointState(endpoint, NewUpstream("u", [endpoint]), loops);

        var onFirst = await OnLoopAsync(first, () => state.Pool.LeaseAsync(CancellationToken.None));
        var onSecond = await OnLoopAsync(second, () => state.Pool.LeaseAsync(CancellationToken.None));
        Assert.Same(first, onFirst.Connection!.Loop);
        Assert.Same(second, onSecond.Connection!.Loop);
        state.Pool.Return(onFirst.Connection);
        state.Pool.Return(onSecond.Connection);

        // The second one is on top of the idle stack, yet the first loop gets its own connection back.
        var again = await OnLoopAsync(first, () => state.Pool.LeaseAsync(CancellationToken.None));
        Assert.Same(onFirst.Connection, again.Connection);
        state.Pool.Return(again.Connection!);

        // Off the loops, the top of the stack, as always.
        var top = await state.Pool.LeaseAsync(CancellationToken.None);
        Assert.Same(again.Connection, top.Connection);
        state.Pool.Return(top.Connection!);
        Assert.Equal(2, state.ConnectionsOpened);
        Assert.Equal((2, 2), (loops.UpstreamPicks, loops.UpstreamPicksOwn));
    }

    /// <summary>Starts <paramref name="lease"/> on <paramref name="loop"/>'s thread, as a client connection's request would.</summary>
    private static async Task<LeaseResult> OnLoopAsync(EpollLoop loop, Func<ValueTask<LeaseResult>> lease)
    {
        var started = new TaskCompletionSource<Task<LeaseResult>>(TaskCreationOptions.RunContinuationsAsynchronously);
        loop.Schedule(_ => started.SetResult(lease().AsTask()), null);
        return await await started.Task;
    }
}

/// <summary>The pool's behaviour, the same whichever pumps its connections.</summary>
public abstract class ConnectionPoolTests
{
    private protected abstract EpollLoopGroup? Loops { get; }

    private EndpointState NewEndpoint(IPEndPoint address, int maxConnections = 16, TimeSpan? idleTimeout = null, TimeSpan? connectTimeout = null, TimeSpan? markDownFor = null)
    {
        var endpoint = Endpoint(address);
        return new EndpointState(endpoint, NewUpstream("u", [endpoint], maxConnections: maxConnections, idleTimeout: idleTimeout, connectTimeout: connectTimeout, markDownFor: markDownFor), Loops);
    }

    private static async Task<UpstreamConnection> LeaseOkAsync(ConnectionPool pool)
    {
        var result = await pool.LeaseAsync(CancellationToken.None);
        Assert.Equal(UpstreamFailure.None, result.Failure);
        Assert.NotNull(result.Connection);
        return result.Connection;
    }

    [Fact]
    public async Task Sequential_leases_reuse_one_tcp_connection()
    {
        await using var backend = new TcpBackend();
        var endpoint = NewEndpoint(backend.Address);

        var first = await LeaseOkAsync(endpoint.Pool);
        Assert.False(first.IsReused);
        Assert.True(first.Socket.NoDelay);
        endpoint.Pool.Return(first);

        var second = await LeaseOkAsync(endpoint.Pool);
        Assert.Same(first, second);
        Assert.True(second.IsReused);
        Assert.Equal(1, second.ReusedCount);
        endpoint.Pool.Return(second);

        Assert.True(await EventuallyAsync(() => backend.AcceptedCount == 1));
        await Task.Delay(50);
        Assert.Equal(1, backend.AcceptedCount);
        Assert.Equal(1, endpoint.ConnectionsOpened);
        Assert.Equal(1, endpoint.Pool.IdleCount);
        Assert.Equal(0, endpoint.Pool.LeasedCount);
    }

    [Fact]
    public async Task Leased_connection_carries_bytes_both_ways_through_its_pipes()
    {
        await using var backend = new TcpBackend();
        var endpoint = NewEndpoint(backend.Address);
        var connection = await LeaseOkAsync(endpoint.Pool);

        await connection.Output.WriteAsync("ping"u8.ToArray());
        Assert.True(await EventuallyAsync(() => backend.AcceptedCount == 1));
        var server = await backend.AcceptedAtAsync(0);
        var received = new byte[4];
        var n = await server.ReceiveAsync(received);
        Assert.Equal("ping"u8.ToArray(), received[..n]);

        await server.SendAsync("pong"u8.ToArray());
        var read = await connection.Input.ReadAtLeastAsync(4);
        Assert.Equal("pong"u8.ToArray(), read.Buffer.ToArray());
        connection.Input.AdvanceTo(read.Buffer.End);

        endpoint.Pool.Return(connection);
        Assert.Equal(1, endpoint.Pool.IdleCount);
    }

    [Fact]
    public async Task Full_pool_waits_for_a_return_and_cancellation_reports_pool_exhausted()
    {
        await using var backend = new TcpBackend();
        var endpoint = NewEndpoint(backend.Address, maxConnections: 2);
        var a = await LeaseOkAsync(endpoint.Pool);
        var b = await LeaseOkAsync(endpoint.Pool);

        var third = endpoint.Pool.LeaseAsync(CancellationToken.None).AsTask();
        await Task.Delay(100);
        Assert.False(third.IsCompleted);

        endpoint.Pool.Return(a);
        var result = await third.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(UpstreamFailure.None, result.Failure);
        Assert.Same(a, result.Connection);
        Assert.True(result.Connection!.IsReused);

        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        var exhausted = await endpoint.Pool.LeaseAsync(cts.Token);
        Assert.Equal(UpstreamFailure.PoolExhausted, exhausted.Failure);
        Assert.Null(exhausted.Connection);

        // Discard frees the slot too, and the next lease connects anew.
        endpoint.Pool.Discard(b);
        var fresh = await LeaseOkAsync(endpoint.Pool);
        Assert.False(fresh.IsReused);
        Assert.Equal(3, endpoint.ConnectionsOpened);
        Assert.Equal(2, endpoint.Pool.LeasedCount);
    }

    [Fact]
    public async Task Idle_connection_closed_by_the_peer_is_not_handed_out()
    {
        await using var backend = new TcpBackend();
        var endpoint = NewEndpoint(backend.Address);
        var first = await LeaseOkAsync(endpoint.Pool);
        endpoint.Pool.Return(first);

        Assert.True(await EventuallyAsync(() => backend.AcceptedCount == 1));
        var server = await backend.AcceptedAtAsync(0);
        server.Close();
        // The connection's receive loop sees the EOF while it is idle and completes its input.
        Assert.True(await EventuallyAsync(() =>
        {
            if (!first.Input.TryRead(out var read))
            {
                return false;
            }

            first.Input.AdvanceTo(read.Buffer.Start);
            return read.IsCompleted;
        }));

        var second = await LeaseOkAsync(endpoint.Pool);
        Assert.NotSame(first, second);
        Assert.False(second.IsReused);
        Assert.True(first.IsClosed);
        Assert.Equal(2, endpoint.ConnectionsOpened);
    }

    [Fact]
    public async Task Idle_connection_with_stray_bytes_is_not_handed_out()
    {
        await using var backend = new TcpBackend();
        var endpoint = NewEndpoint(backend.Address);
        var first = await LeaseOkAsync(endpoint.Pool);
        endpoint.Pool.Return(first);

        Assert.True(await EventuallyAsync(() => backend.AcceptedCount == 1));
        var server = await backend.AcceptedAtAsync(0);
        await server.SendAsync("HTTP/1.1 200 OK\r\n"u8.ToArray());
        // The connection's receive loop moves the bytes into its input while it is idle.
        Assert.True(await EventuallyAsync(() =>
        {
            if (!first.Input.TryRead(out var read))
            {
                return false;
            }

            first.Input.AdvanceTo(read.Buffer.Start);
            return !read.Buffer.IsEmpty;
        }));

        var second = await LeaseOkAsync(endpoint.Pool);
        Assert.NotSame(first, second);
        Assert.True(first.IsClosed);
    }

    [Fact]
    public async Task Return_with_unread_buffered_input_discards_the_connection()
    {
        await using var backend = new TcpBackend();
        var endpoint = NewEndpoint(backend.Address);
        var connection = await LeaseOkAsync(endpoint.Pool);
        Assert.True(await EventuallyAsync(() => backend.AcceptedCount == 1));
        var server = await backend.AcceptedAtAsync(0);
        await server.SendAsync("12345678"u8.ToArray());

        // The exchange consumed 4 of the 8 bytes it read: the rest is stray.
        var read = await connection.Input.ReadAtLeastAsync(8);
        connection.Input.AdvanceTo(read.Buffer.GetPosition(4));
        endpoint.Pool.Return(connection);

        Assert.True(connection.IsClosed);
        Assert.Equal(0, endpoint.Pool.IdleCount);
        Assert.Equal(0, endpoint.Pool.LeasedCount);
    }

    [Fact]
    public async Task Connection_idle_past_the_timeout_is_not_reused_and_the_sweep_closes_it()
    {
        await using var backend = new TcpBackend();
        var endpoint = NewEndpoint(backend.Address, idleTimeout: TimeSpan.FromMilliseconds(600));
        var a = await LeaseOkAsync(endpoint.Pool);
        var b = await LeaseOkAsync(endpoint.Pool);
        endpoint.Pool.Return(a);
        await Task.Delay(60);
        endpoint.Pool.Return(b);

        // Explicit clocks: a loaded machine may take longer than the timeout between the two returns.
        Assert.Equal(0, endpoint.Pool.SweepIdle(a.LastReturnedTimestamp + 599));
        Assert.Equal(2, endpoint.Pool.IdleCount);

        // At this clock only the older one has expired: the sweep trims the bottom of the stack.
        Assert.Equal(1, endpoint.Pool.SweepIdle(a.LastReturnedTimestamp + 600));
        Assert.True(a.IsClosed);
        Assert.False(b.IsClosed);
        Assert.Equal(1, endpoint.Pool.SweepIdle(b.LastReturnedTimestamp + 600));
        Assert.Equal(0, endpoint.Pool.IdleCount);
        Assert.True(a.IsClosed);
        Assert.True(b.IsClosed);

        // The backend sees both connections end.
        for (var i = 0; i < 2; i++)
        {
            var server = await backend.AcceptedAtAsync(i);
            var buffer = new byte[1];
            Assert.Equal(0, await server.ReceiveAsync(buffer).WaitAsync(TimeSpan.FromSeconds(5)));
        }

        var c = await LeaseOkAsync(endpoint.Pool);
        endpoint.Pool.Return(c);
        await Task.Delay(700);
        // Without a sweep, the lease path itself refuses the expired connection.
        var d = await LeaseOkAsync(endpoint.Pool);
        Assert.NotSame(c, d);
        Assert.True(c.IsClosed);
    }

    [Fact]
    public async Task Refused_connect_reports_connect_refused_and_marks_the_endpoint_down_for_the_period()
    {
        var endpoint = NewEndpoint(new IPEndPoint(IPAddress.Loopback, ClosedPort()), markDownFor: TimeSpan.FromMilliseconds(300));
        Assert.True(endpoint.IsAvailable);

        var result = await endpoint.Pool.LeaseAsync(CancellationToken.None);

        Assert.Equal(UpstreamFailure.ConnectRefused, result.Failure);
        Assert.Null(result.Connection);
        Assert.False(endpoint.IsAvailable);
        Assert.Equal(1, endpoint.Failures);
        Assert.Equal(0, endpoint.ConnectionsOpened);
        Assert.Equal(0, endpoint.Pool.LeasedCount);
        Assert.True(await EventuallyAsync(() => endpoint.IsAvailable, 3000));
    }

    [Fact]
    public async Task Mark_down_makes_the_endpoint_unavailable_then_available_after_the_period()
    {
        var endpoint = NewEndpoint(new IPEndPoint(IPAddress.Loopback, 1), markDownFor: TimeSpan.FromMilliseconds(200));
        var before = Environment.TickCount64;
        endpoint.MarkDown();
        Assert.False(endpoint.IsAvailable);
        Assert.True(await EventuallyAsync(() => endpoint.IsAvailable, 3000));
        Assert.True(Environment.TickCount64 - before >= 200);
    }

    [Fact]
    public async Task Silent_peer_reports_connect_timeout()
    {
        // A listener whose accept queue is full and never drained: Linux drops further SYNs, so a connect
        // hangs exactly as it would towards a host that does not answer.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0);
        var address = (IPEndPoint)listener.LocalEndPoint!;
        var fillers = new List<Socket>();
        try
        {
            for (var i = 0; i < 16; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                fillers.Add(filler);
                using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
                try
                {
                    await filler.ConnectAsync(address, cts.Token);
                }
                catch (OperationCanceledException)
                {
                    break; // the queue is full: this one hangs
                }
            }

            var endpoint = NewEndpoint(address, connectTimeout: TimeSpan.FromMilliseconds(300));
            var started = Environment.TickCount64;
            var result = await endpoint.Pool.LeaseAsync(CancellationToken.None);

            Assert.Equal(UpstreamFailure.ConnectTimeout, result.Failure);
            Assert.True(Environment.TickCount64 - started >= 250);
            Assert.False(endpoint.IsAvailable);
            Assert.Equal(0, endpoint.Pool.LeasedCount);
        }
        finally
        {
            foreach (var filler in fillers)
            {
                filler.Dispose();
            }
        }
    }

    [Fact]
    public async Task Caller_cancellation_during_connect_reports_timeout_not_connect_timeout()
    {
        var endpoint = NewEndpoint(new IPEndPoint(IPAddress.Loopback, ClosedPort()));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var result = await endpoint.Pool.LeaseAsync(cts.Token);
        Assert.Equal(UpstreamFailure.Timeout, result.Failure);
        Assert.True(endpoint.IsAvailable);
        Assert.Equal(0, endpoint.Pool.LeasedCount);
    }

    [Fact]
    public async Task Closed_pool_discards_connections_when_they_come_back()
    {
        await using var backend = new TcpBackend();
        var endpoint = NewEndpoint(backend.Address);
        var idle = await LeaseOkAsync(endpoint.Pool);
        var leased = await LeaseOkAsync(endpoint.Pool);
        endpoint.Pool.Return(idle);

        endpoint.Pool.Close();
        Assert.True(idle.IsClosed);
        Assert.False(leased.IsClosed);

        endpoint.Pool.Return(leased);
        Assert.True(leased.IsClosed);
        Assert.Equal(0, endpoint.Pool.IdleCount);
        Assert.Equal(0, endpoint.Pool.LeasedCount);
    }

    [Fact]
    public async Task Reusing_an_idle_connection_and_picking_allocate_nothing()
    {
        await using var backend = new TcpBackend();
        var endpointModel = Endpoint(backend.Address);
        var state = new UpstreamState(NewUpstream("u", [endpointModel]));
        var endpoint = state.Endpoints[0];
        var warm = await LeaseOkAsync(endpoint.Pool);
        endpoint.Pool.Return(warm);

        static void Cycle(UpstreamState state)
        {
            var picked = state.Pick(new BalanceContext("10.0.0.1"u8), null)!;
            picked.OnRequestStart();
            var lease = picked.Pool.LeaseAsync(CancellationToken.None);
            var connection = lease.Result.Connection!;
            picked.Pool.Return(connection);
            picked.OnRequestEnd();
        }

        for (var i = 0; i < 100; i++)
        {
            Cycle(state);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            Cycle(state);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(1, endpoint.ConnectionsOpened);
    }
}
