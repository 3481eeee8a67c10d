using FastGate.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Builder;

namespace FastGate.FunctionalTests.Proxy;

/// <summary>Issue 2, point 5: load balancing as seen from outside, by which backend answered.</summary>
public sealed class LoadBalancingTests
{
    private static Task<TestBackend> StartNamedAsync(string name) =>
        TestBackend.StartAsync(app => app.Map("/{**path}", () => name));

    private static Task<TestGateway> StartAsync(string endpoints, string balance) => TestGateway.StartAsync($$"""
        [upstreams.backend]
        endpoints = [{{endpoints}}]
        {{balance}}

        [[routes]]
        name = "all"
        match = { path = "/{*rest}" }
        upstream = "backend"
        """);

    [Fact]
    public async Task Round_robin_alternates()
    {
        await using var a = await StartNamedAsync("A");
        await using var b = await StartNamedAsync("B");
        await using var gateway = await StartAsync($"\"{a.Address}\", \"{b.Address}\"", "balance = \"round_robin\"");
        using var client = gateway.CreateClient();

        var answers = new List<string>();
        for (int i = 0; i < 10; i++)
        {
            answers.Add(await client.GetStringAsync($"/r{i}"));
        }

        for (int i = 1; i < answers.Count; i++)
        {
            Assert.NotEqual(answers[i - 1], answers[i]);
        }

        Assert.Equal((5, 5), (a.Requests, b.Requests));
    }

    [Fact]
    public async Task Weighted_three_to_one_over_forty_requests_is_thirty_to_ten()
    {
        await using var a = await StartNamedAsync("A");
        await using var b = await StartNamedAsync("B");
        await using var gateway = await StartAsync(
            $"{{ address = \"{a.Address}\", weight = 3 }}, {{ address = \"{b.Address}\", weight = 1 }}", "balance = \"weighted\"");
        using var client = gateway.CreateClient();

        for (int i = 0; i < 40; i++)
        {
            await client.GetStringAsync($"/r{i}");
        }

        Assert.Equal((30, 10), (a.Requests, b.Requests));
    }

    [Fact]
    public async Task Hash_on_a_header_sends_each_user_to_one_backend()
    {
        await using var a = await StartNamedAsync("A");
        await using var b = await StartNamedAsync("B");
        await using var gateway = await StartAsync($"\"{a.Address}\", \"{b.Address}\"", "balance = \"hash\"\nhash_key = \"header:X-User\"");
        using var client = gateway.CreateClient();

        var byUser = new Dictionary<string, HashSet<string>>();
        for (int round = 0; round < 4; round++)
        {
            for (int user = 0; user < 12; user++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/h");
                request.Headers.Add("x-user", $"user-{user}");
                using var response = await client.SendAsync(request);
                var name = await response.Content.ReadAsStringAsync();
                if (!byUser.TryGetValue($"user-{user}", out var seen))
                {
                    byUser[$"user-{user}"] = seen = [];
                }

                seen.Add(name);
            }
        }

        Assert.All(byUser.Values, backends => Assert.Single(backends));
        // Twelve users all on one of two backends would mean the key is not hashed at all.
        Assert.Equal(2, byUser.Values.Select(s => s.Single()).Distinct().Count());
    }
}
