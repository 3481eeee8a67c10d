using System.Buffers;
using System.Buffers.Text;

namespace FastGate.Gateway.Pipeline;

/// <summary>Every answer the gateway makes itself. Each maps to one status, type and title.</summary>
internal enum GatewayProblem : byte
{
    MalformedRequest,
    UnsafePath,
    /// <summary>401: no bearer token, or one that failed validation.</summary>
    Unauthenticated,
    /// <summary>403: the token lacks a required scope, role or claim.</summary>
    InsufficientPermissions,
    /// <summary>403: the client address is not allowed on this route.</summary>
    AddressForbidden,
    /// <summary>429: the route's rate limit is exhausted for this key.</summary>
    TooManyRequests,
    NoRoute,
    MethodNotAllowed,
    RequestTimeout,
    BodyTooLarge,
    TargetTooLong,
    ExpectationFailed,
    HeadTooLarge,
    MethodNotImplemented,
    BadUpstreamAnswer,
    UpstreamUnreachable,
    NoHealthyEndpoint,
    PoolExhausted,
    UpstreamTimeout,
    /// <summary>502: a required part of an aggregate route failed (the detail names it).</summary>
    RequiredPartFailed,
    /// <summary>400: a batch body that is not a JSON array of items.</summary>
    MalformedBatch,
    /// <summary>413: more batch items than the route's max_requests.</summary>
    BatchTooLarge,
    /// <summary>400: a batch item that targets a batch route.</summary>
    NestedBatch,
}

/// <summary>
/// Writes gateway-made responses as <c>application/problem+json</c> (RFC 9457) with <c>type</c>,
/// <c>title</c>, <c>status</c>, <c>detail</c> and <c>instance</c> = the request id. All text is
/// pre-encoded; nothing is formatted through strings.
/// </summary>
internal static class ProblemResponse
{
    private readonly record struct Entry(int Status, byte[] StatusLine, byte[] Type, byte[] Title, byte[] Detail);

    private static readonly Entry[] Entries = Build();

    private static Entry[] Build()
    {
        var entries = new Entry[Enum.GetValues<GatewayProblem>().Length];
        void Add(GatewayProblem problem, int status, string reason, string type, string detail) =>
            entries[(int)problem] = new Entry(
                status,
                System.Text.Encoding.ASCII.GetBytes($"HTTP/1.1 {status} {reason}\r\n"),
                System.Text.Encoding.ASCII.GetBytes("https://fastgate.dev/problems/" + type),
                System.Text.Encoding.ASCII.GetBytes(reason),
                System.Text.Encoding.ASCII.GetBytes(detail));

        Add(GatewayProblem.MalformedRequest, 400, "Bad Request", "malformed-request", "The request is not valid HTTP/1.1 and was not forwarded.");
        Add(GatewayProblem.UnsafePath, 400, "Bad Request", "unsafe-path", "The request path is malformed or escapes the root.");
        Add(GatewayProblem.Unauthenticated, 401, "Unauthorized", "unauthenticated", "A valid bearer token is required.");
        Add(GatewayProblem.InsufficientPermissions, 403, "Forbidden", "insufficient-permissions", "The token does not grant access to this route.");
        Add(GatewayProblem.AddressForbidden, 403, "Forbidden", "address-forbidden", "Requests from this address are not allowed on this route.");
        Add(GatewayProblem.TooManyRequests, 429, "Too Many Requests", "rate-limited", "The rate limit for this route is exhausted; retry later.");
        Add(GatewayProblem.NoRoute, 404, "Not Found", "no-route", "No route matches this request.");
        Add(GatewayProblem.MethodNotAllowed, 405, "Method Not Allowed", "method-not-allowed", "The route does not accept this method.");
        Add(GatewayProblem.RequestTimeout, 408, "Request Timeout", "request-timeout", "The request head was not received in time.");
        Add(GatewayProblem.BodyTooLarge, 413, "Content Too Large", "body-too-large", "The request body exceeds the configured limit.");
        Add(GatewayProblem.TargetTooLong, 414, "URI Too Long", "target-too-long", "The request target exceeds the configured limit.");
        Add(GatewayProblem.ExpectationFailed, 417, "Expectation Failed", "expectation-failed", "Only the 100-continue expectation is supported.");
        Add(GatewayProblem.HeadTooLarge, 431, "Request Header Fields Too Large", "head-too-large", "The request head exceeds the configured limit.");
        Add(GatewayProblem.MethodNotImplemented, 501, "Not Implemented", "method-not-implemented", "This method is not supported by the gateway.");
        Add(GatewayProblem.BadUpstreamAnswer, 502, "Bad Gateway", "bad-upstream-answer", "The upstream service sent an invalid or incomplete answer.");
        Add(GatewayProblem.UpstreamUnreachable, 502, "Bad Gateway", "upstream-unreachable", "No endpoint of the upstream service accepted a connection.");
        Add(GatewayProblem.NoHealthyEndpoint, 503, "Service Unavailable", "no-healthy-endpoint", "No endpoint of the upstream service is available.");
        Add(GatewayProblem.PoolExhausted, 503, "Service Unavailable", "upstream-busy", "Every connection to the upstream service is busy.");
        Add(GatewayProblem.UpstreamTimeout, 504, "Gateway Timeout", "upstream-timeout", "The upstream service did not answer in time.");
        Add(GatewayProblem.RequiredPartFailed, 502, "Bad Gateway", "required-part-failed", "A required part of the aggregate failed.");
        Add(GatewayProblem.MalformedBatch, 400, "Bad Request", "malformed-batch", "The batch must be a JSON array of {\"method\", \"path\", \"headers\"?, \"body\"?} objects.");
        Add(GatewayProblem.BatchTooLarge, 413, "Content Too Large", "batch-too-large", "The batch has more items than this route's max_requests.");
        Add(GatewayProblem.NestedBatch, 400, "Bad Request", "nested-batch", "A batch item cannot target a batch route.");
        return entries;
    }

    public static int StatusOf(GatewayProblem problem) => Entries[(int)problem].Status;

    /// <summary>The problem's own detail text.</summary>
    public static ReadOnlySpan<byte> DetailOf(GatewayProblem problem) => Entries[(int)problem].Detail;

    /// <summary>Seconds a client should wait before retrying, for the statuses that carry Retry-After.</summary>
    public static int RetryAfterSeconds(GatewayProblem problem) => problem switch
    {
        GatewayProblem.NoHealthyEndpoint or GatewayProblem.PoolExhausted => 5,
        _ => 0,
    };

    /// <summary>Writes the whole response (head and body) without flushing.</summary>
    /// <param name="allow">for 405: the methods for the Allow field, comma-separated, or empty</param>
    /// <param name="extraFields">complete field lines ("Name: value\r\n") the answer carries, e.g. WWW-Authenticate</param>
    public static void Write(IBufferWriter<byte> output, GatewayProblem problem, ReadOnlySpan<byte> requestId, bool close, ReadOnlySpan<byte> allow = default, ReadOnlySpan<byte> extraFields = default) =>
        Write(output, problem, requestId, close, allow, extraFields, Entries[(int)problem].Detail);

    /// <summary>Writes the whole response with a detail of its own (e.g. naming the failed part), without flushing.</summary>
    /// <param name="detail">plain text; escaped for JSON here</param>
    public static void WriteWithDetail(IBufferWriter<byte> output, GatewayProblem problem, ReadOnlySpan<byte> requestId, bool close, ReadOnlySpan<byte> detail) =>
        Write(output, problem, requestId, close, default, default, detail);

    private static void Write(IBufferWriter<byte> output, GatewayProblem problem, ReadOnlySpan<byte> requestId, bool close, ReadOnlySpan<byte> allow, ReadOnlySpan<byte> extraFields, ReadOnlySpan<byte> detail)
    {
        ref readonly var entry = ref Entries[(int)problem];

        int bodyLength = BodyLength(problem, requestId, detail);

        int retryAfter = RetryAfterSeconds(problem);
        var span = output.GetSpan(512 + bodyLength + allow.Length + requestId.Length + extraFields.Length);
        int n = 0;
        Put(span, ref n, entry.StatusLine);
        Put(span, ref n, "Content-Type: application/problem+json\r\nContent-Length: "u8);
        Utf8Formatter.TryFormat(bodyLength, span[n..], out int written);
        n += written;
        Put(span, ref n, "\r\n"u8);
        if (close)
        {
            Put(span, ref n, "Connection: close\r\n"u8);
        }

        if (retryAfter > 0)
        {
            Put(span, ref n, "Retry-After: "u8);
            Utf8Formatter.TryFormat(retryAfter, span[n..], out written);
            n += written;
            Put(span, ref n, "\r\n"u8);
        }

        if (!allow.IsEmpty)
        {
            Put(span, ref n, "Allow: "u8);
            Put(span, ref n, allow);
            Put(span, ref n, "\r\n"u8);
        }

        Put(span, ref n, extraFields);
        if (!requestId.IsEmpty)
        {
            Put(span, ref n, "X-Request-Id: "u8);
            Put(span, ref n, requestId);
            Put(span, ref n, "\r\n"u8);
        }

        Put(span, ref n, "\r\n"u8);
        n += WriteBody(problem, requestId, detail, span[n..]);
        output.Advance(n);
    }

    /// <summary>The length of the problem document <see cref="WriteBody(GatewayProblem, ReadOnlySpan{byte}, Span{byte})"/> writes.</summary>
    public static int BodyLength(GatewayProblem problem, ReadOnlySpan<byte> requestId) =>
        BodyLength(problem, requestId, Entries[(int)problem].Detail);

    /// <summary>Writes the problem document (the body) into <paramref name="span"/>; returns its length.</summary>
    public static int WriteBody(GatewayProblem problem, ReadOnlySpan<byte> requestId, Span<byte> span) =>
        WriteBody(problem, requestId, Entries[(int)problem].Detail, span);

    /// <summary>The length of the problem document with a detail of its own.</summary>
    public static int BodyLength(GatewayProblem problem, ReadOnlySpan<byte> requestId, ReadOnlySpan<byte> detail)
    {
        ref readonly var entry = ref Entries[(int)problem];

        // {"type":"…","title":"…","status":NNN,"detail":"…","instance":"…"}
        // The request id is our own (hex) or a client's validated visible-ASCII value; it is escaped
        // anyway so the document stays valid JSON whatever it holds.
        return 9 + entry.Type.Length + 11 + entry.Title.Length + 11 + 3 + 11 + JsonEscapedLength(detail) + 14
            + JsonEscapedLength(requestId) + 2;
    }

    /// <summary>Writes the problem document with a detail of its own; returns its length.</summary>
    public static int WriteBody(GatewayProblem problem, ReadOnlySpan<byte> requestId, ReadOnlySpan<byte> detail, Span<byte> span)
    {
        ref readonly var entry = ref Entries[(int)problem];
        int n = 0;
        int written;
        Put(span, ref n, "{\"type\":\""u8);
        Put(span, ref n, entry.Type);
        Put(span, ref n, "\",\"title\":\""u8);
        Put(span, ref n, entry.Title);
        Put(span, ref n, "\",\"status\":"u8);
        Utf8Formatter.TryFormat(entry.Status, span[n..], out written);
        n += written;
        Put(span, ref n, ",\"detail\":\""u8);
        n += WriteJsonEscaped(detail, span[n..]);
        Put(span, ref n, "\",\"instance\":\""u8);
        n += WriteJsonEscaped(requestId, span[n..]);
        Put(span, ref n, "\"}"u8);
        System.Diagnostics.Debug.Assert(n == BodyLength(problem, requestId, detail), "problem body length");
        return n;
    }

    private static void Put(Span<byte> span, ref int n, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(span[n..]);
        n += bytes.Length;
    }

    private static int JsonEscapedLength(ReadOnlySpan<byte> value)
    {
        int length = value.Length;
        foreach (byte b in value)
        {
            if (b is (byte)'"' or (byte)'\\')
            {
                length++;
            }
        }

        return length;
    }

    private static int WriteJsonEscaped(ReadOnlySpan<byte> value, Span<byte> destination)
    {
        int n = 0;
        foreach (byte b in value)
        {
            if (b is (byte)'"' or (byte)'\\')
            {
                destination[n++] = (byte)'\\';
            }

            destination[n++] = b;
        }

        return n;
    }
}
