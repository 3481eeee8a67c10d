using System.Net.WebSockets;
using System.Text;
using FastGate.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FastGate.FunctionalTests.Proxy;

/// <summary>Issue 2, point 3: Upgrade (WebSocket) is tunnelled both ways after a 101 from the upstream.</summary>
public sealed class UpgradeTests
{
    private static Task<TestBackend> StartEchoSocketAsync() => TestBackend.StartAsync(app =>
    {
        app.UseWebSockets();
        app.Map("/ws", async (HttpContext context) =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = 400;
                return;
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[4096];
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                    return;
                }

                await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, CancellationToken.None);
            }
        });
    });

    [Fact]
    public async Task WebSocket_messages_are_tunnelled_both_ways()
    {
        await using var backend = await StartEchoSocketAsync();
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var client = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));

        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{gateway.Port}/ws"), timeout.Token);
        var buffer = new byte[4096];
        foreach (var text in new[] { "hello", "second message", new string('x', 3000) })
        {
            await client.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
            var received = await client.ReceiveAsync(buffer.AsMemory(), timeout.Token);
            int count = received.Count;
            while (!received.EndOfMessage)
            {
                received = await client.ReceiveAsync(buffer.AsMemory(count), timeout.Token);
                count += received.Count;
            }

            Assert.Equal(WebSocketMessageType.Text, received.MessageType);
            Assert.Equal(text, Encoding.UTF8.GetString(buffer, 0, count));
        }

        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
        Assert.Equal(WebSocketState.Closed, client.State);
        Assert.Equal(1, backend.Requests);
    }

    [Fact]
    public async Task Upgrade_refused_by_the_upstream_is_an_ordinary_answer_and_the_connection_goes_on()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var connection = gateway.Connect();

        // The echo backend ignores the upgrade and answers 200: nothing is tunnelled.
        connection.Send("GET /plain HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: something\r\n\r\n");
        var response = connection.ReadResponse();
        connection.Send("GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
        var next = connection.ReadResponse();

        Assert.Equal(200, response.Status);
        Assert.Equal("GET /plain", response.BodyText);
        Assert.Equal("GET /next", next.BodyText);
        var seen = backend.Seen.ToArray();
        Assert.Equal("something", seen[0].Headers["Upgrade"]);
        Assert.False(seen[1].Headers.ContainsKey("Upgrade"));
    }
}
