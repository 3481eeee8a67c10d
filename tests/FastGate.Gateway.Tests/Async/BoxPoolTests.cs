using FastGate.Gateway.Async;

namespace FastGate.Gateway.Tests.Async;

public sealed class BoxPoolTests
{
    // A type of its own per test, so the pools' static state is not shared between tests.
    private sealed class SameThreadBox;

    private sealed class OverflowBox;

    [Fact]
    public void A_box_returned_on_a_thread_is_the_next_one_rented_there()
    {
        Assert.Null(BoxPool<SameThreadBox>.Rent());
        var first = new SameThreadBox();
        var second = new SameThreadBox();
        BoxPool<SameThreadBox>.Return(first);
        BoxPool<SameThreadBox>.Return(second);
        Assert.Same(second, BoxPool<SameThreadBox>.Rent());
        Assert.Same(first, BoxPool<SameThreadBox>.Rent());
        Assert.Null(BoxPool<SameThreadBox>.Rent());
    }

    [Fact]
    public async Task Past_a_threads_own_boxes_returns_go_to_the_shared_pool()
    {
        var boxes = Enumerable.Range(0, 20).Select(_ => new OverflowBox()).ToArray();
        // On a thread of its own: its first 16 stay there, the last 4 are shared.
        var returning = new Thread(() =>
        {
            foreach (var box in boxes)
            {
                BoxPool<OverflowBox>.Return(box);
            }
        });
        returning.Start();
        returning.Join();

        var seen = await Task.Run(() =>
        {
            var rented = new List<OverflowBox>();
            while (BoxPool<OverflowBox>.Rent() is { } box)
            {
                rented.Add(box);
            }

            return rented;
        });
        Assert.Equal(boxes[16..], seen);
    }
}
