using System.Buffers;
using BenchmarkDotNet.Attributes;
using FastGate.Protocols.Http1;

namespace FastGate.Benchmarks.Http1;

[MemoryDiagnoser]
public class Http1RequestParserBenchmarks
{
    /// <summary>A Chrome-like navigation request, about 500 bytes.</summary>
    private static readonly byte[] BrowserHead = BenchInput.Ascii(
        "GET /api/users/12345/orders?page=2&sort=desc HTTP/1.1\r\n"
        + "Host: api.example.com\r\n"
        + "Connection: keep-alive\r\n"
        + "sec-ch-ua: \"Chromium\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n"
        + "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36\r\n"
        + "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
        + "Accept-Encoding: gzip, deflate, br\r\n"
        + "Accept-Language: en-US,en;q=0.9\r\n"
        + "Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark\r\n"
        + "\r\n");

    private static readonly byte[] ThirtyHeaders = BenchInput.Ascii(
        "POST /v1/orders HTTP/1.1\r\n"
        + string.Concat(Enumerable.Range(0, 30).Select(i => $"X-Header-{i:D2}: value-{i:D2}-abcdefgh\r\n"))
        + "\r\n");

    private ReadOnlySequence<byte> _browser;
    private ReadOnlySequence<byte> _thirty;
    private ReadOnlySequence<byte> _browserSplit;

    [GlobalSetup]
    public void Setup()
    {
        _browser = new ReadOnlySequence<byte>(BrowserHead);
        _thirty = new ReadOnlySequence<byte>(ThirtyHeaders);

        // Boundaries inside the User-Agent and Accept-Language lines: two lines take the copy path.
        _browserSplit = BenchInput.Split(BrowserHead, 160, 360);
    }

    [Benchmark(Baseline = true)]
    public int BrowserGet500B() => Parse(_browser);

    [Benchmark]
    public int ThirtyHeaders30() => Parse(_thirty);

    [Benchmark]
    public int BrowserGet500BThreeSegments() => Parse(_browserSplit);

    private static int Parse(in ReadOnlySequence<byte> sequence)
    {
        var handler = new CountingHandler();
        var reader = new SequenceReader<byte>(sequence);
        bool complete = Http1RequestParser.TryParseRequestLine(ref handler, ref reader)
            && Http1RequestParser.TryParseHeaders(ref handler, ref reader);
        return complete ? handler.Count : -1;
    }

    private struct CountingHandler : IHttp1RequestHeadHandler
    {
        public int Count;

        public void OnRequestLine(ReadOnlySpan<byte> method, ReadOnlySpan<byte> target, Http1Version version) => Count += target.Length;

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => Count += value.Length;
    }
}
