using System.Net;
using FastGate.Gateway.Model;
using FastGate.Gateway.Pipeline;
using FastGate.Protocols.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace FastGate.Gateway.Server;

/// <summary>
/// The peer of one client connection, whatever protocol it speaks: its address formatted once for
/// X-Forwarded-For, its raw bytes for the hash balancer and the IP filter, and whether it is a trusted
/// proxy whose X-Forwarded-For is believed. Read-only after construction, so the streams of one HTTP/2
/// connection share it.
/// </summary>
internal sealed class ClientPeer
{
    // Inline in this object rather than two arrays: it lives as long as its connection, and the two array
    // headers and references were 64 B of every idle connection. 64 bytes hold the longest IPv6 text (45)
    // with a numeric scope id ("%4294967295").
    private TextBytes _text;
    private readonly int _textLength;
    private AddressBytes _bytes;
    private readonly int _bytesLength;

    public ClientPeer(GatewayRuntime runtime, ConnectionContext context)
    {
        IsHttps = context.Features.Get<ITlsHandshakeFeature>() is not null;
        RemoteEndPoint = context.RemoteEndPoint;
        if (context.RemoteEndPoint is IPEndPoint peer)
        {
            var address = peer.Address.IsIPv4MappedToIPv6 ? peer.Address.MapToIPv4() : peer.Address;
            address.TryFormat(_text, out _textLength);
            address.TryWriteBytes(_bytes, out _bytesLength);
            foreach (var network in runtime.Model.Server.TrustedProxies)
            {
                if (network.Contains(address))
                {
                    IsTrustedProxy = true;
                    break;
                }
            }
        }
        else
        {
            "unknown"u8.CopyTo(_text);
            _textLength = 7;
        }
    }

    public bool IsTrustedProxy { get; }

    /// <summary>The transport's remote end point, handed to the internal connections of a batch.</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>The connection came over TLS: its requests' scheme is https (X-Forwarded-Proto).</summary>
    public bool IsHttps { get; }

    /// <summary>The peer's address as text, for X-Forwarded-For.</summary>
    public ReadOnlySpan<byte> Text => ((ReadOnlySpan<byte>)_text)[.._textLength];

    /// <summary>The peer's address as 4 or 16 bytes (empty for a non-IP transport).</summary>
    public ReadOnlySpan<byte> Bytes => ((ReadOnlySpan<byte>)_bytes)[.._bytesLength];

    /// <summary>
    /// The client's address: the peer, or when the peer is a trusted proxy, the last address its
    /// X-Forwarded-For names (the one the trusted proxy saw).
    /// </summary>
    public ReadOnlySpan<byte> ClientAddress(RequestHead request)
    {
        if (IsTrustedProxy && request.ForwardedForIndex >= 0)
        {
            int last = request.ForwardedForIndex;
            for (int i = last + 1; i < request.HeaderCount; i++)
            {
                if (request.Header(i).Kind == KnownHeader.XForwardedFor)
                {
                    last = i;
                }
            }

            var list = request.HeaderValue(last);
            int comma = list.LastIndexOf((byte)',');
            var lastHop = Ascii8.TrimOws(comma < 0 ? list : list[(comma + 1)..]);
            if (!lastHop.IsEmpty)
            {
                return lastHop;
            }
        }

        return Bytes;
    }

    /// <summary>The bytes the hash balancer hashes: a header's value or the client's address.</summary>
    public ReadOnlySpan<byte> HashKey(UpstreamModel upstream, RequestHead request)
    {
        if (upstream.Balance != BalanceMode.Hash)
        {
            return default;
        }

        if (upstream.HashKey == HashKeyKind.Header && upstream.HashHeader is { } name)
        {
            for (int i = 0; i < request.HeaderCount; i++)
            {
                if (System.Text.Ascii.EqualsIgnoreCase(request.HeaderName(i), name))
                {
                    return request.HeaderValue(i);
                }
            }

            return default;
        }

        return ClientAddress(request);
    }

    [System.Runtime.CompilerServices.InlineArray(64)]
    private struct TextBytes
    {
        private byte _element;
    }

    [System.Runtime.CompilerServices.InlineArray(16)]
    private struct AddressBytes
    {
        private byte _element;
    }
}
