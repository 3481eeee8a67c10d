using System.Buffers;
using System.Net.Security;
using FastGate.Gateway.Pipeline;
using FastGate.Gateway.Server;
using FastGate.Gateway.Transport;
using FastGate.Server.Transport;
using FastGate.Protocols.Http2;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
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

        return SniffAndRunAsync(connection);
    }

    private async Task SniffAndRunAsync(ConnectionContext connection)
    {
        // Kestrel starts this on a thread-pool thread. On the epoll transport the connection moves to
        // its loop first: a first request whose bytes have already arrived would otherwise run here,
        // and open its upstream connection on another loop than the one serving its client.
        var loop = connection.Features.Get<IEpollLoopFeature>()?.Loop;
        if (loop is not null)
        {
            await loop.SwitchTo();
        }

        var sniffer = new Sniffer(connection, runtime.Model.Limits.RequestHeadTimeout);
        runtime.Heartbeat.Add(sniffer);
        // A drain (SIGTERM) closes a connection that has not said a byte yet, as an idle one.
        var lifetime = connection.Features.Get<IConnectionLifetimeNotificationFeature>();
        bool? http2;
        using (lifetime is null ? default : lifetime.ConnectionClosedRequested.UnsafeRegister(static state => ((Sniffer)state!).Stop(), sniffer))
        {
            try
            {
                http2 = await StartsWithPrefaceAsync(connection).ConfigureAwait(false);
            }
            finally
            {
                runtime.Heartbeat.Remove(sniffer);
            }
        }

        if (http2 is null || (sniffer.Stopped && http2 == false))
        {
            // Silent until the request head timeout: nothing to answer (as HTTP/1.1 does when idle).
            await connection.Transport.Output.CompleteAsync().ConfigureAwait(false);
            await connection.Transport.Input.CompleteAsync().ConfigureAwait(false);
            return;
        }

        if (http2.Value)
        {
            await new Http2Connection(runtime, connection, loop).RunAsync().ConfigureAwait(false);
        }
        else
        {
            await new Http1Connection(runtime, connection).RunAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Bounds the wait for the first bytes by the request head timeout, or ends it on a drain.</summary>
    private sealed class Sniffer(ConnectionContext connection, TimeSpan timeout) : IHeartbeatClient
    {
        private readonly long _deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        private volatile bool _stopped;

        public bool Stopped => _stopped;

        public void OnHeartbeat(long now)
        {
            if (now > _deadline && !_stopped)
            {
                Stop();
            }
        }

        public void Stop()
        {
            _stopped = true;
            connection.Transport.Input.CancelPendingRead();
        }
    }

    /// <summary>
    /// Peeks at the first bytes without consuming them: decided as soon as a byte differs from the
    /// preface (an HTTP/1.1 request line differs at its first byte unless its method is "PRI"), so
    /// HTTP/1.1 is never delayed; a close or timeout while undecided goes to HTTP/1.1, which handles it.
    /// </summary>
    /// <returns>null when the client closed or stalled before a byte decided</returns>
    private static async ValueTask<bool?> StartsWithPrefaceAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        while (true)
        {
            var result = await input.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            var verdict = Compare(buffer);
            // Nothing consumed; everything examined unless more bytes are needed to decide.
            input.AdvanceTo(buffer.Start, verdict == null ? buffer.End : buffer.Start);
            if (verdict is not null)
            {
                return verdict;
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                // A prefix of the preface, then silence or a close: HTTP/1.1 answers that as it would.
                return buffer.IsEmpty ? null : false;
            }
        }
    }

    /// <summary>True: the preface; false: something else; null: a prefix of the preface so far.</summary>
    private static bool? Compare(in ReadOnlySequence<byte> buffer)
    {
        var preface = Http2Protocol.ClientPreface;
        int offset = 0;
        foreach (var segment in buffer)
        {
            var span = segment.Span;
            int length = Math.Min(span.Length, preface.Length - offset);
            if (!span[..length].SequenceEqual(preface.Slice(offset, length)))
            {
                return false;
            }

            offset += length;
            if (offset == preface.Length)
            {
                return true;
            }
        }

        return null;
    }
}
