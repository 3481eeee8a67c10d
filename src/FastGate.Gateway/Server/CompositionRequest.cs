using System.Buffers;
using System.Text;
using FastGate.Gateway.Composition;
using FastGate.Gateway.Model;
using FastGate.Gateway.Pipeline;
using FastGate.Gateway.Routing;
using FastGate.Gateway.Security;
using FastGate.Protocols.Buffers;
using FastGate.Protocols.Http1;
using FastGate.Protocols.Text;

namespace FastGate.Gateway.Server;

/// <summary>
/// What a composed request (aggregate or batch) derives from the client's request, whatever protocol
/// carried it: HTTP/1.1 connections and HTTP/2 streams build the same part requests, the same batch
/// credentials and the same problem for a failed required part from their <see cref="RequestHead"/>.
/// </summary>
internal static class CompositionRequest
{
    /// <summary>The parts of an aggregate, each an upstream exchange carrying the client's common fields.</summary>
    public static MergePart[] Parts(GatewayRuntime runtime, AggregateModel aggregate, RequestHead request, RouteValues values, ClientPeer peer, byte[] commonFields)
    {
        var partRequest = new PartRequest(request.Path.ToArray(), values, request.Query.ToArray(), commonFields);
        var parts = new MergePart[aggregate.Parts.Count];
        for (int i = 0; i < parts.Length; i++)
        {
            var part = aggregate.Parts[i];
            var upstream = runtime.Upstreams.Get(part.Upstream);
            var source = new UpstreamPartSource(upstream, part, partRequest, peer.HashKey(upstream.Model, request).ToArray());
            parts[i] = new MergePart(part.MemberPrefix, part.KeyJson, part.Required, source);
        }

        return parts;
    }

    /// <summary>
    /// The field lines every part carries, rendered once: the client's Authorization, the forwarded
    /// claims of its validated token, X-Forwarded-*, X-Request-Id and traceparent.
    /// </summary>
    public static byte[] CommonPartFields(RequestHead request, ClientPeer peer, RoutePolicy? policy, JwtValidationContext? validated, ReadOnlySpan<byte> requestId)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        var cursor = new BufferCursor(buffer, 512);
        var authorization = request.Find(KnownHeader.Authorization);
        if (!authorization.IsEmpty)
        {
            cursor.WriteField("Authorization"u8, authorization);
        }

        if (validated is { } claims && policy is not null)
        {
            Span<byte> value = stackalloc byte[512];
            foreach (var forwarded in policy.ForwardClaims)
            {
                if (claims.Claims.TryGetClaim(forwarded.Claim, out var claim) && claim.TryWriteHeaderValue(value, out int written))
                {
                    cursor.WriteField(forwarded.Header, value[..written]);
                }
            }
        }

        // X-Forwarded-For: a trusted proxy's list is extended, anyone else's is replaced.
        cursor.Write("X-Forwarded-For: "u8);
        if (peer.IsTrustedProxy && request.ForwardedForIndex >= 0)
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

        cursor.Write(peer.Text);
        cursor.Write(request.IsHttps ? "\r\nX-Forwarded-Proto: https\r\n"u8 : "\r\nX-Forwarded-Proto: http\r\n"u8);
        if (!request.Authority.IsEmpty)
        {
            cursor.WriteField("X-Forwarded-Host"u8, request.Authority);
        }

        cursor.WriteField("X-Request-Id"u8, requestId);
        if (request.TraceparentIndex >= 0)
        {
            cursor.WriteField("traceparent"u8, request.HeaderValue(request.TraceparentIndex));
        }

        cursor.Write("Accept: application/json\r\n"u8);
        cursor.Commit();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>What each batch item inherits: the batch's Host, Authorization, the X-Forwarded-For a trusted proxy sent, traceparent.</summary>
    public static BatchCredentials BatchCredentials(RequestHead request, ClientPeer peer, ReadOnlySpan<byte> requestId)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        var cursor = new BufferCursor(buffer, 256);
        var authorization = request.Find(KnownHeader.Authorization);
        if (!authorization.IsEmpty)
        {
            cursor.WriteField("Authorization"u8, authorization);
        }

        // The internal connection has the batch client's address as its peer; with the same X-Forwarded-For
        // from the same (trusted) peer it finds the same client address.
        if (peer.IsTrustedProxy)
        {
            for (int i = 0; i < request.HeaderCount; i++)
            {
                if (request.Header(i).Kind == KnownHeader.XForwardedFor)
                {
                    cursor.WriteField("X-Forwarded-For"u8, request.HeaderValue(i));
                }
            }
        }

        if (request.TraceparentIndex >= 0)
        {
            cursor.WriteField("traceparent"u8, request.HeaderValue(request.TraceparentIndex));
        }

        cursor.Commit();
        return new BatchCredentials(request.Authority.ToArray(), buffer.WrittenSpan.ToArray(), requestId.ToArray(), peer.RemoteEndPoint);
    }

    /// <summary>Parses a batch body: the problem that refuses it, or null with the items as internal requests.</summary>
    public static GatewayProblem? ParseBatch(ReadOnlySpan<byte> body, BatchModel batch, BatchCredentials credentials, out byte[][] requests) =>
        BatchRunner.Parse(body, batch.MaxRequests, credentials, out requests) switch
        {
            BatchParse.Malformed => GatewayProblem.MalformedBatch,
            BatchParse.TooMany => GatewayProblem.BatchTooLarge,
            _ => null,
        };

    /// <summary>The detail of the 502 for a required part that failed before the answer began: it names the part.</summary>
    public static byte[] FailedPartDetail(AggregateModel aggregate, MergeResult result)
    {
        var failed = aggregate.Parts[result.FailedPart];
        var detail = result.FailedHead.Failure == PartFailure.Status
            ? $"Required part '{failed.Key}' failed: the upstream answered {result.FailedHead.Status}."
            : $"Required part '{failed.Key}' failed: {Encoding.ASCII.GetString(ResponseMerger.ReasonOf(result.FailedHead.Failure))}.";
        return Encoding.ASCII.GetBytes(detail);
    }
}
