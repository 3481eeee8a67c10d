using System.Net;
using BenchmarkDotNet.Attributes;
using FastGate.Gateway.Security;

namespace FastGate.Benchmarks.Security;

/// <summary>
/// IpFilter.IsAllowed over an allow list of N blocks (IPv4 /24s and IPv6 /48s) and a deny list of N/10, for an
/// IPv4 client, an IPv6 client and an IPv4-mapped IPv6 client (what a dual-stack socket reports). The baseline is
/// the obvious code: System.Net.IPNetwork.Contains over each list.
/// </summary>
[MemoryDiagnoser]
public class IpFilterBenchmarks
{
    private IpFilter _filter = null!;
    private IPNetwork[] _allow = [];
    private IPNetwork[] _deny = [];
    private byte[] _v4 = [];
    private byte[] _v6 = [];
    private byte[] _mapped = [];
    private IPAddress _v4Address = IPAddress.None;

    [Params(10, 1000)]
    public int Blocks { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var allow = new List<string>();
        var deny = new List<string>();
        for (int i = 0; i < Blocks; i++)
        {
            allow.Add(i % 2 == 0 ? $"10.{i / 256 % 256}.{i % 256}.0/24" : $"2001:db8:{i:x}::/48");
            if (i % 10 == 0)
            {
                deny.Add($"10.{i / 256 % 256}.{i % 256}.128/25");
            }
        }

        if (!IpFilter.TryCreate(allow, deny, out IpFilter? filter, out List<string> errors))
        {
            throw new InvalidOperationException(string.Join("; ", errors));
        }

        _filter = filter!;
        _allow = [.. allow.Select(c => IPNetwork.Parse(c))];
        _deny = [.. deny.Select(c => IPNetwork.Parse(c))];
        int middle = Blocks / 2 / 2 * 2;
        _v4Address = IPAddress.Parse($"10.{middle / 256 % 256}.{middle % 256}.7");
        _v4 = _v4Address.GetAddressBytes();
        _v6 = IPAddress.Parse($"2001:db8:{middle + 1:x}::7").GetAddressBytes();
        _mapped = _v4Address.MapToIPv6().GetAddressBytes();
        if (!Ipv4() || !Ipv6() || !MappedIpv4() || !LinearIPNetwork())
        {
            throw new InvalidOperationException("the benchmark addresses must be allowed");
        }
    }

    [Benchmark(Baseline = true)]
    public bool LinearIPNetwork()
    {
        foreach (IPNetwork network in _deny)
        {
            if (network.Contains(_v4Address))
            {
                return false;
            }
        }

        foreach (IPNetwork network in _allow)
        {
            if (network.Contains(_v4Address))
            {
                return true;
            }
        }

        return false;
    }

    [Benchmark]
    public bool Ipv4() => _filter.IsAllowed(_v4);

    [Benchmark]
    public bool Ipv6() => _filter.IsAllowed(_v6);

    [Benchmark]
    public bool MappedIpv4() => _filter.IsAllowed(_mapped);
}
