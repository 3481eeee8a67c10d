using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using FastGate.Gateway.Model;
using FastGate.Gateway.Routing;

namespace FastGate.Gateway.Tests.Upstream;

internal static class UpstreamTestKit
{
    public static EndpointModel Endpoint(IPEndPoint address, int weight = 1) =>
        new() { Address = address, Authority = address.ToString(), Weight = weight };

    public static EndpointModel Endpoint(int port, int weight = 1) => Endpoint(new IPEndPoint(IPAddress.Loopback, port), weight);

    public static UpstreamModel NewUpstream(
        string name,
        IReadOnlyList<EndpointModel> endpoints,
        BalanceMode balance = BalanceMode.RoundRobin,
        int maxConnections = 16,
        TimeSpan? idleTimeout = null,
        TimeSpan? connectTimeout = null,
        TimeSpan? markDownFor = null,
        HealthModel? health = null) => new()
        {
            Name = name,
            Endpoints = endpoints,
            Balance = balance,
            Pool = new PoolModel { MaxConnections = maxConnections, IdleTimeout = idleTimeout ?? TimeSpan.FromSeconds(90) },
            ConnectTimeout = connectTimeout ?? TimeSpan.FromSeconds(2),
            MarkDownFor = markDownFor ?? TimeSpan.FromSeconds(5),
            Health = health,
        };

    public static GatewayModel NewGateway(params UpstreamModel[] upstreams) => new()
    {
        Server = new ServerModel { Listen = [], TrustedProxies = [] },
        Limits = new LimitsModel(),
        Upstreams = upstreams.ToDictionary(u => u.Name),
        Routes = [],
        Table = RouteTable.Build([], out _),
    };

    /// <summary>A loopback port nothing listens on (bound, then released).</summary>
    public static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Polls a condition until it holds or the deadline passes (no fixed sleeps in assertions).</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, int timeoutMs = 5000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (Environment.TickCount64 < deadline)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(10);
        }

        return condition();
    }
}

/// <summary>A raw TCP backend on a loopback port 0 that accepts and keeps every connection.</summary>
internal sealed class TcpBackend : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly Func<Socket, CancellationToken, Task>? _handler;

    public TcpBackend(Func<Socket, CancellationToken, Task>? handler = null)
    {
        _handler = handler;
        _listener.Start();
        Address = (IPEndPoint)_listener.LocalEndpoint;
        _acceptLoop = AcceptLoopAsync();
    }

    public IPEndPoint Address { get; }

    public ConcurrentQueue<Socket> Accepted { get; } = new();

    public int AcceptedCount => Accepted.Count;

    /// <summary>The server side of the n-th accepted connection, once the accept loop has it.</summary>
    public async Task<Socket> AcceptedAtAsync(int index)
    {
        Assert.True(await UpstreamTestKit.EventuallyAsync(() => Accepted.Count > index), $"connection {index} was never accepted");
        return Accepted.ElementAt(index);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _acceptLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        foreach (var socket in Accepted)
        {
            socket.Dispose();
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var socket = await _listener.AcceptSocketAsync(_stop.Token);
            Accepted.Enqueue(socket);
            if (_handler is not null)
            {
                _ = Task.Run(() => _handler(socket, _stop.Token));
            }
        }
    }
}
