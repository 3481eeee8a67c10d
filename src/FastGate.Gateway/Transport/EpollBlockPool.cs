using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastGate.Protocols.Buffers;

namespace FastGate.Gateway.Transport;

/// <summary>
/// The transport's buffers, in two sizes: small blocks (4 KiB, as Kestrel's pool) for requests that
/// fit, and large blocks (64 KiB) once a receive filled its buffer, so a body is read 64 KiB per
/// recv instead of 4 KiB. Arrays live on the pinned object heap, so pinning one for a syscall is
/// free, and block objects are reused, so renting allocates nothing. Retention is capped: a burst
/// beyond the cap leaves its extra blocks to the GC.
/// </summary>
/// <remarks>
/// A request rents and returns about eight blocks (each direction of the client and the upstream
/// connection), nearly always on its loop's thread: each loop thread keeps a few blocks of each size
/// in a cache of its own, so those rents and returns are array operations, without the shared
/// queues' atomic operations. Other threads (the thread pool's) use the shared queues only, so no
/// block is stranded in the cache of a thread that may never rent again.
/// </remarks>
internal sealed class EpollBlockPool : MemoryPool<byte>
{
    public const int SmallBlockSize = 4096;
    public const int LargeBlockSize = 64 * 1024;

    /// <summary>Blocks of each size a loop thread keeps for itself: 16 small and 4 large are 320 KiB per loop.</summary>
    private const int CachedSmallBlocks = 16;
    private const int CachedLargeBlocks = 4;

    [ThreadStatic]
    private static ThreadCache? t_cache;

    private readonly BlockQueue _small;
    private readonly BlockQueue _large;

    public EpollBlockPool(int maxRetainedBytes = 64 * 1024 * 1024)
    {
        _small = new BlockQueue(SmallBlockSize, maxRetainedBytes / 2 / SmallBlockSize, CachedSmallBlocks);
        _large = new BlockQueue(LargeBlockSize, maxRetainedBytes / 2 / LargeBlockSize, CachedLargeBlocks);
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

    /// <summary>The array behind a block of this pool (its whole length is the block).</summary>
    public static byte[] ArrayOf(IMemoryOwner<byte> block) => ((Block)block).Array;

    /// <summary>This loop thread's cache of <paramref name="queue"/>'s blocks; null on other threads.</summary>
    private static BlockStack? CacheOf(BlockQueue queue)
    {
        var cache = t_cache;
        if (cache is null)
        {
            if (EpollLoop.Current is null)
            {
                return null;
            }

            t_cache = cache = new ThreadCache();
        }

        // A thread serves one pool in the gateway; a second pool (tests run several gateways) shares the queues.
        return cache.Small.Queue == queue ? cache.Small
            : cache.Large.Queue == queue ? cache.Large
            : cache.Small.Queue is null ? cache.Small.Claim(queue)
            : cache.Large.Queue is null ? cache.Large.Claim(queue)
            : null;
    }

    private sealed class ThreadCache
    {
        public BlockStack Small { get; } = new();

        public BlockStack Large { get; } = new();
    }

    /// <summary>One loop thread's blocks of one queue (only that thread touches it).</summary>
    private sealed class BlockStack
    {
        private BoundedStack<Block> _blocks;

        public BlockQueue? Queue { get; private set; }

        public BlockStack Claim(BlockQueue queue)
        {
            Queue = queue;
            _blocks = new BoundedStack<Block>(queue.CachedPerThread);
            return this;
        }

        public bool TryPop([NotNullWhen(true)] out Block? block) => _blocks.TryPop(out block);

        public bool TryPush(Block block) => _blocks.TryPush(block);
    }

    private sealed class BlockQueue(int blockSize, int maxRetained, int cachedPerThread)
    {
        private readonly ConcurrentQueue<Block> _blocks = new();
        private int _retained;

        public int CachedPerThread { get; } = cachedPerThread;

        public Block Rent()
        {
            if (CacheOf(this) is { } cache && cache.TryPop(out var cached))
            {
                return cached;
            }

            if (_blocks.TryDequeue(out var block))
            {
                Interlocked.Decrement(ref _retained);
                return block;
            }

            return new Block(this, GC.AllocateUninitializedArray<byte>(blockSize, pinned: true));
        }

        public void Return(Block block)
        {
            if (CacheOf(this) is { } cache && cache.TryPush(block))
            {
                return;
            }

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
        public byte[] Array => array;

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
