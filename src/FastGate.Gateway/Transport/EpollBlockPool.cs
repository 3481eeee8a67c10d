using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastGate.Gateway.Transport;

/// <summary>
/// The transport's buffers, in two sizes: small blocks (4 KiB, as Kestrel's pool) for requests that
/// fit, and large blocks (64 KiB) once a receive filled its buffer, so a body is read 64 KiB per
/// recv instead of 4 KiB. Arrays live on the pinned object heap, so pinning one for a syscall is
/// free, and block objects are reused, so renting allocates nothing. Retention is capped: a burst
/// beyond the cap leaves its extra blocks to the GC.
/// </summary>
internal sealed class EpollBlockPool : MemoryPool<byte>
{
    public const int SmallBlockSize = 4096;
    public const int LargeBlockSize = 64 * 1024;

    private readonly BlockQueue _small;
    private readonly BlockQueue _large;

    public EpollBlockPool(int maxRetainedBytes = 64 * 1024 * 1024)
    {
        _small = new BlockQueue(SmallBlockSize, maxRetainedBytes / 2 / SmallBlockSize);
        _large = new BlockQueue(LargeBlockSize, maxRetainedBytes / 2 / LargeBlockSize);
    }

    public override int MaxBufferSize => LargeBlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, LargeBlockSize);
        return minBufferSize <= SmallBlockSize ? _small.Rent() : _large.Rent();
    }

    protected override void Dispose(bool disposing)
    {
    }

    private sealed class BlockQueue(int blockSize, int maxRetained)
    {
        private readonly ConcurrentQueue<Block> _blocks = new();
        private int _retained;

        public Block Rent()
        {
            if (_blocks.TryDequeue(out var block))
            {
                Interlocked.Decrement(ref _retained);
                return block;
            }

            return new Block(this, GC.AllocateUninitializedArray<byte>(blockSize, pinned: true));
        }

        public void Return(Block block)
        {
            if (Interlocked.Increment(ref _retained) > maxRetained)
            {
                Interlocked.Decrement(ref _retained);
                return;
            }

            _blocks.Enqueue(block);
        }
    }

    /// <summary>A pooled block; disposing it (the pipe does, when the segment is consumed) returns it.</summary>
    private sealed unsafe class Block(BlockQueue owner, byte[] array) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => array;

        /// <summary>The array is on the pinned object heap: its address never changes.</summary>
        public override MemoryHandle Pin(int elementIndex = 0) =>
            new((byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array)) + elementIndex);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing) => owner.Return(this);
    }
}
