using System.Net;
using System.Net.Sockets;
using FastGate.Gateway.Configuration;
using FastGate.Gateway.Tests.Tls;
using FastGate.Server;
using FastGate.Server.Transport;

namespace FastGate.FunctionalTests.Infrastructure;

/// <summary>The real gateway, in this process, on a loopback port, driven by a route file text.</summary>
internal sealed class TestGateway : IAsyncDisposable
{
    private readonly GatewayHost _host;

    private TestGateway(GatewayHost host, int port, int adminPort, int tlsPort)
    {
        _host = host;
        Port = port;
        AdminPort = adminPort;
        TlsPort = tlsPort;
    }

    public int Port { get; }

    /// <summary>The [[server.tls]] listener's port; 0 when the gateway was started without certificates.</summary>
    public int TlsPort { get; }

    public int AdminPort { get; }

    public GatewayHost Host => _host;

    public Uri BaseUri => new($"http://127.0.0.1:{Port}");

    /// <summary>
    /// Starts the gateway on <paramref name="routes"/>: the TOML after the [server] section, where
    /// "{name}" placeholders are replaced from <paramref name="ports"/>. <paramref name="limits"/> is a
    /// whole [limits] section; <paramref name="server"/> holds extra lines for the [server] section.
    /// With <paramref name="tls"/>, a [[server.tls]] listener on <see cref="TlsPort"/> serves its certificate.
    /// <paramref name="transport"/> null: as FASTGATE_TRANSPORT says.
    /// </summary>
    public static async Task<TestGateway> StartAsync(string routes, IReadOnlyDictionary<string, string>? ports = null, string? limits = null, string? server = null,
        TestCertificates? tls = null, GatewayTransport? transport = null)
    {
        int port = FreePort();
        int adminPort = FreePort();
        int tlsPort = tls is null ? 0 : FreePort();
        var tlsSection = tls is null ? "" : $"""
            [[server.tls]]
            listen = "127.0.0.1:{tlsPort}"
            certificate = "{tls.CertificatePath}"
            key = "{tls.KeyPath}"
            """;
        var text = $"""
            [server]
            listen = ["127.0.0.1:{port}"]
            {server ?? ""}
            {tlsSection}

            [admin]
            listen = "127.0.0.1:{adminPort}"
            token_env = "FASTGATE_TEST_ADMIN_TOKEN"

            {limits ?? ""}

            {routes}
            """;
        foreach (var (name, value) in ports ?? new Dictionary<string, string>())
        {
            text = text.Replace("{" + name + "}", value, StringComparison.Ordinal);
        }

        var result = GatewayConfigLoader.LoadText(text, "test.toml");
        if (result.Model is null)
        {
            throw new InvalidOperationException("route file refused:\n" + string.Join('\n', result.Errors) + "\n" + text);
        }

        var host = GatewayHost.Create(result.Model, transport: transport);
        await host.StartAsync().ConfigureAwait(false);
        return new TestGateway(host, port, adminPort, tlsPort);
    }

    /// <summary>A route file with one upstream and one catch-all route to it.</summary>
    public static Task<TestGateway> StartProxyAsync(params TestBackend[] backends) =>
        StartAsync(ProxyRoutes(backends));

    public static string ProxyRoutes(TestBackend[] backends, string extraUpstream = "", string extraRoute = "") => $"""
        [upstreams.backend]
        endpoints = [{string.Join(", ", backends.Select(b => $"\"{b.Address}\""))}]
        {extraUpstream}

        [[routes]]
        name = "all"
        match = {"{"} path = "/{"{"}*rest{"}"}" {"}"}
        upstream = "backend"
        {extraRoute}
        """;

    public HttpClient CreateClient() => new() { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(30) };

    public RawConnection Connect() => RawConnection.Open(Port);

    /// <summary>
    /// A loopback port that refuses connections for as long as the socket lives: bound, never listening,
    /// so no other test can take it (a port that is merely free now may be a listener a moment later).
    /// </summary>
    public static Socket RefusingPort(out int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        return socket;
    }

    /// <summary>
    /// A loopback port that is free now and that no other caller in this process was given: the kernel
    /// may hand a just-released port out again, and one gateway once got the same port for its listener
    /// and its admin API.
    /// </summary>
    public static int FreePort()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (HandedOut)
            {
                if (HandedOut.Add(port))
                {
                    return port;
                }
            }
        }
    }

    private static readonly HashSet<int> HandedOut = [];

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _host.StopAsync(stop.Token).ConfigureAwait(false);
        await _host.DisposeAsync().ConfigureAwait(false);
    }
}
