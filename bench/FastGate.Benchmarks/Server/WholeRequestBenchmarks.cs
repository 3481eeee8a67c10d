using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using FastGate.Gateway.Configuration;
using FastGate.Gateway.Model;
using FastGate.Gateway.Routing;
using FastGate.Gateway.Server;
using FastGate.Protocols.Http1;

namespace FastGate.Benchmarks.Server;

/// <summary>
/// One whole request in memory, as the connection loop does it: parse the head into the pooled
/// RequestHead, normalize the path, match the route table, and write the upstream request head.
/// </summary>
[MemoryDiagnoser]
public class WholeRequestBenchmarks
{
    private const int Routes = 100;

    private static readonly byte[] BrowserRequest = Encoding.ASCII.GetBytes(
        "GET /api/v1/service42/users/12345?expand=orders&limit=10 HTTP/1.1\r\n" +
        "Host: api.example.com\r\n" +
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
        "Accept: application/json,text/plain;q=0.9,*/*;q=0.8\r\n" +
        "Accept-Language: en-GB,en;q=0.5\r\n" +
        "Accept-Encoding: gzip, deflate, br, zstd\r\n" +
        "Referer: https://app.example.com/dashboard\r\n" +
        "Connection: keep-alive\r\n" +
        "Cookie: session=3f9a7c1e2b4d6f8a0c1e3b5d7f9a1c3e; theme=dark\r\n" +
        "Sec-Fetch-Dest: empty\r\n" +
        "Sec-Fetch-Mode: cors\r\n" +
        "\r\n");

    private static readonly byte[] PeerAddress = "203.0.113.7"u8.ToArray();
    private static readonly byte[] RequestId = "0123456789abcdef0123456789abcdef"u8.ToArray();

    private GatewayModel _model = null!;
    private RequestHead _head = null!;
    private ArrayBufferWriter<byte> _upstream = null!;

    [GlobalSetup]
    public void Setup()
    {
        var toml = new StringBuilder("""
            [upstreams.backend]
            endpoints = ["127.0.0.1:9000"]

            """);
        for (int i = 0; i < Routes; i++)
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
        _head = new RequestHead();
        _upstream = new ArrayBufferWriter<byte>(4096);
        if (ParseRouteWrite() == 0)
        {
            throw new InvalidOperationException("the request did not match");
        }
    }

    /// <summary>The head into the pooled store only: the share of parsing and copying.</summary>
    [Benchmark]
    public int ParseIntoHead()
    {
        _head.Begin(32 * 1024);
        try
        {
            var handler = new RequestHeadHandler(_head);
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(BrowserRequest));
            if (!Http1RequestParser.TryParseRequestLine(ref handler, ref reader) || !Http1RequestParser.TryParseHeaders(ref handler, ref reader))
            {
                return 0;
            }

            _head.Complete();
            return _head.HeaderCount;
        }
        finally
        {
            _head.Release();
        }
    }

    [Benchmark(Baseline = true)]
    public int ParseRouteWrite()
    {
        _head.Begin(32 * 1024);
        try
        {
            var handler = new RequestHeadHandler(_head);
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(BrowserRequest));
            if (!Http1RequestParser.TryParseRequestLine(ref handler, ref reader) || !Http1RequestParser.TryParseHeaders(ref handler, ref reader))
            {
                return 0;
            }

            _head.Complete();
            if (_head.Error != RequestHeadError.None || !_head.NormalizePath())
            {
                return 0;
            }

            var values = default(RouteValues);
            if (_model.Table.Match(_head.Authority, _head.Method, _head.Path, ref values, out var route) != RouteMatchStatus.Matched)
            {
                return 0;
            }

            _upstream.ResetWrittenCount();
            UpstreamRequestWriter.WriteHead(_upstream, _head, route!, values, route!.Upstream!.Endpoints[0], PeerAddress, peerIsTrustedProxy: false, RequestId);
            return _upstream.WrittenCount;
        }
        finally
        {
            _head.Release();
        }
    }
}
