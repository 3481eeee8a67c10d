namespace FastGate.Server.Transport;

/// <summary>Which transport carries the gateway's listeners.</summary>
internal enum GatewayTransport
{
    /// <summary>Kestrel's System.Net.Sockets transport.</summary>
    Sockets,

    /// <summary>The gateway's own epoll loops (<see cref="EpollTransportFactory"/>); Linux only.</summary>
    Epoll,
}

internal static class GatewayTransportSelection
{
    public const string EnvironmentVariable = "FASTGATE_TRANSPORT";

    /// <summary>
    /// FASTGATE_TRANSPORT=epoll|sockets; unset means epoll on Linux (measured cheaper per request on every
    /// load scenario, perf-results/2026-11-26_epoll-transport.md) and sockets elsewhere. Epoll is only
    /// possible on Linux; asked for elsewhere, or for a value that is neither, the answer is the
    /// platform's default and <paramref name="refused"/> says why.
    /// </summary>
    public static GatewayTransport FromEnvironment(out string? refused)
    {
        refused = null;
        var platformDefault = OperatingSystem.IsLinux() ? GatewayTransport.Epoll : GatewayTransport.Sockets;
        var value = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrEmpty(value))
        {
            return platformDefault;
        }

        if (value.Equals("sockets", StringComparison.OrdinalIgnoreCase))
        {
            return GatewayTransport.Sockets;
        }

        if (!value.Equals("epoll", StringComparison.OrdinalIgnoreCase))
        {
            refused = $"{EnvironmentVariable}={value} is neither 'epoll' nor 'sockets'; using {(platformDefault == GatewayTransport.Epoll ? "epoll" : "sockets")}";
            return platformDefault;
        }

        if (!OperatingSystem.IsLinux())
        {
            refused = $"{EnvironmentVariable}=epoll needs Linux; using sockets";
            return GatewayTransport.Sockets;
        }

        return GatewayTransport.Epoll;
    }
}
