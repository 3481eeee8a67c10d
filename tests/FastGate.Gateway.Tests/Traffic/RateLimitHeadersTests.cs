using System.Diagnostics;
using System.Text;
using FastGate.Gateway.Traffic;

namespace FastGate.Gateway.Tests.Traffic;

public class RateLimitHeadersTests
{
    [Theory]
    [InlineData("per_client", 100, 1000, 200, "\"per_client\";q=100;w=1;fastgate-burst=200")]
    [InlineData("p", 100, 1000, 100, "\"p\";q=100;w=1")]
    [InlineData("slow", 30, 60_000, 30, "\"slow\";q=30;w=60")]
    [InlineData("half", 10, 500, 5, "\"half\";q=20;w=1;fastgate-burst=5")]
    [InlineData("a\"b\\c", 1, 1000, 1, "\"a\\\"b\\\\c\";q=1;w=1")]
    public void Policy_value_follows_the_draft_syntax(string name, long rate, int perMs, long burst, string expected)
    {
        var policy = new RateLimitPolicy(name, rate, TimeSpan.FromMilliseconds(perMs), burst, RateLimitKeyKind.Route);
        Span<byte> buffer = stackalloc byte[128];
        Assert.True(RateLimitHeaders.TryWritePolicy(policy, buffer, out int written));
        Assert.Equal(expected, Encoding.ASCII.GetString(buffer[..written]));
    }

    [Fact]
    public void RateLimit_and_RetryAfter_values_are_written_from_the_decision()
    {
        var policy = new RateLimitPolicy("per_client", 10, TimeSpan.FromSeconds(1), 5, RateLimitKeyKind.ClientIp);
        var limiter = new LocalRateLimiter(policy, seed: 1);
        long now = 50 * Stopwatch.Frequency;
        RateLimitDecision decision = default;
        for (int i = 0; i < 6; i++)
        {
            decision = limiter.Acquire("ip"u8, now);
            if (i == 1)
            {
                AssertRateLimit(policy, decision, "\"per_client\";r=3;t=1");
            }
        }

        Assert.False(decision.Allowed);
        AssertRateLimit(policy, decision, "\"per_client\";r=0;t=1");
        Span<byte> buffer = stackalloc byte[16];
        Assert.True(RateLimitHeaders.TryWriteRetryAfter(decision, buffer, out int written));
        Assert.Equal("1", Encoding.ASCII.GetString(buffer[..written]));
    }

    [Fact]
    public void Too_small_a_destination_is_refused()
    {
        var policy = new RateLimitPolicy("per_client", 10, TimeSpan.FromSeconds(1), 5, RateLimitKeyKind.ClientIp);
        var decision = RateLimitDecision.Allow(12345, 1);
        byte[] buffer = new byte[RateLimitHeaders.MaxRateLimitLength(policy)];
        Assert.True(RateLimitHeaders.TryWriteRateLimit(policy, decision, buffer, out int full));
        for (int size = 0; size < full; size++)
        {
            Assert.False(RateLimitHeaders.TryWriteRateLimit(policy, decision, buffer.AsSpan(0, size), out _));
        }

        Assert.False(RateLimitHeaders.TryWritePolicy(policy, buffer.AsSpan(0, 5), out _));
    }

    [Fact]
    public void Writing_the_values_allocates_nothing()
    {
        var policy = new RateLimitPolicy("per_client", 10, TimeSpan.FromSeconds(1), 5, RateLimitKeyKind.ClientIp);
        var decision = RateLimitDecision.Deny(3, 4);
        Span<byte> buffer = stackalloc byte[128];
        static void Run(RateLimitPolicy policy, in RateLimitDecision decision, Span<byte> buffer, int count)
        {
            for (int i = 0; i < count; i++)
            {
                RateLimitHeaders.TryWritePolicy(policy, buffer, out _);
                RateLimitHeaders.TryWriteRateLimit(policy, decision, buffer, out _);
                RateLimitHeaders.TryWriteRetryAfter(decision, buffer, out _);
            }
        }

        // Best of three: tiered compilation may allocate on this thread while promoting code.
        Run(policy, decision, buffer, 1_000);
        long best = long.MaxValue;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Run(policy, decision, buffer, 1_000);
            best = Math.Min(best, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, best);
    }

    [Fact]
    public void Invalid_policies_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RateLimitPolicy("x", 0, TimeSpan.FromSeconds(1), 1, RateLimitKeyKind.Route));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RateLimitPolicy("x", 1, TimeSpan.Zero, 1, RateLimitKeyKind.Route));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RateLimitPolicy("x", 1, TimeSpan.FromSeconds(1), 0, RateLimitKeyKind.Route));
        Assert.Throws<ArgumentException>(() => new RateLimitPolicy("x", 1, TimeSpan.FromSeconds(1), 1, RateLimitKeyKind.Header));
        Assert.Throws<ArgumentException>(() => new RateLimitPolicy("é", 1, TimeSpan.FromSeconds(1), 1, RateLimitKeyKind.Route));
    }

    [Theory]
    [InlineData("client_ip", true, "ClientIp", null)]
    [InlineData("route", true, "Route", null)]
    [InlineData("claim:sub", true, "Claim", "sub")]
    [InlineData("header:X-Api-Key", true, "Header", "X-Api-Key")]
    [InlineData("header:", false, "ClientIp", null)]
    [InlineData("cookie:a", false, "ClientIp", null)]
    [InlineData("ip", false, "ClientIp", null)]
    public void Key_settings_parse(string text, bool valid, string kind, string? name)
    {
        Assert.Equal(valid, RateLimitPolicy.TryParseKey(text, out RateLimitKeyKind parsed, out string? parsedName));
        Assert.Equal(kind, parsed.ToString());
        Assert.Equal(name, parsedName);
    }

    private static void AssertRateLimit(RateLimitPolicy policy, RateLimitDecision decision, string expected)
    {
        Span<byte> buffer = stackalloc byte[64];
        Assert.True(RateLimitHeaders.TryWriteRateLimit(policy, decision, buffer, out int written));
        Assert.Equal(expected, Encoding.ASCII.GetString(buffer[..written]));
    }
}
