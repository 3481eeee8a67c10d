using System.Net.Sockets;
using FastGate.Gateway.Model;
using FastGate.Gateway.Upstream;
using static FastGate.Gateway.Tests.Upstream.UpstreamTestKit;

namespace FastGate.Gateway.Tests.Upstream;

public sealed class UpstreamRegistryTests
{
    [Fact]
    public async Task Get_returns_one_state_per_upstream_and_allocates_nothing()
    {
        var users = NewUpstream("users", [Endpoint(9001), Endpoint(9002)]);
        var orders = NewUpstream("orders", [Endpoint(9003)], balance: BalanceMode.LeastRequests);
        await using var registry = new UpstreamRegistry();
        registry.Apply(NewGateway(users, orders));

        var state = registry.Get(users);
        Assert.Same(users, state.Model);
        Assert.Same(state, registry.Get(users));
        Assert.Equal(2, state.Endpoints.Count);
        Assert.Equal(9003, registry.Get(orders).Endpoints[0].Model.Address.Port);

        registry.Get(users);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            registry.Get(users);
            registry.Get(orders);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public async Task Reload_keeps_unchanged_endpoints_and_closes_removed_ones_gracefully()
    {
        await using var kept = new TcpBackend();
        await using var removed = new TcpBackend();
        var v1 = NewUpstream("users", [Endpoint(kept.Address), Endpoint(removed.Address)]);
        await using var registry = new UpstreamRegistry();
        registry.Apply(NewGateway(v1));
        var oldState = registry.Get(v1);
        var keptEndpoint = oldState.Endpoints[0];
        var removedEndpoint = oldState.Endpoints[1];

        var idle = (await keptEndpoint.Pool.LeaseAsync(CancellationToken.None)).Connection!;
        keptEndpoint.Pool.Return(idle);
        keptEndpoint.OnRequestStart();
        var inFlight = (await removedEndpoint.Pool.LeaseAsync(CancellationToken.None)).Connection!;

        var newPort = ClosedPort();
        var v2 = NewUpstream("users", [Endpoint(newPort), Endpoint(kept.Address, weight: 5)], balance: BalanceMode.Weighted);
        registry.Apply(NewGateway(v2));
        var newState = registry.Get(v2);

        Assert.Same(v2, newState.Model);
        Assert.Same(keptEndpoint, newState.Endpoints[1]);
        Assert.Equal(5, keptEndpoint.Model.Weight);
        Assert.Equal(1, keptEndpoint.ActiveRequests);
        Assert.Equal(1, keptEndpoint.Pool.IdleCount);
        Assert.Equal(newPort, newState.Endpoints[0].Model.Address.Port);

        // A request still holding the old model is served the current state of the same upstream.
        Assert.Same(newState, registry.Get(v1));

        // The removed endpoint's connection in flight finishes, then closes instead of going idle.
        Assert.False(inFlight.IsClosed);
        removedEndpoint.Pool.Return(inFlight);
        Assert.True(inFlight.IsClosed);
        Assert.Equal(0, removedEndpoint.Pool.IdleCount);
        await kept.AcceptedAtAsync(0);
        var server = await removed.AcceptedAtAsync(0);
        Assert.Equal(0, await server.ReceiveAsync(new byte[1]).WaitAsync(TimeSpan.FromSeconds(5)));

        // The kept endpoint's warm connection is still reused.
        var again = await keptEndpoint.Pool.LeaseAsync(CancellationToken.None);
        Assert.Same(idle, again.Connection);
    }

    [Fact]
    public async Task Changing_the_pool_size_swaps_the_pool_and_old_leases_return_to_their_own()
    {
        await using var backend = new TcpBackend();
        var v1 = NewUpstream("u", [Endpoint(backend.Address)], maxConnections: 1);
        await using var registry = new UpstreamRegistry();
        registry.Apply(NewGateway(v1));
        var endpoint = registry.Get(v1).Endpoints[0];
        var oldPool = endpoint.Pool;
        var leased = (await oldPool.LeaseAsync(CancellationToken.None)).Connection!;

        registry.Apply(NewGateway(NewUpstream("u", [Endpoint(backend.Address)], maxConnections: 4)));

        Assert.NotSame(oldPool, endpoint.Pool);
        Assert.Equal(4, endpoint.Pool.MaxConnections);
        endpoint.Pool.Return(leased);
        Assert.True(leased.IsClosed);
        Assert.Equal(0, oldPool.LeasedCount);
        Assert.Equal(0, endpoint.Pool.LeasedCount);
    }

    [Fact]
    public async Task Removed_upstream_stays_reachable_from_its_old_model()
    {
        var gone = NewUpstream("gone", [Endpoint(9001)]);
        var stays = NewUpstream("stays", [Endpoint(9002)]);
        await using var registry = new UpstreamRegistry();
        registry.Apply(NewGateway(gone, stays));
        var goneState = registry.Get(gone);

        registry.Apply(NewGateway(stays));

        Assert.Same(goneState, registry.Get(gone));
        Assert.True(goneState.Endpoints[0].Pool.IsClosed);
        Assert.Throws<ArgumentException>(() => registry.Get(NewUpstream("never", [Endpoint(9003)])));
    }

    [Fact]
    public async Task Registry_sweep_closes_idle_connections_past_their_timeout()
    {
        await using var backend = new TcpBackend();
        var upstream = NewUpstream("u", [Endpoint(backend.Address)], idleTimeout: TimeSpan.FromMilliseconds(200));
        await using var registry = new UpstreamRegistry();
        registry.Apply(NewGateway(upstream));
        var endpoint = registry.Get(upstream).Endpoints[0];
        var connection = (await endpoint.Pool.LeaseAsync(CancellationToken.None)).Connection!;
        endpoint.Pool.Return(connection);
        Assert.Equal(1, endpoint.Pool.IdleCount);

        Assert.True(await EventuallyAsync(() => endpoint.Pool.IdleCount == 0));
        Assert.True(connection.IsClosed);
        var server = await backend.AcceptedAtAsync(0);
        Assert.Equal(0, await server.ReceiveAsync(new byte[1]).WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Disposing_the_registry_closes_every_pool()
    {
        await using var backend = new TcpBackend();
        var upstream = NewUpstream("u", [Endpoint(backend.Address)]);
        var registry = new UpstreamRegistry();
        registry.Apply(NewGateway(upstream));
        var endpoint = registry.Get(upstream).Endpoints[0];
        var connection = (await endpoint.Pool.LeaseAsync(CancellationToken.None)).Connection!;
        endpoint.Pool.Return(connection);

        await registry.DisposeAsync();

        Assert.True(connection.IsClosed);
        Assert.Throws<ObjectDisposedException>(() => registry.Apply(NewGateway(upstream)));
    }
}
