using System.Runtime.CompilerServices;

namespace FastGate.Gateway.Routing;

/// <summary>Captured parameters: ranges into the normalized path that was matched.</summary>
/// <remarks>
/// Index i is the template's i-th parameter (<see cref="PathTemplate.ParameterNames"/>). Storage is inline
/// (no heap): the struct lives in the request context and is filled by <see cref="RouteTable.Match"/>.
/// </remarks>
internal struct RouteValues
{
    public const int MaxCount = 16;

    private RangeBuffer _ranges;

    public int Count { get; private set; }

    /// <returns>the start offset and length in the matched path of parameter <paramref name="index"/></returns>
    public readonly (int Start, int Length) GetRange(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
        ref readonly ValueRange range = ref _ranges[index];
        return (range.Start, range.Length);
    }

    /// <param name="path">the path given to <see cref="RouteTable.Match"/></param>
    public readonly ReadOnlySpan<byte> GetValue(ReadOnlySpan<byte> path, int index)
    {
        (int start, int length) = GetRange(index);
        return path.Slice(start, length);
    }

    /// <summary>Looks a value up by name (for tests and diagnostics; the hot path uses indexes).</summary>
    public readonly bool TryGetValue(PathTemplate template, string name, ReadOnlySpan<byte> path, out ReadOnlySpan<byte> value)
    {
        int index = template.IndexOfParameter(name);
        if ((uint)index >= (uint)Count)
        {
            value = default;
            return false;
        }

        value = GetValue(path, index);
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Set(int index, int start, int length)
    {
        ref ValueRange range = ref _ranges[index];
        range.Start = start;
        range.Length = length;
    }

    internal void SetCount(int count) => Count = count;

    [InlineArray(MaxCount)]
    private struct RangeBuffer
    {
        private ValueRange _element;
    }

    private struct ValueRange
    {
        public int Start;
        public int Length;
    }
}
