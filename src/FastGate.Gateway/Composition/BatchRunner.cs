using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using FastGate.Gateway.Pipeline;
using FastGate.Gateway.Server;
using FastGate.Gateway.Upstream;
using FastGate.Protocols.Http1;
using FastGate.Protocols.Text;
using Microsoft.AspNetCore.Connections;

namespace FastGate.Gateway.Composition;

internal enum BatchParse : byte
{
    Ok,
    /// <summary>Not a JSON array of <c>{method, path, headers?, body?}</c> objects (400).</summary>
    Malformed,
    /// <summary>More items than max_requests (413).</summary>
    TooMany,
}

/// <summary>What the items of a batch inherit from the batch request: its credentials and identity.</summary>
/// <param name="Host">the batch request's Host</param>
/// <param name="Fields">complete "Name: value\r\n" lines: Authorization, X-Forwarded-For, traceparent</param>
/// <param name="RequestId">the batch's request id; item i gets "ID-i"</param>
/// <param name="RemoteEndPoint">the batch client's address, so that IP filters and rate limits see it</param>
internal sealed record BatchCredentials(byte[] Host, byte[] Fields, byte[] RequestId, EndPoint? RemoteEndPoint);

/// <summary>
/// Runs a batch: each item goes through the gateway's own route table and policies as an internal
/// HTTP/1.1 request on an <see cref="Http1Connection"/> over an in-memory duplex pipe, whose remote
/// address is the batch client's. Items thus get exactly the parsing, routing, phases (IP filter, rate
/// limit, JWT with the batch's Authorization), cache and retries of external requests; none of that is
/// written twice. Each answer is read back with the strict response parser and written as
/// <c>{"status":…,"headers":{…},"body":…}</c>, in request order, as soon as it and the ones before it
/// are done.
/// </summary>
/// <remarks>
/// Memory: an item's answer is collected whole (bounded by <see cref="MaxItemAnswer"/>) because the
/// body is written as a JSON value or a JSON string depending on what it turns out to be; at most
/// <c>max_concurrency</c> items are running or waiting for their turn to be written, so a batch holds at
/// most that many answers.
/// NOTE: dispatching items straight to ForwardAsync would skip the phases or duplicate them; an internal
/// connection costs two pipes and a connection object per item, which a batch (not the proxy hot path)
/// can afford.
/// </remarks>
internal sealed class BatchRunner(GatewayRuntime runtime, IStreamingBodySink sink)
{
    /// <summary>Bound of one item's answer (head and body) as collected for the array.</summary>
    public const int MaxItemAnswer = 1024 * 1024;

    private const int MaxItemHead = 64 * 1024;

    private static readonly JsonEncodedText StatusName = JsonEncodedText.Encode("status");

    /// <summary>Request fields an item may not set: framing and connection handling are the gateway's, credentials the batch's.</summary>
    private static readonly string[] s_reservedFields =
    [
        "host", "authorization", "connection", "content-length", "transfer-encoding", "keep-alive", "proxy-connection",
        "te", "trailer", "upgrade", "expect", "x-forwarded-for", "x-request-id",
    ];

    /// <summary>Parses and renders the items of a batch body as internal HTTP/1.1 requests.</summary>
    public static BatchParse Parse(ReadOnlySpan<byte> body, int maxRequests, BatchCredentials credentials, out byte[][] requests)
    {
        requests = [];
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!JsonDocument.TryParseValue(ref reader, out var parsed) || parsed is null)
            {
                return BatchParse.Malformed;
            }

            document = parsed;
        }
        catch (JsonException)
        {
            return BatchParse.Malformed;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Array)
            {
                return BatchParse.Malformed;
            }

            int count = root.GetArrayLength();
            if (count > maxRequests)
            {
                return BatchParse.TooMany;
            }

            if (count == 0)
            {
                return BatchParse.Malformed;
            }

            var rendered = new byte[count][];
            int index = 0;
            foreach (var item in root.EnumerateArray())
            {
                if (Render(item, index, credentials) is not { } request)
                {
                    return BatchParse.Malformed;
                }

                rendered[index++] = request;
            }

            requests = rendered;
            return BatchParse.Ok;
        }
    }

    private static byte[]? Render(JsonElement item, int index, BatchCredentials credentials)
    {
        if (item.ValueKind != JsonValueKind.Object
            || !item.TryGetProperty("method", out var method) || method.ValueKind != JsonValueKind.String
            || !item.TryGetProperty("path", out var path) || path.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        var methodText = method.GetString()!;
        var pathText = path.GetString()!;
        if (!Configuration.HttpTokens.IsToken(methodText) || pathText.Length == 0 || pathText[0] != '/' || pathText.Any(c => c <= ' ' || c >= '\u007f'))
        {
            return null;
        }

        foreach (var property in item.EnumerateObject())
        {
            if (property.Name is not ("method" or "path" or "headers" or "body"))
            {
                return null;
            }
        }

        byte[] body = [];
        bool bodyIsJson = false;
        if (item.TryGetProperty("body", out var bodyElement) && bodyElement.ValueKind != JsonValueKind.Null)
        {
            // A string is the body's text; any other value is sent as the JSON it is.
            bodyIsJson = bodyElement.ValueKind != JsonValueKind.String;
            body = bodyIsJson ? Encoding.UTF8.GetBytes(bodyElement.GetRawText()) : Encoding.UTF8.GetBytes(bodyElement.GetString()!);
        }

        var head = new StringBuilder();
        head.Append(methodText).Append(' ').Append(pathText).Append(" HTTP/1.1\r\n");
        bool hasContentType = false;
        if (item.TryGetProperty("headers", out var headers))
        {
            if (headers.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            foreach (var header in headers.EnumerateObject())
            {
                if (header.Value.ValueKind != JsonValueKind.String || !Configuration.HttpTokens.IsToken(header.Name))
                {
                    return null;
                }

                // Field values are visible ASCII, spaces and tabs (RFC 9110 section 5.5): no line breaks to smuggle fields.
                var value = header.Value.GetString()!;
                if (value.Any(c => c is < ' ' and not '\t' || c >= '\u007f'))
                {
                    return null;
                }

                if (s_reservedFields.Contains(header.Name.ToLowerInvariant()))
                {
                    continue;
                }

                hasContentType |= header.Name.Equals("content-type", StringComparison.OrdinalIgnoreCase);
                head.Append(header.Name).Append(": ").Append(value).Append("\r\n");
            }
        }

        if (bodyIsJson && !hasContentType)
        {
            head.Append("Content-Type: application/json\r\n");
        }

        if (body.Length > 0)
        {
            head.Append("Content-Length: ").Append(body.Length).Append("\r\n");
        }

        var id = Encoding.ASCII.GetString(credentials.RequestId) + "-" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        head.Append("X-Request-Id: ").Append(id).Append("\r\nConnection: close\r\n");
        var headBytes = Encoding.ASCII.GetBytes(head.ToString());
        return [.. headBytes[..headBytes.IndexOf("\r\n"u8)], .. "\r\nHost: "u8, .. credentials.Host, .. "\r\n"u8,
            .. credentials.Fields, .. headBytes[(headBytes.IndexOf("\r\n"u8) + 2)..], .. "\r\n"u8, .. body];
    }

    /// <summary>Runs the items, writing the array to the sink. False when the client went away.</summary>
    public async Task<bool> RunAsync(byte[][] requests, BatchCredentials credentials, int maxConcurrency, CancellationToken aborted)
    {
        using var slots = new SemaphoreSlim(maxConcurrency, maxConcurrency);
        var answers = new Task<(byte[] Json, bool HeldSlot)>[requests.Length];
        for (int i = 0; i < requests.Length; i++)
        {
            // Started in order: each waits for a slot at once, so slots go to items in request order.
            answers[i] = RunItemAsync(requests[i], credentials.RemoteEndPoint, slots, aborted);
        }

        sink.StartResponse();
        sink.Write("["u8);
        bool clientOk = await sink.FlushAsync().ConfigureAwait(false);
        for (int i = 0; i < answers.Length; i++)
        {
            var (answer, heldSlot) = await answers[i].ConfigureAwait(false);

            // A slot is given back once its answer is written: answers waiting for their turn count against the bound.
            if (heldSlot)
            {
                slots.Release();
            }

            if (!clientOk)
            {
                continue;
            }

            if (i > 0)
            {
                sink.Write(","u8);
            }

            sink.Write(answer);
            clientOk = await sink.FlushAsync().ConfigureAwait(false);
        }

        if (!clientOk)
        {
            return false;
        }

        sink.Write("]"u8);
        return await sink.CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>One item through an internal connection; its answer as the JSON of one array element.</summary>
    private async Task<(byte[] Json, bool HeldSlot)> RunItemAsync(byte[] request, EndPoint? remote, SemaphoreSlim slots, CancellationToken aborted)
    {
        try
        {
            await slots.WaitAsync(aborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return (Failed("cancelled"u8), false);
        }

        var toGateway = new Pipe();
        var fromGateway = new Pipe();
        var context = new DefaultConnectionContext(
            "batch-item", new DuplexPipe(toGateway.Reader, fromGateway.Writer), new DuplexPipe(fromGateway.Reader, toGateway.Writer))
        {
            RemoteEndPoint = remote,
        };
        var connection = new Http1Connection(runtime, context) { IsBatchItem = true };
        var running = connection.RunAsync();
        var collected = new ArrayBufferWriter<byte>(4096);
        bool tooLarge = false;
        try
        {
            await toGateway.Writer.WriteAsync(request, aborted).ConfigureAwait(false);
            await toGateway.Writer.CompleteAsync().ConfigureAwait(false);
            while (true)
            {
                var result = await fromGateway.Reader.ReadAsync(aborted).ConfigureAwait(false);
                foreach (var segment in result.Buffer)
                {
                    if (collected.WrittenCount + segment.Length > MaxItemAnswer)
                    {
                        tooLarge = true;
                        break;
                    }

                    collected.Write(segment.Span);
                }

                fromGateway.Reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || tooLarge)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return (Failed("cancelled"u8), true);
        }
        finally
        {
            // Stops the internal connection if it is still reading or writing (cancelled, or past the bound).
            await toGateway.Writer.CompleteAsync().ConfigureAwait(false);
            await fromGateway.Reader.CompleteAsync().ConfigureAwait(false);
            await running.ConfigureAwait(false);
        }

        return (tooLarge ? Failed("answer-too-large"u8) : Answer(new ReadOnlySequence<byte>(collected.WrittenMemory)), true);
    }

    /// <summary>An item that has no answer to show: status 0 and why.</summary>
    private static byte[] Failed(ReadOnlySpan<byte> reason) =>
        [.. "{\"status\":0,\"headers\":{},\"body\":null,\"error\":\""u8, .. reason, .. "\"}"u8];

    /// <summary>Reads an internal answer with the strict response parser and renders it as an array element.</summary>
    internal static byte[] Answer(ReadOnlySequence<byte> raw)
    {
        var head = new ResponseHead();
        head.Begin(MaxItemHead);
        try
        {
            var reader = new SequenceReader<byte>(raw);
            var handler = new ResponseHeadHandler(head);
            if (!Http1ResponseParser.TryParseStatusLine(ref handler, ref reader) || !Http1ResponseParser.TryParseHeaders(ref handler, ref reader) || head.IsMalformed)
            {
                return Failed("bad-answer"u8);
            }

            var rest = raw.Slice(reader.Position);
            byte[] body;
            switch (head.Framing(requestWasHead: false))
            {
                case ResponseFraming.NoBody:
                    body = [];
                    break;
                case ResponseFraming.ContentLength:
                    if (rest.Length < head.ContentLength)
                    {
                        return Failed("bad-answer"u8);
                    }

                    body = rest.Slice(0, head.ContentLength).ToArray();
                    break;
                case ResponseFraming.Chunked:
                    var decoded = new ArrayBufferWriter<byte>();
                    var decoder = default(Http1ChunkedDecoder);
                    var chunks = new SequenceReader<byte>(rest);
                    Http1ChunkedStatus status;
                    while ((status = decoder.Read(ref chunks, out var data)) == Http1ChunkedStatus.Data)
                    {
                        foreach (var segment in data)
                        {
                            decoded.Write(segment.Span);
                        }
                    }

                    if (status != Http1ChunkedStatus.Completed)
                    {
                        return Failed("bad-answer"u8);
                    }

                    body = decoded.WrittenSpan.ToArray();
                    break;
                default:
                    body = rest.ToArray();
                    break;
            }

            return Render(head, body);
        }
        catch (Http1ParseException)
        {
            return Failed("bad-answer"u8);
        }
        finally
        {
            head.Release();
        }
    }

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    private static byte[] Render(ResponseHead head, byte[] body)
    {
        var output = new ArrayBufferWriter<byte>(body.Length + 256);
        using (var writer = new Utf8JsonWriter(output, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteNumber(StatusName, head.StatusCode);
            writer.WriteStartObject("headers");
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            bool isJson = false;
            for (int i = 0; i < head.HeaderCount; i++)
            {
                var kind = head.Header(i).Kind;
                if (kind is KnownHeader.Connection or KnownHeader.KeepAlive or KnownHeader.TransferEncoding or KnownHeader.ContentLength)
                {
                    continue;
                }

                var name = Encoding.Latin1.GetString(head.HeaderName(i));
                if (!seen.Add(name))
                {
                    continue;
                }

                // A field sent on several lines is one comma-separated list (RFC 9110 section 5.3).
                var value = new StringBuilder(Encoding.Latin1.GetString(head.HeaderValue(i)));
                for (int j = i + 1; j < head.HeaderCount; j++)
                {
                    if (Ascii8.EqualsIgnoreCase(head.HeaderName(j), head.HeaderName(i)))
                    {
                        value.Append(", ").Append(Encoding.Latin1.GetString(head.HeaderValue(j)));
                    }
                }

                isJson |= kind == KnownHeader.ContentType && IsJsonMediaType(head.HeaderValue(i));
                writer.WriteString(name, value.ToString());
            }

            writer.WriteEndObject();
            writer.WritePropertyName("body");
            if (body.Length == 0)
            {
                writer.WriteNullValue();
            }
            else if (isJson && IsOneJsonValue(body))
            {
                // Copied as the service wrote it.
                writer.WriteRawValue(body, skipInputValidation: true);
            }
            else
            {
                writer.WriteStringValue(Encoding.UTF8.GetString(body));
            }

            writer.WriteEndObject();
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>application/json, application/problem+json, text/json …, parameters aside.</summary>
    private static bool IsJsonMediaType(ReadOnlySpan<byte> value)
    {
        int semicolon = value.IndexOf((byte)';');
        var type = Ascii8.TrimOws(semicolon < 0 ? value : value[..semicolon]);
        return type.Length >= 5 && (Ascii8.EqualsIgnoreCase(type[^5..], "/json"u8) || Ascii8.EqualsIgnoreCase(type[^5..], "+json"u8));
    }

    private static bool IsOneJsonValue(ReadOnlySpan<byte> body)
    {
        var validator = JsonStreamValidator.Create();
        return validator.Validate(body, isFinalBlock: true, out _) == JsonValidation.Complete;
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
