using System.Buffers;
using FastGate.Gateway.Model;
using FastGate.Gateway.Pipeline;
using FastGate.Gateway.Security;
using FastGate.Gateway.Routing;
using FastGate.Protocols.Buffers;
using FastGate.Protocols.Text;

namespace FastGate.Gateway.Server;

/// <summary>
/// Writes the HTTP/1.1 request head that goes upstream for a client's request: the (rewritten,
/// normalized) target with the client's query, Host, the end-to-end fields, X-Forwarded-*,
/// X-Request-Id and the gateway's own framing. One pass over the parsed fields, no allocation.
/// </summary>
internal static class UpstreamRequestWriter
{
    // Fields that never cross to the upstream as they were received (RFC 9110 section 7.6.1 for the
    // hop-by-hop ones); the gateway writes its own Host, framing, X-Forwarded-* and X-Request-Id.
    private static readonly bool[] SkipOnRequest = BuildSkip(
        KnownHeader.Host, KnownHeader.Connection, KnownHeader.KeepAlive, KnownHeader.ProxyConnection, KnownHeader.TE,
        KnownHeader.Trailer, KnownHeader.TransferEncoding, KnownHeader.Upgrade, KnownHeader.ContentLength,
        KnownHeader.Expect, KnownHeader.XForwardedFor, KnownHeader.XForwardedProto, KnownHeader.XForwardedHost,
        KnownHeader.XRequestId);

    private static bool IsForwardedClaimHeader(ForwardedClaim[] forwardClaims, ReadOnlySpan<byte> name)
    {
        foreach (var forwarded in forwardClaims)
        {
            if (Ascii8.EqualsIgnoreCase(name, forwarded.Header))
            {
                return true;
            }
        }

        return false;
    }

    public static bool[] BuildSkip(params KnownHeader[] kinds)
    {
        var skip = new bool[Enum.GetValues<KnownHeader>().Length];
        foreach (var kind in kinds)
        {
            skip[(int)kind] = true;
        }

        return skip;
    }

    public static void WriteHead(IBufferWriter<byte> output, RequestHead request, RouteModel route, in RouteValues values, EndpointModel endpoint, ReadOnlySpan<byte> peer, bool peerIsTrustedProxy, ReadOnlySpan<byte> requestId,
        RoutePolicy? policy = null, JwtValidationContext? claims = null)
    {
        var cursor = new BufferCursor(output, 1024);
        cursor.Write(request.Method);
        cursor.Write((byte)' ');
        if (route.Rewrite is { } rewrite)
        {
            WriteRewrittenTarget(ref cursor, request, rewrite, values);
        }
        else
        {
            cursor.Write(request.Path);
            cursor.Write(request.Query);
        }

        cursor.Write(" HTTP/1.1\r\nHost: "u8);
        var authority = request.Authority;
        if (route.PreserveHost && !authority.IsEmpty)
        {
            cursor.Write(authority);
        }
        else
        {
            cursor.Write(endpoint.AuthorityBytes);
        }

        cursor.Write("\r\n"u8);

        var skip = SkipOnRequest;
        bool checkConnectionList = request.ConnectionListsOtherNames;
        var forwardClaims = policy is null ? [] : policy.ForwardClaims;
        for (int i = 0; i < request.HeaderCount; i++)
        {
            var kind = request.Header(i).Kind;
            if (skip[(int)kind])
            {
                continue;
            }

            var name = request.HeaderName(i);
            if (checkConnectionList && request.IsListedInConnection(name))
            {
                continue;
            }

            // The headers that forward_claims fills are always taken from the token, never the client.
            if (forwardClaims.Length > 0 && IsForwardedClaimHeader(forwardClaims, name))
            {
                continue;
            }

            cursor.WriteField(name, request.HeaderValue(i));
        }

        if (claims is not null)
        {
            Span<byte> value = stackalloc byte[512];
            foreach (var forwarded in forwardClaims)
            {
                if (claims.Claims.TryGetClaim(forwarded.Claim, out var claim) && claim.TryWriteHeaderValue(value, out int written))
                {
                    cursor.WriteField(forwarded.Header, value[..written]);
                }
            }
        }

        // X-Forwarded-For: a trusted proxy's list is extended, anyone else's is replaced.
        cursor.Write("X-Forwarded-For: "u8);
        if (peerIsTrustedProxy && request.ForwardedForIndex >= 0)
        {
            for (int i = request.ForwardedForIndex; i < request.HeaderCount; i++)
            {
                if (request.Header(i).Kind == KnownHeader.XForwardedFor)
                {
                    cursor.Write(request.HeaderValue(i));
                    cursor.Write(", "u8);
                }
            }
        }

        cursor.Write(peer);
        cursor.Write(request.IsHttps ? "\r\nX-Forwarded-Proto: https\r\n"u8 : "\r\nX-Forwarded-Proto: http\r\n"u8);
        if (!authority.IsEmpty)
        {
            cursor.WriteField("X-Forwarded-Host"u8, authority);
        }

        cursor.WriteField("X-Request-Id"u8, requestId);
        if (request.IsUpgrade)
        {
            cursor.Write("Connection: Upgrade\r\n"u8);
            cursor.WriteField("Upgrade"u8, request.HeaderValue(request.UpgradeIndex));
        }

        if (request.IsChunked)
        {
            cursor.Write("Transfer-Encoding: chunked\r\n"u8);
        }
        else if (request.ContentLength >= 0)
        {
            cursor.Write("Content-Length: "u8);
            cursor.WriteDecimal(request.ContentLength);
            cursor.Write("\r\n"u8);
        }

        cursor.Write("\r\n"u8);
        cursor.Commit();
    }

    private static void WriteRewrittenTarget(ref BufferCursor cursor, RequestHead request, RewriteTemplate rewrite, in RouteValues values)
    {
        // The rewritten path is never longer than the template plus the captured bytes, which are
        // part of the path.
        int size = rewrite.Text.Length + request.Path.Length + 16;
        var span = cursor.Reserve(size);
        int written = rewrite.Write(span, request.Path, values);
        cursor.Advance(written < 0 ? 0 : written);
        var query = request.Query;
        if (!query.IsEmpty)
        {
            if (rewrite.HasQuery)
            {
                cursor.Write((byte)'&');
                cursor.Write(query[1..]);
            }
            else
            {
                cursor.Write(query);
            }
        }
    }
}
