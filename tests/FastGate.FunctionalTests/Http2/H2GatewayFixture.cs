using FastGate.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FastGate.FunctionalTests.Http2;

/// <summary>
/// One gateway in front of one backend, shared by the protocol tests of a class: each test opens its
/// own HTTP/2 connections. The backend echoes by default; /slow waits a second, /big answers 200 KB,
/// /chunked answers a body of unknown length.
/// </summary>
public class H2GatewayFixture : IAsyncLifetime
{
    internal TestBackend Backend { get; private set; } = null!;

    internal TestGateway Gateway { get; private set; } = null!;

    public int Port => Gateway.Port;

    /// <summary>The connection still answers a request (the echo backend) after a test's frames.</summary>
    internal static void AssertStillServes(H2RawClient client, int streamId)
    {
        client.SendHeaders(streamId, H2RawClient.Get("/after"));
        Assert.Equal("GET /after", client.ReadResponse(streamId).BodyText);
    }

    /// <summary>The body /big answers: 200,000 bytes of a repeating pattern.</summary>
    public static readonly byte[] BigBody = Enumerable.Range(0, 200_000).Select(i => (byte)('a' + (i % 26))).ToArray();

    public async Task InitializeAsync()
    {
        TestBackend? backend = null;
        backend = await TestBackend.StartAsync(app =>
        {
            app.Map("/slow", async (HttpContext context) =>
            {
                await Task.Delay(1000).ConfigureAwait(false);
                await backend!.EchoAsync(context).ConfigureAwait(false);
            });
            app.Map("/big", async (HttpContext context) =>
            {
                context.Response.ContentLength = BigBody.Length;
                await context.Response.Body.WriteAsync(BigBody).ConfigureAwait(false);
            });
            app.Map("/chunked", async (HttpContext context) =>
            {
                await context.Response.WriteAsync("part one, ").ConfigureAwait(false);
                await context.Response.Body.FlushAsync().ConfigureAwait(false);
                await context.Response.WriteAsync("part two").ConfigureAwait(false);
            });
            app.Map("/{**path}", (HttpContext context) => backend!.EchoAsync(context));
        });
        Backend = backend;
        Gateway = await TestGateway.StartAsync(TestGateway.ProxyRoutes([backend]), limits: Limits);
    }

    /// <summary>The [limits] section; small so that each limit is quick to reach.</summary>
    protected virtual string Limits => """
        [limits]
        max_request_head = "8KiB"
        max_request_body = "1MiB"
        request_head_timeout = "2s"
        idle_timeout = "3s"
        h2_max_concurrent_streams = 4
        """;

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Backend.DisposeAsync();
    }
}
