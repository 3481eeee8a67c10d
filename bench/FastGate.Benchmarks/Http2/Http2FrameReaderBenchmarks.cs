using System.Buffers;
using BenchmarkDotNet.Attributes;
using FastGate.Benchmarks.Http1;
using FastGate.Protocols.Http2;

namespace FastGate.Benchmarks.Http2;

/// <summary>
/// Reading the frame headers of a buffer of 256 small frames (DATA of 64 octets, WINDOW_UPDATE, PING,
/// HEADERS of 20 octets, ~15 KiB), in one segment and across 4 KiB segments as a pipe delivers them.
/// </summary>
[MemoryDiagnoser]
public class Http2FrameReaderBenchmarks
{
    private ReadOnlySequence<byte> _single;
    private ReadOnlySequence<byte> _segmented;

    [GlobalSetup]
    public void Setup()
    {
        var output = new ArrayBufferWriter<byte>();
        var data = new byte[64];
        var fieldBlock = new byte[20];
        for (int i = 0; i < 64; i++)
        {
            int stream = (2 * i) + 1;
            Http2FrameWriter.WriteHeaders(output, stream, fieldBlock, endStream: false, Http2Protocol.DefaultMaxFrameSize);
            Http2FrameWriter.WriteData(output, stream, data, endStream: true, Http2Protocol.DefaultMaxFrameSize);
            Http2FrameWriter.WriteWindowUpdate(output, 0, 64);
            Http2FrameWriter.WritePing(output, (ulong)i, ack: false);
        }

        byte[] bytes = output.WrittenSpan.ToArray();
        _single = new ReadOnlySequence<byte>(bytes);
        _segmented = BenchInput.Split(bytes, [.. Enumerable.Range(1, (bytes.Length - 1) / 4096).Select(i => i * 4096)]);
    }

    [Benchmark(Baseline = true)]
    public long ReadFrames256() => Read(_single);

    [Benchmark]
    public long ReadFrames256Segmented() => Read(_segmented);

    private static long Read(in ReadOnlySequence<byte> input)
    {
        var reader = new SequenceReader<byte>(input);
        long total = 0;
        while (Http2FrameReader.TryReadFrame(ref reader, Http2Protocol.DefaultMaxFrameSize, out Http2FrameHeader header, out ReadOnlySequence<byte> payload))
        {
            total += header.StreamId + payload.Length;
        }

        return total;
    }
}
