using System.Net.Security;
using FastGate.Gateway.Pipeline;
using FastGate.Gateway.Server;
using Microsoft.AspNetCore.Connections;

namespace FastGate.Server;

/// <summary>
/// Kestrel hands every accepted connection of a gateway listener here; no ASP.NET middleware,
/// routing or HttpContext is involved on the request path.
/// </summary>
internal sealed class GatewayConnectionHandler(GatewayRuntime runtime) : ConnectionHandler
{
    /// <summary>What a TLS listener offers by ALPN (RFC 7301), in the server's order of preference.</summary>
    public static readonly List<SslApplicationProtocol> AlpnProtocols = [SslApplicationProtocol.Http11];

    public override Task OnConnectedAsync(ConnectionContext connection) =>
        new Http1Connection(runtime, connection).RunAsync();
}
