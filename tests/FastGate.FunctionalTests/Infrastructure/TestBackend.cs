using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FastGate.FunctionalTests.Infrastructure;

/// <summary>What a backend saw of one request.</summary>
internal sealed record SeenRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, byte[] Body);

/// <summary>
/// A real Kestrel backend on a loopback port, counting the requests and TCP connections that reach it
/// and recording what each request carried.
/// </summary>
internal sealed class TestBackend : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _connections;
    private int _requests;

    private TestBackend(WebApplication app) => _app = app;

    public int Port { get; private set; }

    public string Address => $"127.0.0.1:{Port}";

    /// <summary>TCP connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Requests whose head reached the application so far.</summary>
    public int Requests => Volatile.Read(ref _requests);

    public ConcurrentQueue<SeenRequest> Seen { get; } = new();

    /// <param name="map">the backend's endpoints; by default every request is echoed as text</param>
    public static async Task<TestBackend> StartAsync(Action<WebApplication>? map = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        TestBackend? self = null;
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = null;
            k.Listen(System.Net.IPAddress.Loopback, 0, listen => listen.Use(next => async connection =>
            {
                Interlocked.Increment(ref self!._connections);
                await next(connection).ConfigureAwait(false);
            }));
        });
        var app = builder.Build();
        self = new TestBackend(app);
        app.Use(async (context, next) =>
        {
            Interlocked.Increment(ref self._requests);
            await next(context).ConfigureAwait(false);
        });
        if (map is null)
        {
            app.Map("/{**path}", (Delegate)self.EchoAsync);
        }
        else
        {
            map(app);
        }

        await app.StartAsync().ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        self.Port = new Uri(address).Port;
        return self;
    }

    /// <summary>Answers "METHOD PATH?QUERY" and records the request with its body.</summary>
    public async Task EchoAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body).ConfigureAwait(false);
        Record(context.Request, body.ToArray());
        context.Response.ContentType = "text/plain";
        await context.Response.WriteAsync($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}").ConfigureAwait(false);
    }

    public void Record(HttpRequest request, byte[] body)
    {
        var headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        Seen.Enqueue(new SeenRequest(request.Method, request.Path + request.QueryString, headers, body));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
