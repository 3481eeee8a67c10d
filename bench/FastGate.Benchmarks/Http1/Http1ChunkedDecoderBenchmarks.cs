using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using FastGate.Protocols.Http1;

namespace FastGate.Benchmarks.Http1;

[MemoryDiagnoser]
public class Http1ChunkedDecoderBenchmarks
{
    private ReadOnlySequence<byte> _smallChunks;
    private ReadOnlySequence<byte> _largeChunksSplit;

    [GlobalSetup]
    public void Setup()
    {
        // 64 chunks of 64 bytes: framing dominates (JSON streamed line by line).
        var small = new StringBuilder();
        for (int i = 0; i < 64; i++)
        {
            small.Append("40\r\n").Append('s', 64).Append("\r\n");
        }

        small.Append("0\r\n\r\n");
        _smallChunks = new ReadOnlySequence<byte>(BenchInput.Ascii(small.ToString()));

        // 4 chunks of 16 KiB across 4 KiB segments, the shape of a pipe's buffers: payload dominates.
        var large = new StringBuilder();
        for (int i = 0; i < 4; i++)
        {
            large.Append("4000;ext=v\r\n").Append('L', 16384).Append("\r\n");
        }

        large.Append("0\r\nX-Checksum: abc\r\n\r\n");
        byte[] bytes = BenchInput.Ascii(large.ToString());
        _largeChunksSplit = BenchInput.Split(bytes, [.. Enumerable.Range(1, (bytes.Length - 1) / 4096).Select(i => i * 4096)]);
    }

    [Benchmark(Baseline = true)]
    public long SmallChunks64x64B() => Decode(_smallChunks);

    [Benchmark]
    public long LargeChunks4x16KiBSegmented() => Decode(_largeChunksSplit);

    private static long Decode(in ReadOnlySequence<byte> body)
    {
        var decoder = new Http1ChunkedDecoder();
        var reader = new SequenceReader<byte>(body);
        long total = 0;
        while (decoder.Read(ref reader, out ReadOnlySequence<byte> data) == Http1ChunkedStatus.Data)
        {
            total += data.Length;
        }

        return total;
    }
}
