using System.Buffers;
using System.Text;

namespace FastGate.Protocols.Tests.Http1;

/// <summary>Builds inputs as bytes (Latin-1, so obs-text survives) and as multi-segment sequences.</summary>
internal static class TestInput
{
    public static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);

    public static string Text(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    public static ReadOnlySequence<byte> Single(ReadOnlyMemory<byte> data) => new(data);

    /// <summary>Splits at the given offsets (ascending, inside the data).</summary>
    public static ReadOnlySequence<byte> Split(ReadOnlyMemory<byte> data, params int[] offsets)
    {
        if (data.IsEmpty)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new BufferSegment(Copy(data[..(offsets.Length > 0 ? offsets[0] : data.Length)]));
        BufferSegment last = first;
        for (int i = 0; i < offsets.Length; i++)
        {
            int end = i + 1 < offsets.Length ? offsets[i + 1] : data.Length;
            last = last.Append(Copy(data[offsets[i]..end]));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    public static ReadOnlySequence<byte> OneByteSegments(ReadOnlyMemory<byte> data)
        => Split(data, [.. Enumerable.Range(1, Math.Max(0, data.Length - 1))]);

    public static ReadOnlySequence<byte> RandomSegments(ReadOnlyMemory<byte> data, int seed)
    {
        var random = new Random(seed);
        var offsets = new SortedSet<int>();
        int count = random.Next(1, Math.Max(2, data.Length / 3));
        for (int i = 0; i < count && data.Length > 1; i++)
        {
            offsets.Add(random.Next(1, data.Length));
        }

        return Split(data, [.. offsets]);
    }

    /// <summary>The shapes every valid and invalid input is fed in.</summary>
    public static IEnumerable<ReadOnlySequence<byte>> AllShapes(byte[] data)
    {
        yield return Single(data);
        yield return OneByteSegments(data);
        for (int seed = 0; seed < 8; seed++)
        {
            yield return RandomSegments(data, seed);
        }

        // A segment boundary right after each of the first bytes and before each of the last bytes.
        for (int i = 1; i < data.Length; i += Math.Max(1, data.Length / 40))
        {
            yield return Split(data, i);
        }
    }

    // Copies so that a parser reading past a segment's end cannot see the next bytes by accident.
    private static byte[] Copy(ReadOnlyMemory<byte> memory) => memory.ToArray();

    private sealed class BufferSegment : ReadOnlySequenceSegment<byte>
    {
        public BufferSegment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public BufferSegment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new BufferSegment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
