using FastGate.Admin;
using FastGate.Gateway.Configuration;
using FastGate.Gateway.Model;
using FastGate.Gateway.Pipeline;
using FastGate.Gateway.Transport;
using FastGate.Server.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FastGate.Server;

/// <summary>
/// Hosts the gateway in Kestrel: one connection-handler listener per <c>[server] listen</c> address and
/// per <c>[[server.tls]]</c> listener (TLS terminated by Kestrel), and the admin API on its own listener. Used by the CLI, the demo and the functional tests.
/// </summary>
internal sealed class GatewayHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private readonly ILoggerFactory _policyLoggers;

    private readonly EpollLoopGroup? _loops;

    private GatewayHost(WebApplication app, GatewayRuntime runtime, ILoggerFactory policyLoggers, GatewayTransport transport, EpollLoopGroup? loops)
    {
        _app = app;
        _policyLoggers = policyLoggers;
        _loops = loops;
        Runtime = runtime;
        Transport = transport;
    }

    public GatewayRuntime Runtime { get; }

    /// <summary>The transport under every listener (gateway, TLS and admin).</summary>
    public GatewayTransport Transport { get; }

    /// <summary>Connections the epoll transport accepted; 0 over sockets.</summary>
    public long EpollConnectionsAccepted =>
        (_app.Services.GetService<IConnectionListenerFactory>() as EpollTransportFactory)?.Accepted ?? 0;

    /// <summary>Upstream connections opened on the epoll loops, and of those, on the loop of the client connection that asked; 0 over sockets.</summary>
    public (long Opened, long OnOwnLoop) EpollUpstreamConnections => (_loops?.UpstreamPicks ?? 0, _loops?.UpstreamPicksOwn ?? 0);

    /// <summary>Addresses actually bound (port 0 in the model becomes the port the OS chose).</summary>
    public IReadOnlyList<string> Addresses =>
        _app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses.ToArray() ?? [];

    /// <param name="transport">null: as FASTGATE_TRANSPORT says (<see cref="GatewayTransportSelection"/>)</param>
    public static GatewayHost Create(GatewayModel model, LogLevel logLevel = LogLevel.Warning, GatewayTransport? transport = null)
    {
        // Configuration comes from the route file alone: the host's default appsettings.json sources
        // would watch the working directory with a FileSystemWatcher thread, waking on every file
        // written there (logs, perf data) while the gateway is under load.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.Logging.ClearProviders();
        ScopelessLoggerProvider.AddSingleLineConsole(builder.Logging);
        builder.Logging.SetMinimumLevel(logLevel);
        // Key sets are loaded before the first request (a JWKS file or URL); the policies log through
        // a factory that lives as long as the host.
        var loggerFactory = LoggerFactory.Create(b => ScopelessLoggerProvider.AddSingleLineConsole(b).SetMinimumLevel(logLevel));
        string? refused = null;
        var chosen = transport ?? GatewayTransportSelection.FromEnvironment(out refused);
        if (refused is not null)
        {
            loggerFactory.CreateLogger("FastGate").LogWarning("{Refused}", refused);
        }

        // The epoll transport's loops pump the upstream connections too: a request and its upstream
        // exchange then run on one thread (perf-results/2026-11-26_epoll-transport.md).
        var loops = chosen == GatewayTransport.Epoll && OperatingSystem.IsLinux() ? new EpollLoopGroup(Environment.ProcessorCount) : null;
        var runtime = new GatewayRuntime(model, PolicySet.BuildAsync(model, loggerFactory.CreateLogger("FastGate")).GetAwaiter().GetResult(), loops);
        builder.Services.AddSingleton(runtime);

        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = model.Limits.ShutdownTimeout);
        if (loops is not null)
        {
            // Registered after Kestrel's own: Kestrel binds with the last factory that can bind.
            builder.Services.AddSingleton<IConnectionListenerFactory>(_ => new EpollTransportFactory(loops, ownsLoops: false));
        }
        else
        {
            chosen = GatewayTransport.Sockets;
            builder.WebHost.UseSockets(o =>
            {
                // The connection loop never blocks, so running its continuations on the socket's I/O
                // thread saves a thread-pool hop per read (measured in perf-results/).
                o.UnsafePreferInlineScheduling = true;
            });
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            foreach (var endpoint in model.Server.Listen)
            {
                kestrel.Listen(endpoint, listen => listen.UseConnectionHandler<GatewayConnectionHandler>());
            }

            foreach (var tls in model.Server.Tls)
            {
                var certificates = new TlsCertificateSource(runtime, tls);
                kestrel.Listen(tls.Listen, listen =>
                {
                    listen.UseHttps(new TlsHandshakeCallbackOptions
                    {
                        OnConnection = certificates.OnConnection,
                        HandshakeTimeout = model.Limits.RequestHeadTimeout,
                    });
                    listen.UseConnectionHandler<GatewayConnectionHandler>();
                });
            }

            if (model.Admin is { } admin)
            {
                kestrel.Listen(admin.Listen, listen => listen.Protocols = HttpProtocols.Http1);
            }
        });

        var app = builder.Build();
        if (model.Admin is not null)
        {
            AdminApi.Map(app, runtime);
        }

        app.Lifetime.ApplicationStopping.Register(runtime.BeginStopping);
        return new GatewayHost(app, runtime, loggerFactory, chosen, loops);
    }

    public Task StartAsync(CancellationToken cancellationToken = default) => _app.StartAsync(cancellationToken);

    /// <summary>
    /// After <see cref="StartAsync"/>: waits for SIGTERM/SIGINT, then drains: stop accepting, let
    /// requests in flight finish (bounded by shutdown_timeout), close idle keep-alive connections.
    /// </summary>
    public Task WaitForShutdownAsync() => _app.WaitForShutdownAsync();

    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync().ConfigureAwait(false);
        await Runtime.DisposeAsync().ConfigureAwait(false);
        // After the runtime: closing its upstream connections hands their fds to the loops to close.
        _loops?.Dispose();
        _policyLoggers.Dispose();
    }

    /// <summary>Reloads the route file the model came from; a bad file keeps the last good model.</summary>
    public static async Task<IReadOnlyList<ConfigError>> ReloadAsync(GatewayRuntime runtime, ILogger logger)
    {
        var path = runtime.Model.SourcePath;
        if (path is null)
        {
            return [new ConfigError("(built-in)", 1, 1, "this configuration has no file to reload")];
        }

        var result = GatewayConfigLoader.LoadFile(path);
        if (result.Model is { } model)
        {
            runtime.Apply(model, await PolicySet.BuildAsync(model, logger).ConfigureAwait(false));
        }

        return result.Errors;
    }
}
