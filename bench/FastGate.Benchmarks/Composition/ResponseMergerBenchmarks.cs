using System.Buffers;
using BenchmarkDotNet.Attributes;
using FastGate.Gateway.Composition;

namespace FastGate.Benchmarks.Composition;

/// <summary>
/// The streaming merger in memory, bytes in and bytes out: N parts answered synchronously from
/// arrays (4 KiB segments, as an upstream's receive pipe hands them out), merged into a reused buffer.
/// Each operation is one aggregate request: a merger, N parts, their validation and the merged object.
/// The 64 KiB cases stream through the 32 KiB window: the allocations must not change with part size.
/// Time grows with the bytes validated (see JsonStreamValidatorBenchmarks); Merge5PartsTiny is the
/// merger's own overhead per request.
/// </summary>
[MemoryDiagnoser]
public class ResponseMergerBenchmarks
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly ArraySink _sink = new();
    private byte[] _tiny = [];
    private byte[] _small = [];
    private byte[] _medium = [];
    private byte[] _large = [];
    private MemorySource[] _sources = [];

    [GlobalSetup]
    public void Setup()
    {
        _tiny = "{\"id\":42,\"ok\":true}"u8.ToArray();
        _small = Document(1024);
        _medium = Document(16 * 1024);
        _large = Document(64 * 1024);
        _sources = [.. Enumerable.Range(0, 5).Select(_ => new MemorySource())];
    }

    /// <summary>A JSON object of about <paramref name="size"/> bytes: an array of small records.</summary>
    private static byte[] Document(int size)
    {
        var text = new System.Text.StringBuilder("{\"items\":[");
        for (int i = 0; text.Length < size - 40; i++)
        {
            text.Append(i == 0 ? "" : ",").Append("{\"id\":").Append(i).Append(",\"name\":\"item ").Append(i).Append("\"}");
        }

        return System.Text.Encoding.UTF8.GetBytes(text.Append("]}").ToString());
    }

    private static readonly byte[][] Prefixes = [.. Enumerable.Range(0, 5).Select(i => System.Text.Encoding.UTF8.GetBytes($"\"part{i}\":"))];
    private static readonly byte[][] Keys = [.. Enumerable.Range(0, 5).Select(i => System.Text.Encoding.UTF8.GetBytes($"\"part{i}\""))];

    private int Merge(int count, byte[] body)
    {
        _sink.Reset();
        var parts = new MergePart[count];
        for (int i = 0; i < count; i++)
        {
            _sources[i].Reset(body);
            parts[i] = new MergePart(Prefixes[i], Keys[i], required: i == 0, _sources[i]);
        }

        var merger = new ResponseMerger(_sink);
        var result = merger.RunAsync(parts, Timeout, Timeout, CancellationToken.None).GetAwaiter().GetResult();
        if (result.Outcome != MergeOutcome.Completed)
        {
            throw new InvalidOperationException("merge failed");
        }

        return _sink.Written;
    }

    /// <summary>The merger's own cost: parts so small that validating them costs next to nothing.</summary>
    [Benchmark]
    public int Merge5PartsTiny() => Merge(5, _tiny);

    [Benchmark(Baseline = true)]
    public int Merge2Parts1KiB() => Merge(2, _small);

    [Benchmark]
    public int Merge5Parts1KiB() => Merge(5, _small);

    /// <summary>Parts that still fit the window whole, in four 4 KiB segments each.</summary>
    [Benchmark]
    public int Merge5Parts16KiB() => Merge(5, _medium);

    [Benchmark]
    public int Merge5Parts64KiB() => Merge(5, _large);

    private sealed class MemorySource : PartSource
    {
        private const int Segment = 4096;
        private byte[] _body = [];
        private int _offset;

        public void Reset(byte[] body)
        {
            _body = body;
            _offset = 0;
        }

        public override ValueTask<PartHead> StartAsync(CancellationToken cancellationToken) => new(new PartHead(200, PartFailure.None));

        public override ValueTask<PartRead> ReadAsync(CancellationToken cancellationToken) =>
            new(_offset == _body.Length
                ? new PartRead(PartReadStatus.End, default)
                : new PartRead(PartReadStatus.Data, new ReadOnlySequence<byte>(_body, _offset, Math.Min(Segment, _body.Length - _offset))));

        public override void Consume(long count) => _offset += (int)count;

        public override void Finish(bool clean)
        {
        }
    }

    private sealed class ArraySink : IStreamingBodySink
    {
        private readonly byte[] _buffer = new byte[1024 * 1024];

        public int Written { get; private set; }

        public void Reset() => Written = 0;

        public void StartResponse()
        {
        }

        public void Write(ReadOnlySpan<byte> data)
        {
            data.CopyTo(_buffer.AsSpan(Written));
            Written += data.Length;
        }

        public ValueTask<bool> FlushAsync() => new(true);

        public ValueTask<bool> CompleteAsync() => new(true);
    }
}
