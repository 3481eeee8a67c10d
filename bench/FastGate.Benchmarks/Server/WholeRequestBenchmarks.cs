using System.Buffers;
using System.Diagnostics;
using System.Text;
using BenchmarkDotNet.Attributes;
using FastGate.Gateway.Configuration;
using FastGate.Gateway.Model;
using FastGate.Gateway.Pipeline;
using FastGate.Gateway.Routing;
using FastGate.Gateway.Server;
using FastGate.Gateway.Traffic;
using FastGate.Gateway.Upstream;
using Microsoft.Extensions.Logging.Abstractions;
using FastGate.Protocols.Http1;

namespace FastGate.Benchmarks.Server;

/// <summary>
/// One whole request in memory, as the connection loop does it: parse the head into the pooled
/// RequestHead, normalize the path, match the route table, and write the upstream request head; or, for a
/// cached route, find the fresh entry (key from method, host, path, query and the Accept header) and write
/// the whole answer (head and 512-byte body) as a cache hit does.
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
    private PolicySet _policies = null!;
    private RequestHead _head = null!;
    private ArrayBufferWriter<byte> _upstream = null!;
    private RequestCache _requestCache = null!;

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

        toml.Append("""
            [cache]
            max_bytes = "64MiB"

            [[routes]]
            name = "cached"
            match = { path = "/api/v1/catalog/items/{id}", methods = ["GET", "HEAD"] }
            upstream = "backend"
            cache = { ttl = "10m", vary = ["Accept"] }

            """);
        var result = GatewayConfigLoader.LoadText(toml.ToString(), "bench.toml");
        _model = result.Model ?? throw new InvalidOperationException(string.Join('\n', result.Errors));
        _policies = PolicySet.BuildAsync(_model, NullLogger.Instance).GetAwaiter().GetResult();
        _head = new RequestHead();
        _upstream = new ArrayBufferWriter<byte>(4096);
        _requestCache = new RequestCache();
        if (ParseRouteWrite() == 0)
        {
            throw new InvalidOperationException("the request did not match");
        }

        FillCache();
        if (CacheHit() == 0)
        {
            throw new InvalidOperationException("the cached request was not a hit");
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

    /// <summary>A cache hit end to end in memory: parse, route, find the entry, write the answer.</summary>
    [Benchmark]
    public int CacheHit()
    {
        _head.Begin(32 * 1024);
        try
        {
            if (!ParseAndRoute(CachedRequest, out RouteModel? route))
            {
                return 0;
            }

            ValueTask<CacheEntry?> find = _requestCache.FindAsync(_policies.For(route!)!, _head);
            CacheEntry? entry = find.IsCompletedSuccessfully ? find.Result : null;
            if (entry is null)
            {
                return 0;
            }

            _upstream.ResetWrittenCount();
            Http1Connection.WriteCachedResponse(_upstream, entry, keepAlive: true, http10: false, isHead: false, RequestId, Stopwatch.GetTimestamp());
            return _upstream.WrittenCount;
        }
        finally
        {
            _head.Release();
        }
    }

    private static readonly byte[] CachedRequest = Encoding.ASCII.GetBytes(
        "GET /api/v1/catalog/items/5000?expand=prices HTTP/1.1\r\n" +
        "Host: api.example.com\r\n" +
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
        "Accept: application/json\r\n" +
        "Accept-Encoding: gzip, deflate, br, zstd\r\n" +
        "Connection: keep-alive\r\n" +
        "\r\n");

    private bool ParseAndRoute(byte[] request, out RouteModel? route)
    {
        route = null;
        var handler = new RequestHeadHandler(_head);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(request));
        if (!Http1RequestParser.TryParseRequestLine(ref handler, ref reader) || !Http1RequestParser.TryParseHeaders(ref handler, ref reader))
        {
            return false;
        }

        _head.Complete();
        if (_head.Error != RequestHeadError.None || !_head.NormalizePath())
        {
            return false;
        }

        var values = default(RouteValues);
        return _model.Table.Match(_head.Authority, _head.Method, _head.Path, ref values, out route) == RouteMatchStatus.Matched;
    }

    /// <summary>Stores the answer of the cached route the way a miss does: lead the fill, tap head and body.</summary>
    private void FillCache()
    {
        _head.Begin(32 * 1024);
        try
        {
            if (!ParseAndRoute(CachedRequest, out RouteModel? route))
            {
                throw new InvalidOperationException("the cached request did not match");
            }

            RoutePolicy policy = _policies.For(route!)!;
            var fill = new RequestCache();
            if (fill.FindAsync(policy, _head).AsTask().GetAwaiter().GetResult() is not null)
            {
                throw new InvalidOperationException("expected a miss");
            }

            var response = new ResponseHead();
            response.Begin(4096);
            response.SetStatusLine(Http1Version.Http11, 200, "OK"u8);
            response.AddHeader("Content-Type"u8, "application/json"u8);
            response.AddHeader("Content-Length"u8, "512"u8);
            fill.TapHead(response);
            fill.TapBody(new ReadOnlySequence<byte>(new byte[512]));
            fill.Complete();
        }
        finally
        {
            _head.Release();
        }
    }
}
