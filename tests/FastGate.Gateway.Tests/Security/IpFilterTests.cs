using System.Net;
using FastGate.Gateway.Security;

namespace FastGate.Gateway.Tests.Security;

public class IpFilterTests
{
    private static IpFilter Create(string[] allow, string[] deny)
    {
        Assert.True(IpFilter.TryCreate(allow, deny, out IpFilter? filter, out List<string> errors), string.Join("; ", errors));
        return filter!;
    }

    private static bool Allowed(IpFilter filter, string address) => filter.IsAllowed(IPAddress.Parse(address).GetAddressBytes());

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.255.255.255", true)]
    [InlineData("128.0.0.0", false)]
    [InlineData("126.255.255.255", false)]
    [InlineData("10.1.2.3", true)]
    [InlineData("10.9.0.1", false)]
    [InlineData("10.9.0.0", false)]
    [InlineData("10.9.255.255", false)]
    [InlineData("10.10.0.0", true)]
    [InlineData("192.168.1.1", false)]
    [InlineData("::1", true)]
    [InlineData("::2", false)]
    [InlineData("2001:db8::1", true)]
    [InlineData("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true)]
    [InlineData("2001:db9::", false)]
    [InlineData("2001:db8:0:bad::1", false)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("::ffff:10.9.0.1", false)]
    [InlineData("::ffff:192.168.1.1", false)]
    public void Deny_wins_and_a_non_empty_allow_list_must_match(string address, bool expected)
    {
        IpFilter filter = Create(
            ["127.0.0.0/8", "10.0.0.0/8", "::1/128", "2001:db8::/32"],
            ["10.9.0.0/16", "2001:db8:0:bad::/64"]);

        Assert.Equal(expected, Allowed(filter, address));
    }

    [Theory]
    [InlineData("203.0.113.7", true)]
    [InlineData("198.51.100.1", false)]
    [InlineData("::ffff:198.51.100.1", false)]
    [InlineData("2001:db8::1", true)]
    public void An_empty_allow_list_allows_all_but_the_denied(string address, bool expected)
    {
        IpFilter filter = Create([], ["198.51.100.0/24"]);

        Assert.Equal(expected, Allowed(filter, address));
    }

    [Theory]
    [InlineData("::ffff:10.0.0.0/104", "10.1.2.3", true)]
    [InlineData("::ffff:10.0.0.0/104", "::ffff:10.1.2.3", true)]
    [InlineData("::ffff:10.0.0.0/104", "11.0.0.1", false)]
    [InlineData("10.0.0.0/8", "::ffff:10.1.2.3", true)]
    [InlineData("::/0", "192.0.2.1", true)]
    [InlineData("::/0", "2001:db8::1", true)]
    [InlineData("0.0.0.0/0", "2001:db8::1", false)]
    [InlineData("0.0.0.0/0", "::ffff:192.0.2.1", true)]
    [InlineData("192.0.2.1", "192.0.2.1", true)]
    [InlineData("192.0.2.1", "192.0.2.2", false)]
    [InlineData("::/96", "0.0.0.1", false)]
    public void Ipv4_mapped_addresses_match_as_ipv4(string allow, string address, bool expected)
    {
        IpFilter filter = Create([allow], []);

        Assert.Equal(expected, Allowed(filter, address));
    }

    [Fact]
    public void Overlapping_and_adjacent_blocks_are_merged()
    {
        IpFilter filter = Create(["10.0.0.0/25", "10.0.0.128/25", "10.0.0.0/8", "10.0.0.0/24", "11.0.0.0/8", "255.255.255.255/32"], []);

        Assert.True(Allowed(filter, "10.255.255.255"));
        Assert.True(Allowed(filter, "11.0.0.0"));
        Assert.True(Allowed(filter, "11.255.255.255"));
        Assert.False(Allowed(filter, "12.0.0.0"));
        Assert.False(Allowed(filter, "9.255.255.255"));
        Assert.True(Allowed(filter, "255.255.255.255"));
    }

    [Fact]
    public void Large_lists_match_exactly()
    {
        var blocks = Enumerable.Range(0, 1000).Select(i => $"10.{i / 256}.{i % 256}.0/24").Where((_, i) => i % 2 == 0).ToArray();
        IpFilter filter = Create(blocks, []);

        for (int i = 0; i < 1000; i++)
        {
            Assert.Equal(i % 2 == 0, Allowed(filter, $"10.{i / 256}.{i % 256}.77"));
        }
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 127, 0, 1 })]
    [InlineData(new byte[] { 127, 0, 0, 1, 0 })]
    public void Addresses_of_other_lengths_are_denied(byte[] bytes)
    {
        IpFilter filter = Create([], []);

        Assert.False(filter.IsAllowed(bytes));
    }

    [Fact]
    public void Matching_allocates_nothing()
    {
        IpFilter filter = Create(["10.0.0.0/8", "2001:db8::/32"], ["10.9.0.0/16"]);
        byte[] v4 = IPAddress.Parse("10.1.2.3").GetAddressBytes();
        byte[] v6 = IPAddress.Parse("::ffff:10.1.2.3").GetAddressBytes();
        filter.IsAllowed(v4);

        long before = GC.GetAllocatedBytesForCurrentThread();
        int allowed = 0;
        for (int i = 0; i < 10_000; i++)
        {
            allowed += (filter.IsAllowed(v4) ? 1 : 0) + (filter.IsAllowed(v6) ? 1 : 0);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(20_000, allowed);
    }

    [Fact]
    public void Invalid_entries_are_all_reported_with_a_fix()
    {
        Assert.False(IpFilter.TryCreate(["10.0.0.1/8", "nope", "10.0.0.0/33"], ["::1/129", "fe80::1%eth0"], out IpFilter? filter, out List<string> errors));

        Assert.Null(filter);
        Assert.Equal(
            [
                "'10.0.0.1/8' has host bits set; did you mean '10.0.0.0/8'?",
                "'nope' is not an IP address or CIDR block (e.g. \"10.0.0.0/8\" or \"2001:db8::/32\")",
                "'10.0.0.0/33' has an invalid prefix length (0 to 32)",
                "'::1/129' has an invalid prefix length (0 to 128)",
                "'fe80::1%eth0' is not an IP address or CIDR block (e.g. \"10.0.0.0/8\" or \"2001:db8::/32\")",
            ],
            errors);
    }
}
