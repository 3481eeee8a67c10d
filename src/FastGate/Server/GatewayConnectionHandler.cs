using System.Net.Security;
using FastGate.Gateway.Pipeline;
using FastGate.Gateway.Server;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace FastGate.Server;

/// <summary>
/// Kestrel hands every accepted connection of a gateway listener here; no ASP.NET middleware,
/// routing or HttpContext is involved on the request path. Over TLS the protocol is the one ALPN
/// negotiated (RFC 9113 section 3.2: h2 over TLS is only ever chosen by ALPN). A cleartext connection
/// speaks HTTP/2 when it opens with the HTTP/2 preface (prior knowledge, RFC 9113 section 3.3),
/// HTTP/1.1 otherwise.
/// </summary>
internal sealed class GatewayConnectionHandler(GatewayRuntime runtime) : ConnectionHandler
{
    /// <summary>What a TLS listener offers by ALPN (RFC 7301), in the server's order of preference.</summary>
    public static readonly List<SslApplicationProtocol> AlpnProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11];

    public override Task OnConnectedAsync(ConnectionContext connection)
    {
        if (connection.Features.Get<ITlsApplicationProtocolFeature>() is { } tls)
        {
            // No sniffing over TLS: the handshake already chose, and a client without ALPN speaks HTTP/1.1.
            return tls.ApplicationProtocol.Span.SequenceEqual(SslApplicationProtocol.Http2.Protocol.Span)
                ? new Http2Connection(runtime, connection).RunAsync()
                : new Http1Connection(runtime, connection).RunAsync();
        }

        // Cleartext: HTTP/1.1 decides by the first bytes whether the client speaks HTTP/2 with prior knowledge.
        return new Http1Connection(runtime, connection, sniffsHttp2Preface: true).RunAsync();
    }
}
