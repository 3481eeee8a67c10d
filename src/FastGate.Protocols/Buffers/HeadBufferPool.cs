using System.Buffers;

namespace FastGate.Protocols.Buffers;

/// <summary>
/// Buffers for parsed message heads. Heads start in a small buffer and grow only when a head needs
/// it, so a typical 500-byte head holds 4 KiB and an idle connection holds nothing.
/// </summary>
/// <remarks>
/// NOTE: ArrayPool.Shared keeps a few arrays per size per core; with hundreds of requests in flight
/// it runs dry and every rent became a fresh 32-64 KiB array (measured: 32 KB allocated per request
/// at 64 connections). This pool keeps up to <see cref="MaxRetainedPerSize"/> arrays of each size.
/// </remarks>
internal static class HeadBufferPool
{
    public const int InitialSize = 4 * 1024;

    private const int MaxRetainedPerSize = 4096;

    public static ArrayPool<byte> Shared { get; } = ArrayPool<byte>.Create(maxArrayLength: 1024 * 1024, maxArraysPerBucket: MaxRetainedPerSize);
}
