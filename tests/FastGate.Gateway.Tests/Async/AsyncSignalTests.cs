using FastGate.Gateway.Async;

namespace FastGate.Gateway.Tests.Async;

public sealed class AsyncSignalTests
{
    [Fact]
    public async Task A_set_before_the_wait_is_remembered_once()
    {
        var signal = new AsyncSignal();
        signal.Set();
        signal.Set();
        Assert.True(await signal.WaitAsync());
        var second = signal.WaitAsync();
        Assert.False(second.IsCompleted);
        signal.Set();
        Assert.True(await second);
    }

    [Fact]
    public async Task Close_wakes_the_waiter_with_false_until_reopened()
    {
        var signal = new AsyncSignal();
        var waiting = signal.WaitAsync();
        signal.Close();
        Assert.False(await waiting);
        Assert.False(await signal.WaitAsync());
        signal.Reopen();
        signal.Set();
        Assert.True(await signal.WaitAsync());
    }

    [Fact]
    public async Task Waits_are_reusable_many_times()
    {
        var signal = new AsyncSignal();
        for (int i = 0; i < 1000; i++)
        {
            var wait = signal.WaitAsync();
            _ = Task.Run(signal.Set);
            Assert.True(await wait);
        }
    }
}
