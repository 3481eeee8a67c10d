using System.Buffers;
using System.Net;
using System.Text;
using BenchmarkDotNet.Attributes;
using FastGate.Gateway.Configuration;
using FastGate.Gateway.Model;
using FastGate.Gateway.Pipeline;
using FastGate.Gateway.Routing;
using FastGate.Gateway.Server;
using FastGate.Protocols.Hpack;
using FastGate.Protocols.Http2;
using Microsoft.AspNetCore.Connections;

namespace FastGate.Benchmarks.Http2;

/// <summary>
/// One whole HTTP/2 request in memory, as the connection does it: a browser's HEADERS frame is read,
/// its block HPACK-decoded into the stream (validated field by field, turned into the RequestHead),
/// the route matched, and the HTTP/1.1 upstream request head written. The first request of a
/// connection (every field a literal, Huffman coded) and a repeat (the dynamic table warm).
/// </summary>
[MemoryDiagnoser]
public class Http2RequestBenchmarks
{
    private static readonly (string Name, string Value)[] BrowserFields =
    [
        (":method", "GET"), (":scheme", "https"), (":authority", "api.example.com"),
        (":path", "/api/v1/service42/users/12345?expand=orders&limit=10"),
        ("user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
        ("accept", "application/json,text/plain;q=0.9,*/*;q=0.8"),
        ("accept-language", "en-GB,en;q=0.5"),
        ("accept-encoding", "gzip, deflate, br, zstd"),
        ("referer", "https://app.example.com/dashboard"),
        ("cookie", "session=3f9a7c1e2b4d6f8a0c1e3b5d7f9a1c3e"),
        ("cookie", "theme=dark"),
        ("sec-fetch-dest", "empty"),
        ("sec-fetch-mode", "cors"),
    ];

    private static readonly byte[] PeerAddress = "203.0.113.7"u8.ToArray();
    private static readonly byte[] RequestId = "0123456789abcdef0123456789abcdef"u8.ToArray();

    private GatewayModel _model = null!;
    private GatewayRuntime _runtime = null!;
    private Http2Stream _stream = null!;
    private HpackDecoder _warmDecoder = null!;
    private ReadOnlySequence<byte> _firstFrame;
    private ReadOnlySequence<byte> _repeatFrame;
    private ArrayBufferWriter<byte> _upstream = null!;

    [GlobalSetup]
    public void Setup()
    {
        var toml = new StringBuilder("""
            [upstreams.backend]
            endpoints = ["127.0.0.1:9000"]

            """);
        for (int i = 0; i < 100; i++)
        {
            toml.Append(System.Globalization.CultureInfo.InvariantCulture, $$"""
                [[routes]]
                name = "r{{i}}"
                match = { path = "/api/v1/service{{i}}/users/{id}", methods = ["GET", "PUT"] }
                upstream = "backend"
                rewrite = "/users/{id}"

                """);
        }

        var result = GatewayConfigLoader.LoadText(toml.ToString(), "bench.toml");
        _model = result.Model ?? throw new InvalidOperationException(string.Join('\n', result.Errors));
        _runtime = new GatewayRuntime(_model);
        // The connection is never run: it only hosts the stream; its transport is an idle pipe pair.
        var pipe = new System.IO.Pipelines.Pipe();
        var transport = System.IO.Pipelines.PipeReader.Create(Stream.Null);
        var context = new DefaultConnectionContext("bench", new DuplexPipe(transport, pipe.Writer), new DuplexPipe(pipe.Reader, System.IO.Pipelines.PipeWriter.Create(Stream.Null)))
        {
            RemoteEndPoint = new IPEndPoint(IPAddress.Parse("203.0.113.7"), 50000),
        };
        var connection = new Http2Connection(_runtime, context);
        _stream = new Http2Stream(connection, _runtime, connection.Peer);
        _upstream = new ArrayBufferWriter<byte>(4096);

        using var encoder = new HpackEncoder();
        _firstFrame = HeadersFrame(encoder);
        _repeatFrame = HeadersFrame(encoder);
        _warmDecoder = new HpackDecoder(HpackDecoder.DefaultHeaderTableSize, _model.Limits.MaxRequestHead);
        if (Run(_warmDecoder, _firstFrame) == 0 || Run(_warmDecoder, _repeatFrame) == 0)
        {
            throw new InvalidOperationException("the request did not match");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _warmDecoder.Dispose();
        _stream.Dispose();
        _runtime.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    private static ReadOnlySequence<byte> HeadersFrame(HpackEncoder encoder)
    {
        var block = new ArrayBufferWriter<byte>();
        encoder.BeginHeaderBlock(block);
        foreach (var (name, value) in BrowserFields)
        {
            encoder.EncodeHeader(Encoding.ASCII.GetBytes(name), Encoding.ASCII.GetBytes(value), block);
        }

        var frame = new ArrayBufferWriter<byte>();
        Http2FrameWriter.WriteHeaders(frame, 1, block.WrittenSpan, endStream: true, Http2Protocol.DefaultMaxFrameSize);
        return new ReadOnlySequence<byte>(frame.WrittenSpan.ToArray());
    }

    /// <summary>The first request of a connection: a fresh decoder, every field a Huffman literal.</summary>
    [Benchmark(Baseline = true)]
    public int FirstRequestOfConnection()
    {
        using var decoder = new HpackDecoder(HpackDecoder.DefaultHeaderTableSize, _model.Limits.MaxRequestHead);
        return Run(decoder, _firstFrame);
    }

    /// <summary>A later request: the client's encoder sends indexes into the warm dynamic table.</summary>
    [Benchmark]
    public int RepeatRequestWarmTable() => Run(_warmDecoder, _repeatFrame);

    private int Run(HpackDecoder decoder, in ReadOnlySequence<byte> frames)
    {
        var reader = new SequenceReader<byte>(frames);
        if (!Http2FrameReader.TryReadFrame(ref reader, Http2Protocol.DefaultMaxFrameSize, out var header, out var payload))
        {
            return 0;
        }

        var fragment = Http2FrameReader.ReadHeaders(header, payload, out _);
        _stream.Begin(header.StreamId, Http2Protocol.DefaultInitialWindowSize, Http2Protocol.DefaultInitialWindowSize, 32 * 1024);
        var request = _stream.Request;
        try
        {
            var handler = new StreamFields(_stream);
            decoder.Decode(fragment, endHeaders: true, ref handler);
            if (!_stream.CompleteRequestHead(endStream: true) || request.Error != RequestHeadError.None || !request.NormalizePath())
            {
                return 0;
            }

            var values = default(RouteValues);
            if (_model.Table.Match(request.Authority, request.Method, request.Path, ref values, out var route) != RouteMatchStatus.Matched)
            {
                return 0;
            }

            _upstream.ResetWrittenCount();
            UpstreamRequestWriter.WriteHead(_upstream, request, route!, values, route!.Upstream!.Endpoints[0], PeerAddress, peerIsTrustedProxy: false, RequestId);
            return _upstream.WrittenCount;
        }
        finally
        {
            // As the stream's worker does when the request ends: the stream object is reused.
            _stream.EndBody();
            _stream.EndRequest();
        }
    }

    private sealed class DuplexPipe(System.IO.Pipelines.PipeReader input, System.IO.Pipelines.PipeWriter output) : System.IO.Pipelines.IDuplexPipe
    {
        public System.IO.Pipelines.PipeReader Input { get; } = input;

        public System.IO.Pipelines.PipeWriter Output { get; } = output;
    }

    private readonly struct StreamFields(Http2Stream stream) : IHpackHeaderHandler
    {
        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => stream.OnField(name, value);
    }
}
