using System.Net;
using BenchmarkDotNet.Attributes;
using FastGate.Gateway.Model;
using FastGate.Gateway.Upstream;

namespace FastGate.Benchmarks.Upstream;

/// <summary>One Pick per mode over four available endpoints; round_robin is the baseline.</summary>
/// <remarks>Results are returned as object: EndpointState is internal and a reference needs no boxing.</remarks>
[MemoryDiagnoser]
public class LoadBalancerBenchmarks
{
    private static readonly byte[] ClientIp = [192, 168, 17, 42];

    private UpstreamState _roundRobin = null!;
    private UpstreamState _leastRequests = null!;
    private UpstreamState _p2c = null!;
    private UpstreamState _weighted = null!;
    private UpstreamState _hash = null!;

    [GlobalSetup]
    public void Setup()
    {
        _roundRobin = Create(BalanceMode.RoundRobin);
        _leastRequests = Create(BalanceMode.LeastRequests);
        _p2c = Create(BalanceMode.PowerOfTwoChoices);
        _weighted = Create(BalanceMode.Weighted);
        _hash = Create(BalanceMode.Hash);
    }

    [Benchmark(Baseline = true)]
    public object? RoundRobin() => _roundRobin.Pick(new BalanceContext(ClientIp), null);

    [Benchmark]
    public object? LeastRequests() => _leastRequests.Pick(new BalanceContext(ClientIp), null);

    [Benchmark]
    public object? PowerOfTwoChoices() => _p2c.Pick(new BalanceContext(ClientIp), null);

    [Benchmark]
    public object? Weighted() => _weighted.Pick(new BalanceContext(ClientIp), null);

    [Benchmark]
    public object? Hash() => _hash.Pick(new BalanceContext(ClientIp), null);

    internal static UpstreamState Create(BalanceMode mode)
    {
        var endpoints = new EndpointModel[4];
        for (var i = 0; i < endpoints.Length; i++)
        {
            var address = new IPEndPoint(IPAddress.Loopback, 9001 + i);
            endpoints[i] = new EndpointModel { Address = address, Authority = address.ToString(), Weight = i + 1 };
        }

        var state = new UpstreamState(new UpstreamModel
        {
            Name = "bench",
            Endpoints = endpoints,
            Balance = mode,
            Pool = new PoolModel(),
        });

        // Uneven load so least_requests and p2c compare real numbers.
        for (var i = 0; i < endpoints.Length; i++)
        {
            for (var r = 0; r < i; r++)
            {
                state.Endpoints[i].OnRequestStart();
            }
        }

        return state;
    }
}
