using System.Buffers;
using BenchmarkDotNet.Attributes;
using FastGate.Protocols.Hpack;

namespace FastGate.Benchmarks.Hpack;

/// <summary>
/// Encoding a typical response head on a connection whose dynamic table already holds it (every
/// response after the first): static and dynamic indices, content-length as a literal.
/// </summary>
[MemoryDiagnoser]
public class HpackEncoderBenchmarks
{
    private HpackEncoder _encoder = null!;
    private ArrayBufferWriter<byte> _output = null!;

    [GlobalSetup]
    public void Setup()
    {
        _encoder = new HpackEncoder();
        _output = new ArrayBufferWriter<byte>(4096);
        EncodeResponseHead();
    }

    [GlobalCleanup]
    public void Cleanup() => _encoder.Dispose();

    [Benchmark(Baseline = true)]
    public int ResponseHeadWarmTable() => EncodeResponseHead();

    private int EncodeResponseHead()
    {
        _output.ResetWrittenCount();
        _encoder.BeginHeaderBlock(_output);
        _encoder.EncodeHeader(":status"u8, "200"u8, _output);
        _encoder.EncodeHeader("content-type"u8, "application/json; charset=utf-8"u8, _output);
        _encoder.EncodeHeader("content-length"u8, "1834"u8, _output);
        _encoder.EncodeHeader("date"u8, "Tue, 24 Nov 2026 10:15:02 GMT"u8, _output);
        _encoder.EncodeHeader("server"u8, "fastgate"u8, _output);
        _encoder.EncodeHeader("cache-control"u8, "private, max-age=0"u8, _output);
        _encoder.EncodeHeader("vary"u8, "Accept-Encoding"u8, _output);
        _encoder.EncodeHeader("strict-transport-security"u8, "max-age=31536000; includeSubDomains"u8, _output);
        _encoder.EncodeHeader("x-content-type-options"u8, "nosniff"u8, _output);
        _encoder.EncodeHeader("x-request-id"u8, "0f8e7d6c5b4a3928"u8, _output);
        return _output.WrittenCount;
    }
}
