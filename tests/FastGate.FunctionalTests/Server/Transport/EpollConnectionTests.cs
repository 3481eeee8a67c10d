using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using FastGate.Server.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace FastGate.FunctionalTests.Server.Transport;

/// <summary>
/// The epoll transport on its own, without Kestrel or the gateway: a listener from the factory, an
/// echo app on the accepted connection, and a plain socket client.
/// </summary>
[Collection(nameof(Performance.AllocationCounting))]
public sealed class EpollConnectionTests
{
    [Fact]
    public async Task An_accepted_connection_carries_its_endpoints_and_the_features_kestrel_asks_for()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // epoll is Linux only
        }

        await using var accepted = await AcceptedPair.OpenAsync();
        var (factory, listener, client, connection) = (accepted.Factory, accepted.Listener, accepted.Client, accepted.Connection);

        Assert.Equal(client.LocalEndPoint, connection.RemoteEndPoint);
        Assert.Equal(client.RemoteEndPoint, connection.LocalEndPoint);
        Assert.NotEqual(0, ((IPEndPoint)listener.EndPoint).Port);
        Assert.Same(factory.Pool, connection.Features.Get<IMemoryPoolFeature>()!.MemoryPool);
        Assert.Same(connection.Transport, connection.Features.Get<IConnectionTransportFeature>()!.Transport);
        Assert.Equal(connection.ConnectionId, connection.Features.Get<IConnectionIdFeature>()!.ConnectionId);
        Assert.NotNull(connection.Features.Get<IConnectionLifetimeFeature>());
        Assert.NotNull(connection.Features.Get<IConnectionItemsFeature>());
        Assert.NotNull(connection.Features.Get<IConnectionEndPointFeature>());
        Assert.Equal(1, factory.Accepted);
    }

    [Fact]
    public async Task Features_set_by_others_take_precedence_over_the_connections_own_and_enumerate_once()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // epoll is Linux only
        }

        await using var accepted = await AcceptedPair.OpenAsync();
        var features = accepted.Connection.Features;
        int revision = features.Revision;
        var items = new ItemsFeature();

        features.Set<IConnectionItemsFeature>(items);
        features.Set<IConnectionEndPointFeature>(null);
        features.Set<IConnectionHeartbeatFeature>(null);

        Assert.Same(items, features.Get<IConnectionItemsFeature>());
        Assert.Null(features.Get<IConnectionEndPointFeature>());
        Assert.Null(features[typeof(IConnectionEndPointFeature)]);
        Assert.Same(accepted.Connection, features.Get<IConnectionIdFeature>());
        Assert.Null(features.Get<IConnectionHeartbeatFeature>());
        Assert.Equal(revision + 3, features.Revision);
        var listed = features.ToDictionary(pair => pair.Key, pair => pair.Value);
        Assert.Same(items, listed[typeof(IConnectionItemsFeature)]);
        Assert.Same(accepted.Connection, listed[typeof(IMemoryPoolFeature)]);
        Assert.False(listed.ContainsKey(typeof(IConnectionEndPointFeature)));
        Assert.False(listed.ContainsKey(typeof(IConnectionHeartbeatFeature)));
        Assert.Equal(features.Count(), listed.Count);
    }

    [Fact]
    public async Task More_set_features_than_the_inline_slots_hold_are_all_kept_and_replaced_in_place()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // epoll is Linux only
        }

        await using var accepted = await AcceptedPair.OpenAsync();
        var features = accepted.Connection.Features;
        var first = new ItemsFeature();
        var second = new ItemsFeature();
        var third = new ItemsFeature();
        // Kestrel's four, then two more: the fifth and sixth go past the four slots.
        features.Set<IConnectionHeartbeatFeature>(null);
        features.Set<IConnectionCompleteFeature>(null);
        features.Set<IConnectionLifetimeNotificationFeature>(null);
        features.Set<IConnectionUserFeature>(null);
        features.Set<IConnectionItemsFeature>(first);
        features.Set<IStreamDirectionFeature>(null);

        features.Set<IConnectionItemsFeature>(second);
        features.Set<IConnectionHeartbeatFeature>(null);
        features.Set<IConnectionUserFeature>(null);
        Assert.Same(second, features.Get<IConnectionItemsFeature>());
        features.Set<IConnectionItemsFeature>(third);

        Assert.Same(third, features.Get<IConnectionItemsFeature>());
        Assert.Null(features.Get<IConnectionHeartbeatFeature>());
        Assert.Same(accepted.Connection, features.Get<IConnectionIdFeature>());
        var listed = features.ToList();
        Assert.Single(listed, pair => pair.Key == typeof(IConnectionItemsFeature));
        Assert.Same(third, listed.Single(pair => pair.Key == typeof(IConnectionItemsFeature)).Value);
        Assert.DoesNotContain(listed, pair => pair.Key == typeof(IConnectionHeartbeatFeature));
    }

    [Fact]
    public async Task A_client_fin_completes_the_input_and_fires_connection_closed_while_output_still_flows()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // epoll is Linux only
        }

        await using var accepted = await AcceptedPair.OpenAsync();
        var (client, connection) = (accepted.Client, accepted.Connection);
        var closed = WhenClosed(connection);

        await client.SendAsync("last words"u8.ToArray());
        client.Shutdown(SocketShutdown.Send);
        var input = await ReadToEndAsync(connection.Transport.Input);
        await closed.WaitAsync(TimeSpan.FromSeconds(5));
        // Half-closed: the answer still reaches the client, then the FIN.
        await connection.Transport.Output.WriteAsync("answer"u8.ToArray());
        await connection.Transport.Output.CompleteAsync();

        Assert.Equal("last words"u8.ToArray(), input);
        Assert.Equal("answer"u8.ToArray(), await ReceiveToEndAsync(client));
    }

    [Fact]
    public async Task Abort_ends_the_connection_and_the_apps_read_sees_the_reason()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // epoll is Linux only
        }

        await using var accepted = await AcceptedPair.OpenAsync();
        var (client, connection) = (accepted.Client, accepted.Connection);
        var closed = WhenClosed(connection);

        var reason = new ConnectionAbortedException("test abort");
        connection.Abort(reason);

        var thrown = await Assert.ThrowsAsync<ConnectionAbortedException>(async () => await ReadToEndAsync(connection.Transport.Input));
        Assert.Same(reason, thrown);
        await closed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Empty(await ReceiveToEndAsync(client));
    }

    /// <summary>A small request, and 64 KiB ones: large blocks, reads that fill them, multi-segment sends.</summary>
    [Theory]
    [InlineData(300, 10_000)]
    [InlineData(64 * 1024, 1_000)]
    public async Task Echoing_a_warm_connection_allocates_nothing_per_exchange(int size, int measured)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // epoll is Linux only
        }

        await using var accepted = await AcceptedPair.OpenAsync();
        var (client, connection) = (accepted.Client, accepted.Connection);
        var echo = EchoAsync(connection.Transport);
        var request = new byte[size];
        var response = new byte[size];
        Random.Shared.NextBytes(request);

        // A dedicated thread with blocking socket calls: the client itself allocates nothing.
        long allocated = long.MaxValue;
        var thread = new Thread(() =>
        {
            Exchange(client, request, response, 2 * measured);
            Thread.Sleep(500);
            for (int window = 0; window < 3; window++)
            {
                long before = GC.GetTotalAllocatedBytes(precise: true);
                Exchange(client, request, response, measured);
                allocated = Math.Min(allocated, GC.GetTotalAllocatedBytes(precise: true) - before);
            }
        });
        thread.Start();
        thread.Join();
        client.Shutdown(SocketShutdown.Send);
        await echo.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(request, response);
        // A per-exchange allocation would show as at least 24 bytes per exchange.
        Assert.True(allocated < measured, $"{allocated} bytes allocated over {measured} exchanges");
    }

    private static void Exchange(Socket client, byte[] request, byte[] response, int count)
    {
        for (int i = 0; i < count; i++)
        {
            client.Send(request);
            int received = 0;
            while (received < response.Length)
            {
                received += client.Receive(response.AsSpan(received));
            }
        }
    }

    private static async Task EchoAsync(IDuplexPipe transport)
    {
        while (true)
        {
            var result = await transport.Input.ReadAsync();
            foreach (var segment in result.Buffer)
            {
                transport.Output.Write(segment.Span);
            }

            transport.Input.AdvanceTo(result.Buffer.End);
            await transport.Output.FlushAsync();
            if (result.IsCompleted)
            {
                await transport.Output.CompleteAsync();
                await transport.Input.CompleteAsync();
                return;
            }
        }
    }

    /// <summary>Completes when the transport fires the connection's ConnectionClosed token.</summary>
    private static Task WhenClosed(ConnectionContext connection)
    {
        var closed = new TaskCompletionSource();
        connection.ConnectionClosed.Register(() => closed.TrySetResult());
        return closed.Task;
    }

    /// <summary>A one-loop transport, its listener, a connected plain client, and the connection it accepted.</summary>
    private sealed record AcceptedPair(EpollTransportFactory Factory, IConnectionListener Listener, Socket Client, ConnectionContext Connection)
        : IAsyncDisposable
    {
        public static async Task<AcceptedPair> OpenAsync()
        {
            var factory = new EpollTransportFactory(1);
            var listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0));
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            // Synchronously: an async operation would turn the socket non-blocking for good, and .NET then
            // emulates every blocking call with an allocated operation (the allocation test's client).
            client.Connect(listener.EndPoint);
            return new AcceptedPair(factory, listener, client, (await listener.AcceptAsync())!);
        }

        public async ValueTask DisposeAsync()
        {
            await Connection.DisposeAsync();
            Client.Dispose();
            await Listener.DisposeAsync();
            Factory.Dispose();
        }
    }

    private static async Task<byte[]> ReadToEndAsync(PipeReader input)
    {
        while (true)
        {
            var result = await input.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            if (result.IsCompleted)
            {
                var bytes = result.Buffer.ToArray();
                input.AdvanceTo(result.Buffer.End);
                return bytes;
            }

            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    private static async Task<byte[]> ReceiveToEndAsync(Socket client)
    {
        using var received = new MemoryStream();
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        while (true)
        {
            int read;
            try
            {
                read = await client.ReceiveAsync(buffer, timeout.Token);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                return received.ToArray();
            }

            if (read == 0)
            {
                return received.ToArray();
            }

            received.Write(buffer, 0, read);
        }
    }

    private sealed class ItemsFeature : IConnectionItemsFeature
    {
        public IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();
    }
}
