using System.Net;
using FastGate.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FastGate.FunctionalTests.Proxy;

/// <summary>
/// Behaviour that must not change once the JIT has recompiled the hot path (tier 1 with dynamic PGO,
/// after a few hundred calls). A .NET 10 JIT miscompile made the chunked decoder refuse a body whose
/// input ended right after a chunk, but only once hot: single requests passed, a busy gateway failed.
/// </summary>
public sealed class HotPathRegressionTests
{
    private const int Requests = 3000;

    [Fact]
    public async Task Chunked_answers_that_arrive_chunk_by_chunk_stay_valid_when_the_decoder_is_hot()
    {
        await using var backend = await TestBackend.StartAsync(app => app.MapGet("/parts/{n}", async (HttpContext context, int n) =>
        {
            // Each flush is one chunk on the wire, so the gateway's input often ends at a chunk boundary.
            await context.Response.WriteAsync("part one, ");
            await context.Response.Body.FlushAsync();
            await context.Response.WriteAsync($"part {n}");
        }));
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var client = gateway.CreateClient();

        int failures = 0;
        string? firstFailure = null;
        await Parallel.ForAsync(0, Requests, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, cancel) =>
        {
            try
            {
                using var response = await client.GetAsync($"/parts/{i}", cancel);
                string body = await response.Content.ReadAsStringAsync(cancel);
                if (response.StatusCode != HttpStatusCode.OK || body != $"part one, part {i}")
                {
                    Interlocked.Increment(ref failures);
                    Interlocked.CompareExchange(ref firstFailure, $"{i}: {(int)response.StatusCode} {body}", null);
                }
            }
            catch (HttpRequestException ex)
            {
                Interlocked.Increment(ref failures);
                Interlocked.CompareExchange(ref firstFailure, $"{i}: {ex.Message}", null);
            }
        });

        Assert.True(failures == 0, $"{failures} of {Requests} failed; first: {firstFailure}");
    }

    [Fact]
    public async Task Chunked_requests_that_arrive_chunk_by_chunk_stay_valid_when_the_decoder_is_hot()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var connection = gateway.Connect();

        for (int i = 0; i < Requests / 3; i++)
        {
            // The head and first chunk, then the last chunk separately: the decoder first sees input
            // that ends right after a chunk.
            connection.Send($"POST /c/{i} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
            await Task.Delay(1);
            connection.Send("0\r\n\r\n");
            var response = connection.ReadResponse();
            Assert.True(response.Status == 200, $"request {i}: {response.Status} {response.BodyText}");
            Assert.Equal($"POST /c/{i}", response.BodyText);
        }
    }
}
