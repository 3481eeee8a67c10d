using System.Globalization;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

// Usage: yarp-peer [--port 8084] [--h2c-port 8094] [--backend http://127.0.0.1:9000]
// (or YARP_PORT, YARP_H2C_PORT, YARP_BACKEND). --port speaks HTTP/1.1, --h2c-port HTTP/2 with prior
// knowledge: without TLS (so without ALPN) a Kestrel Http1AndHttp2 endpoint answers HTTP/1.1 only,
// an h2c client needs an Http2-only endpoint.
var port = Option(args, "--port", "YARP_PORT", "8084");
var h2cPort = Option(args, "--h2c-port", "YARP_H2C_PORT", "");
var backend = Option(args, "--backend", "YARP_BACKEND", "http://127.0.0.1:9000");

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.Logging.AddConsole();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    kestrel.Limits.MaxConcurrentConnections = null;
    kestrel.Limits.MaxConcurrentUpgradedConnections = null;
    kestrel.Limits.Http2.MaxStreamsPerConnection = 100;
    kestrel.ListenLocalhostOrAddress(port, HttpProtocols.Http1);
    if (h2cPort.Length > 0)
    {
        kestrel.ListenLocalhostOrAddress(h2cPort, HttpProtocols.Http2);
    }
});

var routes = new[]
{
    new RouteConfig
    {
        RouteId = "all",
        ClusterId = "backend",
        Match = new RouteMatch { Path = "{**catch-all}" },
    },
};
var clusters = new[]
{
    new ClusterConfig
    {
        ClusterId = "backend",
        Destinations = new Dictionary<string, DestinationConfig>(StringComparer.Ordinal)
        {
            ["b1"] = new DestinationConfig { Address = backend },
        },
        // HTTP/1.1 to the backend, like the other peers (nginx and HAProxy pool HTTP/1.1 connections).
        HttpRequest = new ForwarderRequestConfig
        {
            Version = new Version(1, 1),
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        },
        HttpClient = new HttpClientConfig { MaxConnectionsPerServer = 256 },
    },
};
builder.Services.AddReverseProxy().LoadFromMemory(routes, clusters);

var app = builder.Build();
app.MapReverseProxy();
app.Run();

static string Option(string[] args, string name, string env, string fallback)
{
    for (var i = 0; i < args.Length - 1; i++)
    {
        if (args[i] == name)
        {
            return args[i + 1];
        }
    }

    return Environment.GetEnvironmentVariable(env) ?? fallback;
}

internal static class KestrelListenExtensions
{
    // A bare port listens on loopback (the comparison never leaves the machine); "ADDR:PORT" binds ADDR.
    public static void ListenLocalhostOrAddress(this KestrelServerOptions kestrel, string value, HttpProtocols protocols)
    {
        var colon = value.LastIndexOf(':');
        if (colon < 0)
        {
            kestrel.Listen(System.Net.IPAddress.Loopback, int.Parse(value, CultureInfo.InvariantCulture), o => o.Protocols = protocols);
            return;
        }

        var address = System.Net.IPAddress.Parse(value.AsSpan(0, colon).Trim("[]"));
        kestrel.Listen(address, int.Parse(value.AsSpan(colon + 1), CultureInfo.InvariantCulture), o => o.Protocols = protocols);
    }
}
