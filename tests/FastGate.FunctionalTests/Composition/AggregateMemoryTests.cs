using System.Text;
using FastGate.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FastGate.FunctionalTests.Composition;

/// <summary>
/// A 50 MB part streams through the merger with flat memory: the bytes allocated by the whole process
/// (gateway, backend and client) while it streams are a small fraction of the part's size.
/// </summary>
[Collection(nameof(Performance.AllocationCounting))]
public sealed class AggregateMemoryTests
{
    private const int BlockSize = 64 * 1024;
    private const int Blocks = 800;

    [Fact]
    public async Task A_50_MB_part_streams_with_flat_memory()
    {
        // One 64 KiB block of identical array elements, sent 800 times: "[" + elements + "{}]".
        var element = Encoding.ASCII.GetBytes("{\"pad\":\"" + new string('x', 118) + "\"},");
        var block = new byte[BlockSize];
        for (int i = 0; i < BlockSize / element.Length; i++)
        {
            element.CopyTo(block, i * element.Length);
        }

        int used = BlockSize / element.Length * element.Length;
        long partLength = 1 + ((long)used * Blocks) + 3;
        await using var backend = await TestBackend.StartAsync(app => app.MapGet("/big", async (HttpContext c) =>
        {
            c.Response.ContentType = "application/json";
            await c.Response.Body.WriteAsync("["u8.ToArray());
            for (int i = 0; i < Blocks; i++)
            {
                await c.Response.Body.WriteAsync(block.AsMemory(0, used));
            }

            await c.Response.Body.WriteAsync("{}]"u8.ToArray());
        }));
        await using var gateway = await TestGateway.StartAsync($$"""
            [upstreams.big]
            endpoints = ["{{backend.Address}}"]

            [[routes]]
            name = "big"
            match = { path = "/big" }
            aggregate = [{ key = "big", upstream = "big", path = "/big" }]
            aggregate_timeout = "30s"
            """);
        using var client = gateway.CreateClient();
        var buffer = new byte[BlockSize];

        long before = GC.GetTotalAllocatedBytes(precise: true);
        using var response = await client.GetAsync("/big", HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        long total = 0;
        var head = new byte[8];
        byte last = 0;
        byte beforeLast = 0;
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
        {
            if (total < head.Length)
            {
                buffer.AsSpan(0, (int)Math.Min(n, head.Length - total)).CopyTo(head.AsSpan((int)total));
            }

            beforeLast = n > 1 ? buffer[n - 2] : last;
            last = buffer[n - 1];
            total += n;
        }

        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(200, (int)response.StatusCode);
        Assert.True(partLength > 50_000_000);
        Assert.Equal("{\"big\":".Length + partLength + 1, total);
        Assert.Equal("{\"big\":[", Encoding.ASCII.GetString(head));
        Assert.Equal("]}", Encoding.ASCII.GetString([beforeLast, last]));
        Console.WriteLine($"streamed {total:N0} bytes; the process allocated {allocated:N0} bytes meanwhile");
        Assert.True(allocated < 16 * 1024 * 1024, $"allocated {allocated:N0} bytes while streaming a {partLength:N0}-byte part");
    }
}
