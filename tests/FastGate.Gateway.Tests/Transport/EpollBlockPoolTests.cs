using System.Buffers;
using FastGate.Gateway.Transport;

namespace FastGate.Gateway.Tests.Transport;

public sealed class EpollBlockPoolTests
{
    [Fact]
    public void Sizes_follow_the_request()
    {
        using var pool = new EpollBlockPool();
        using var small = pool.Rent(1);
        using var exact = pool.Rent(EpollBlockPool.SmallBlockSize);
        using var large = pool.Rent(EpollBlockPool.SmallBlockSize + 1);
        Assert.Equal(EpollBlockPool.SmallBlockSize, small.Memory.Length);
        Assert.Equal(EpollBlockPool.SmallBlockSize, exact.Memory.Length);
        Assert.Equal(EpollBlockPool.LargeBlockSize, large.Memory.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(EpollBlockPool.LargeBlockSize + 1));
    }

    [Fact]
    public void Off_a_loop_a_returned_block_goes_back_to_the_shared_queue()
    {
        using var pool = new EpollBlockPool();
        var first = pool.Rent(1);
        first.Dispose();
        var again = pool.Rent(1);
        Assert.Same(first, again);
        again.Dispose();
    }

    [Fact]
    public async Task A_loop_thread_reuses_its_own_blocks_and_other_threads_do_not_see_them()
    {
        using var pool = new EpollBlockPool();
        using var loop = new EpollLoop("test-blocks");

        // On the loop: a block returned there is the next one rented there.
        var (onLoop, reusedOnLoop) = await loop.RunOn(() =>
        {
            var block = pool.Rent(1);
            block.Dispose();
            return (block, pool.Rent(1));
        });
        Assert.Same(onLoop, reusedOnLoop);

        // The loop returns it again: it stays in the loop's cache, so another thread gets a new block.
        await loop.RunOn(() =>
        {
            reusedOnLoop.Dispose();
            return (reusedOnLoop, reusedOnLoop);
        });
        var elsewhere = pool.Rent(1);
        Assert.NotSame(onLoop, elsewhere);

        // A block returned by another thread reaches the loop through the shared queue once its cache is empty.
        elsewhere.Dispose();
        var (fromCache, fromQueue) = await loop.RunOn(() => (pool.Rent(1), pool.Rent(1)));
        Assert.Same(onLoop, fromCache);
        Assert.Same(elsewhere, fromQueue);
        fromCache.Dispose();
        fromQueue.Dispose();
    }

    [Fact]
    public async Task A_loop_caches_a_bounded_number_of_blocks()
    {
        using var pool = new EpollBlockPool();
        using var loop = new EpollLoop("test-blocks-bound");
        var blocks = await loop.RunOn(() =>
        {
            var rented = new IMemoryOwner<byte>[40];
            for (int i = 0; i < rented.Length; i++)
            {
                rented[i] = pool.Rent(1);
            }

            foreach (var block in rented)
            {
                block.Dispose();
            }

            return (rented, rented);
        });

        // 16 stay with the loop (the first 16 returned); the rest went to the shared queue, in order.
        var shared = pool.Rent(1);
        Assert.Same(blocks.Item1[16], shared);
    }
}
