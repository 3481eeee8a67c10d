using FastGate.Gateway.Configuration;
using FastGate.Gateway.Pipeline;
using FastGate.Gateway.Server;

namespace FastGate.FunctionalTests.Server;

/// <summary>The per-thread pool that lends an HTTP/1.1 connection its request objects for one request.</summary>
public sealed class Http1RequestStateTests
{
    [Fact]
    public async Task A_returned_state_is_lent_again_on_the_same_thread_and_never_twice_at_once()
    {
        await using var runtime = NewRuntime();
        // A thread of its own: the pool is per thread, and other tests' connections must not interleave.
        var (first, second, third, again) = await RunOnOwnThread(() =>
        {
            var a = Http1RequestState.Rent(runtime);
            var b = Http1RequestState.Rent(runtime);
            Http1RequestState.Return(a);
            var c = Http1RequestState.Rent(runtime);
            var d = Http1RequestState.Rent(runtime);
            Http1RequestState.Return(b);
            Http1RequestState.Return(c);
            Http1RequestState.Return(d);
            return (a, b, c, d);
        });

        Assert.NotSame(first, second);
        Assert.Same(first, third);
        Assert.NotSame(first, again);
        Assert.NotSame(second, again);
    }

    [Fact]
    public async Task A_state_made_for_another_gateway_is_not_reused()
    {
        await using var one = NewRuntime();
        await using var other = NewRuntime();
        var (returned, rented) = await RunOnOwnThread(() =>
        {
            var state = Http1RequestState.Rent(one);
            Http1RequestState.Return(state);
            return (state, Http1RequestState.Rent(other));
        });

        Assert.NotSame(returned, rented);
        Assert.Same(other, rented.Runtime);
    }

    private static GatewayRuntime NewRuntime()
    {
        var result = GatewayConfigLoader.LoadText("""
            [server]
            listen = ["127.0.0.1:1"]

            [upstreams.u]
            endpoints = ["127.0.0.1:1"]

            [[routes]]
            name = "r"
            match = { path = "/" }
            upstream = "u"
            """, "state.toml");
        return new GatewayRuntime(result.Model ?? throw new InvalidOperationException(string.Join('\n', result.Errors)));
    }

    private static Task<T> RunOnOwnThread<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                done.SetResult(work());
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        });
        thread.Start();
        return done.Task;
    }
}
