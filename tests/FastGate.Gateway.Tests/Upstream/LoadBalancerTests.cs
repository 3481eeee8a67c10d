using System.Text;
using FastGate.Gateway.Model;
using FastGate.Gateway.Upstream;
using static FastGate.Gateway.Tests.Upstream.UpstreamTestKit;

namespace FastGate.Gateway.Tests.Upstream;

public sealed class LoadBalancerTests
{
    private static UpstreamState State(BalanceMode mode, params int[] weights) =>
        new(NewUpstream("u", [.. weights.Select((w, i) => Endpoint(9001 + i, w))], balance: mode, markDownFor: TimeSpan.FromMinutes(1)));

    private static int IndexOf(UpstreamState state, EndpointState? endpoint)
    {
        Assert.NotNull(endpoint);
        for (var i = 0; i < state.Endpoints.Count; i++)
        {
            if (state.Endpoints[i] == endpoint)
            {
                return i;
            }
        }

        throw new InvalidOperationException("not an endpoint of this state");
    }

    private static int PickIndex(UpstreamState state, EndpointState? exclude = null) => IndexOf(state, state.Pick(new BalanceContext([]), exclude));

    [Fact]
    public void Round_robin_cycles_in_order()
    {
        var state = State(BalanceMode.RoundRobin, 1, 1, 1);
        var picks = Enumerable.Range(0, 9).Select(_ => PickIndex(state)).ToArray();
        Assert.Equal([0, 1, 2, 0, 1, 2, 0, 1, 2], picks);
    }

    [Fact]
    public void Round_robin_skips_unavailable_and_excluded_endpoints()
    {
        var state = State(BalanceMode.RoundRobin, 1, 1, 1);
        state.Endpoints[1].MarkDown();
        Assert.Equal([0, 2, 0, 2], Enumerable.Range(0, 4).Select(_ => PickIndex(state)).ToArray());
        Assert.Equal(2, PickIndex(state, exclude: state.Endpoints[0]));
        Assert.Equal(2, PickIndex(state, exclude: state.Endpoints[0]));
    }

    [Theory]
    [InlineData((int)BalanceMode.RoundRobin)]
    [InlineData((int)BalanceMode.LeastRequests)]
    [InlineData((int)BalanceMode.PowerOfTwoChoices)]
    [InlineData((int)BalanceMode.Weighted)]
    [InlineData((int)BalanceMode.Hash)]
    public void Every_mode_returns_null_when_no_endpoint_is_available(int mode)
    {
        var state = State((BalanceMode)mode, 1, 2, 3);
        foreach (var endpoint in state.Endpoints)
        {
            endpoint.MarkDown();
        }

        Assert.Null(state.Pick(new BalanceContext("k"u8), null));
    }

    [Theory]
    [InlineData((int)BalanceMode.RoundRobin)]
    [InlineData((int)BalanceMode.LeastRequests)]
    [InlineData((int)BalanceMode.PowerOfTwoChoices)]
    [InlineData((int)BalanceMode.Weighted)]
    [InlineData((int)BalanceMode.Hash)]
    public void Every_mode_honours_exclude_and_availability(int mode)
    {
        var state = State((BalanceMode)mode, 1, 1, 1);
        state.Endpoints[0].MarkDown();
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(2, IndexOf(state, state.Pick(new BalanceContext(Encoding.ASCII.GetBytes($"key{i}")), state.Endpoints[1])));
        }

        // Down plus excluded covers all but one; with that one down too, nothing is left.
        state.Endpoints[2].MarkDown();
        Assert.Null(state.Pick(new BalanceContext("k"u8), state.Endpoints[1]));
        Assert.Equal(1, IndexOf(state, state.Pick(new BalanceContext("k"u8), null)));
    }

    [Fact]
    public void Weighted_three_to_one_gives_exact_counts_and_interleaves()
    {
        var state = State(BalanceMode.Weighted, 3, 1);
        var picks = Enumerable.Range(0, 400).Select(_ => PickIndex(state)).ToArray();
        Assert.Equal(300, picks.Count(p => p == 0));
        Assert.Equal(100, picks.Count(p => p == 1));
        // Smooth: A A B A, not A A A B.
        Assert.Equal([0, 0, 1, 0, 0, 0, 1, 0], picks[..8]);
    }

    [Fact]
    public async Task Weighted_counts_stay_exact_under_concurrent_picks()
    {
        var state = State(BalanceMode.Weighted, 3, 1);
        var counts = new int[2];
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                Interlocked.Increment(ref counts[PickIndex(state)]);
            }
        })));
        Assert.Equal(3000, counts[0]);
        Assert.Equal(1000, counts[1]);
    }

    [Fact]
    public void Least_requests_prefers_the_idle_endpoint_and_rotates_ties()
    {
        var state = State(BalanceMode.LeastRequests, 1, 1, 1);
        state.Endpoints[0].OnRequestStart();
        state.Endpoints[2].OnRequestStart();
        state.Endpoints[2].OnRequestStart();
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(1, PickIndex(state));
        }

        state.Endpoints[1].OnRequestStart();
        state.Endpoints[1].OnRequestStart();
        Assert.Equal(0, PickIndex(state));

        // All equal: ties spread over every endpoint.
        state.Endpoints[0].OnRequestStart();
        var tied = Enumerable.Range(0, 30).Select(_ => PickIndex(state)).ToArray();
        Assert.Equal([0, 1, 2], tied.Distinct().Order().ToArray());
        Assert.All(new[] { 0, 1, 2 }, i => Assert.Equal(10, tied.Count(p => p == i)));

        state.Endpoints[2].OnRequestEnd();
        Assert.Equal(2, PickIndex(state));
        Assert.Equal(1, state.Endpoints[2].ActiveRequests);
        Assert.Equal(2, state.Endpoints[2].TotalRequests);
    }

    [Fact]
    public void P2c_with_two_endpoints_never_picks_the_busier()
    {
        var state = State(BalanceMode.PowerOfTwoChoices, 1, 1);
        state.Endpoints[0].OnRequestStart();
        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(1, PickIndex(state));
        }
    }

    [Fact]
    public void P2c_spreads_over_idle_endpoints()
    {
        var state = State(BalanceMode.PowerOfTwoChoices, 1, 1, 1, 1);
        var counts = new int[4];
        for (var i = 0; i < 4000; i++)
        {
            counts[PickIndex(state)]++;
        }

        Assert.All(counts, c => Assert.InRange(c, 700, 1300));
    }

    [Fact]
    public void Hash_sends_a_key_to_the_same_endpoint_and_spreads_keys()
    {
        var state = State(BalanceMode.Hash, 1, 1, 1, 1);
        var counts = new int[4];
        for (var i = 0; i < 2000; i++)
        {
            var key = Encoding.ASCII.GetBytes($"10.0.{i / 256}.{i % 256}");
            var first = IndexOf(state, state.Pick(new BalanceContext(key), null));
            Assert.Equal(first, IndexOf(state, state.Pick(new BalanceContext(key), null)));
            counts[first]++;
        }

        Assert.All(counts, c => Assert.InRange(c, 350, 650));
    }

    [Fact]
    public void Hash_is_deterministic_across_instances()
    {
        var a = State(BalanceMode.Hash, 1, 1, 1, 1);
        var b = State(BalanceMode.Hash, 1, 1, 1, 1);
        for (var i = 0; i < 200; i++)
        {
            var key = Encoding.ASCII.GetBytes($"user-{i}");
            Assert.Equal(IndexOf(a, a.Pick(new BalanceContext(key), null)), IndexOf(b, b.Pick(new BalanceContext(key), null)));
        }

        // FNV-1a 64 reference value for "a" (from the published test vectors).
        Assert.Equal(0xaf63dc4c8601ec8cUL, HashBalancer.Fnv1a("a"u8));
    }

    [Fact]
    public void Hash_moves_only_the_keys_of_an_endpoint_that_goes_away()
    {
        var all = new UpstreamState(NewUpstream("u", [Endpoint(9001), Endpoint(9002), Endpoint(9003), Endpoint(9004)], BalanceMode.Hash));
        var without = new UpstreamState(NewUpstream("u", [Endpoint(9001), Endpoint(9002), Endpoint(9004)], BalanceMode.Hash));
        var marked = new UpstreamState(NewUpstream("u", [Endpoint(9001), Endpoint(9002), Endpoint(9003), Endpoint(9004)], BalanceMode.Hash, markDownFor: TimeSpan.FromMinutes(1)));
        marked.Endpoints[2].MarkDown();
        var moved = 0;
        for (var i = 0; i < 2000; i++)
        {
            var key = Encoding.ASCII.GetBytes($"session-{i}");
            var before = all.Pick(new BalanceContext(key), null)!.Model.Authority;
            var afterRemoval = without.Pick(new BalanceContext(key), null)!.Model.Authority;
            var afterMarkDown = marked.Pick(new BalanceContext(key), null)!.Model.Authority;
            Assert.Equal(afterRemoval, afterMarkDown);
            if (before == "127.0.0.1:9003")
            {
                moved++;
                Assert.NotEqual(before, afterRemoval);
            }
            else
            {
                Assert.Equal(before, afterRemoval);
            }
        }

        Assert.InRange(moved, 350, 650);
    }
}
