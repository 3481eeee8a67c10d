using FastGate.Gateway.Async;
using FastGate.Gateway.Tests.Transport;
using FastGate.Gateway.Transport;

namespace FastGate.Gateway.Tests.Async;

public sealed class BoxPoolTests
{
    // A type of its own per test, so the pools' static state is not shared between tests.
    private sealed class SameThreadBox;

    private sealed class OverflowBox;

    private sealed class OffLoopBox;

    [Fact]
    public async Task On_a_loop_a_box_returned_there_is_the_next_one_rented_there()
    {
        using var loop = new EpollLoop("test-boxes");
        var first = new SameThreadBox();
        var second = new SameThreadBox();
        var rented = await loop.RunOn(() =>
        {
            BoxPool<SameThreadBox>.Return(first);
            BoxPool<SameThreadBox>.Return(second);
            return new[] { BoxPool<SameThreadBox>.Rent(), BoxPool<SameThreadBox>.Rent(), BoxPool<SameThreadBox>.Rent() };
        });
        Assert.Same(second, rented[0]);
        Assert.Same(first, rented[1]);
        Assert.Null(rented[2]);
    }

    [Fact]
    public async Task Past_a_loops_own_boxes_returns_go_to_the_shared_pool()
    {
        using var loop = new EpollLoop("test-boxes-overflow");
        var boxes = Enumerable.Range(0, 20).Select(_ => new OverflowBox()).ToArray();
        // The loop keeps its first 16; the last 4 are shared, and another thread rents them in order.
        await loop.RunOn(() =>
        {
            foreach (var box in boxes)
            {
                BoxPool<OverflowBox>.Return(box);
            }

            return 0;
        });
        Assert.Equal(boxes[16..], RentAll<OverflowBox>());
    }

    [Fact]
    public void Off_a_loop_every_return_is_shared()
    {
        // A thread-pool thread may return boxes another thread rented: it keeps none for itself.
        var boxes = Enumerable.Range(0, 3).Select(_ => new OffLoopBox()).ToArray();
        var returning = new Thread(() =>
        {
            foreach (var box in boxes)
            {
                BoxPool<OffLoopBox>.Return(box);
            }
        });
        returning.Start();
        returning.Join();
        Assert.Equal(boxes, RentAll<OffLoopBox>());
    }

    private static List<T> RentAll<T>()
        where T : class
    {
        var rented = new List<T>();
        while (BoxPool<T>.Rent() is { } box)
        {
            rented.Add(box);
        }

        return rented;
    }
}
