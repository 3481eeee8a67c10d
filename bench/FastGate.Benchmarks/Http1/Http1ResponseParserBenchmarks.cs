using System.Buffers;
using BenchmarkDotNet.Attributes;
using FastGate.Protocols.Http1;

namespace FastGate.Benchmarks.Http1;

[MemoryDiagnoser]
public class Http1ResponseParserBenchmarks
{
    private static readonly byte[] TypicalHead = BenchInput.Ascii(
        "HTTP/1.1 200 OK\r\n"
        + "Date: Mon, 04 May 2026 10:00:00 GMT\r\n"
        + "Server: kestrel\r\n"
        + "Content-Type: application/json; charset=utf-8\r\n"
        + "Content-Length: 1234\r\n"
        + "Cache-Control: private, max-age=0\r\n"
        + "ETag: \"33a64df551425fcc55e4d42a148795d9f25f89d4\"\r\n"
        + "Vary: Accept-Encoding\r\n"
        + "X-Request-Id: 4bf92f3577b34da6a3ce929d0e0e4736\r\n"
        + "\r\n");

    private ReadOnlySequence<byte> _typical;

    [GlobalSetup]
    public void Setup() => _typical = new ReadOnlySequence<byte>(TypicalHead);

    [Benchmark(Baseline = true)]
    public int TypicalResponseHead()
    {
        var handler = new CountingHandler();
        var reader = new SequenceReader<byte>(_typical);
        bool complete = Http1ResponseParser.TryParseStatusLine(ref handler, ref reader)
            && Http1ResponseParser.TryParseHeaders(ref handler, ref reader);
        return complete ? handler.Count : -1;
    }

    private struct CountingHandler : IHttp1ResponseHeadHandler
    {
        public int Count;

        public void OnStatusLine(Http1Version version, int statusCode, ReadOnlySpan<byte> reasonPhrase) => Count += statusCode;

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => Count += value.Length;
    }
}
