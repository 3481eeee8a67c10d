using System.Buffers;
using FastGate.Gateway.Composition;

namespace FastGate.Gateway.Tests.Composition;

/// <summary>
/// A part answered from memory: a status, a body handed out in segments, optionally slow or cut, and
/// optionally as sequences of several buffers (as a pipe hands out bytes that span its blocks).
/// </summary>
internal sealed class MemoryPartSource(int status, byte[] body, int segment = 4096, TimeSpan headDelay = default, int failAfter = -1, TimeSpan segmentDelay = default, bool multiBuffer = false) : PartSource
{
    private int _offset;
    private int _lastLength;

    public bool? FinishedClean { get; private set; }

    public override async ValueTask<PartHead> StartAsync(CancellationToken cancellationToken)
    {
        if (headDelay > TimeSpan.Zero)
        {
            await Task.Delay(headDelay, cancellationToken);
        }

        return new PartHead(status, PartFailure.None);
    }

    public override async ValueTask<PartRead> ReadAsync(CancellationToken cancellationToken)
    {
        if (segmentDelay > TimeSpan.Zero)
        {
            await Task.Delay(segmentDelay, cancellationToken);
        }

        if (failAfter >= 0 && _offset >= failAfter)
        {
            return new PartRead(PartReadStatus.Failed, default, PartFailure.BadAnswer);
        }

        if (_offset == body.Length)
        {
            return new PartRead(PartReadStatus.End, default);
        }

        _lastLength = Math.Min(segment, body.Length - _offset);
        return new PartRead(PartReadStatus.Data, multiBuffer ? Buffers.Split(body.AsMemory(_offset, _lastLength)) : new ReadOnlySequence<byte>(body, _offset, _lastLength));
    }

    public override void Consume(long count)
    {
        if (count > _lastLength)
        {
            throw new InvalidOperationException("consumed more than was read");
        }

        _offset += (int)count;
        _lastLength = 0;
    }

    public override void Finish(bool clean) => FinishedClean = clean;
}

/// <summary>Collects the merged body; records the order of calls.</summary>
internal sealed class MemorySink : IStreamingBodySink
{
    public ArrayBufferWriter<byte> Body { get; } = new();

    public bool Started { get; private set; }

    public bool Completed { get; private set; }

    public int Flushes { get; private set; }

    public bool FailFlushes { get; set; }

    public string Text => System.Text.Encoding.UTF8.GetString(Body.WrittenSpan);

    public void StartResponse() => Started = true;

    public void Write(ReadOnlySpan<byte> data) => Body.Write(data);

    public ValueTask<bool> FlushAsync()
    {
        Flushes++;
        return ValueTask.FromResult(!FailFlushes);
    }

    public ValueTask<bool> CompleteAsync()
    {
        Completed = true;
        return ValueTask.FromResult(!FailFlushes);
    }
}

/// <summary>Sequences made of several buffers.</summary>
internal static class Buffers
{
    /// <summary>The bytes in buffers of 1, 2, 3 ... bytes, copied (so no two are contiguous).</summary>
    public static ReadOnlySequence<byte> Split(ReadOnlyMemory<byte> bytes)
    {
        var first = new Segment(bytes[..Math.Min(1, bytes.Length)].ToArray(), 0);
        var last = first;
        for (int at = first.Memory.Length, size = 2; at < bytes.Length; at += size, size++)
        {
            var next = new Segment(bytes[at..Math.Min(bytes.Length, at + size)].ToArray(), last.RunningIndex + last.Memory.Length);
            last.Link(next);
            last = next;
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] bytes, long runningIndex)
        {
            Memory = bytes;
            RunningIndex = runningIndex;
        }

        public void Link(Segment next) => Next = next;
    }
}
