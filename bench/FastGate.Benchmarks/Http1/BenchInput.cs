using System.Buffers;
using System.Text;

namespace FastGate.Benchmarks.Http1;

/// <summary>Builds multi-segment sequences for the codec benchmarks.</summary>
internal static class BenchInput
{
    public static ReadOnlySequence<byte> Split(byte[] data, params int[] offsets)
    {
        var first = new Segment(data.AsMemory(0, offsets[0]), 0);
        Segment last = first;
        for (int i = 0; i < offsets.Length; i++)
        {
            int end = i + 1 < offsets.Length ? offsets[i + 1] : data.Length;
            var next = new Segment(data.AsMemory(offsets[i], end - offsets[i]), offsets[i]);
            last.SetNext(next);
            last = next;
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    public static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public void SetNext(Segment next) => Next = next;
    }
}
