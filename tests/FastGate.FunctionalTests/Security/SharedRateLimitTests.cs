using FastGate.FunctionalTests.Infrastructure;
using FastGate.Gateway.Tests.Traffic;

namespace FastGate.FunctionalTests.Security;

/// <summary>Two gateway instances share one rate limit through a real redis-server.</summary>
public sealed class SharedRateLimitTests
{
    [Fact]
    public async Task Two_gateways_share_one_limit_through_redis()
    {
        using var redis = new RedisServerProcess();
        await using var backend = await TestBackend.StartAsync();
        string routes = $$"""
            [redis]
            address = "{{redis.Address}}"

            [rate_limits.shared]
            rate = 2
            per = "1m"
            burst = 3
            key = "route"
            store = "redis"
            on_store_failure = "closed"

            [upstreams.backend]
            endpoints = ["{{backend.Address}}"]

            [[routes]]
            name = "limited"
            match = { path = "/{*rest}" }
            upstream = "backend"
            rate_limit = "shared"
            """;
        await using var first = await TestGateway.StartAsync(routes);
        await using var second = await TestGateway.StartAsync(routes);

        var statuses = new List<int>();
        for (int i = 0; i < 6; i++)
        {
            using var connection = (i % 2 == 0 ? first : second).Connect();
            connection.Send("GET /x HTTP/1.1\r\nHost: api.test\r\n\r\n");
            statuses.Add(connection.ReadResponse().Status);
        }

        // The burst of 3 is spent across both instances, not 3 per instance.
        Assert.Equal([200, 200, 200, 429, 429, 429], statuses);
        Assert.Equal(3, backend.Requests);
    }
}
