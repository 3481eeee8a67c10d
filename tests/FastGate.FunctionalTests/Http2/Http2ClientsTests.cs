using System.Diagnostics;
using System.Net;
using System.Text;
using FastGate.FunctionalTests.Infrastructure;

namespace FastGate.FunctionalTests.Http2;

/// <summary>Real HTTP/2 clients over h2c with prior knowledge: HttpClient, curl, nghttp, h2load.</summary>
public sealed class Http2ClientsTests(H2GatewayFixture fixture) : IClassFixture<H2GatewayFixture>
{
    private static HttpClient H2Client(int port) => new()
    {
        BaseAddress = new Uri($"http://127.0.0.1:{port}"),
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(30),
    };

    internal static async Task<(int ExitCode, string Output)> RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await error);
    }

    [Fact]
    public async Task HttpClient_gets_the_same_answers_over_h2c_as_over_http1()
    {
        using var h2 = H2Client(fixture.Port);
        using var h1 = fixture.Gateway.CreateClient();
        foreach (var path in new[] { "/a/b?c=d", "/big", "/chunked" })
        {
            using var over2 = await h2.GetAsync(path);
            using var over1 = await h1.GetAsync(path);
            Assert.Equal(HttpVersion.Version20, over2.Version);
            Assert.Equal(over1.StatusCode, over2.StatusCode);
            Assert.Equal(await over1.Content.ReadAsByteArrayAsync(), await over2.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task HttpClient_posts_a_streamed_body()
    {
        using var h2 = H2Client(fixture.Port);
        var payload = Enumerable.Range(0, 300_000).Select(i => (byte)i).ToArray();
        using var content = new StreamContent(new MemoryStream(payload));
        using var response = await h2.PostAsync("/upload-streamed", content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(payload, fixture.Backend.Seen.Last(r => r.PathAndQuery == "/upload-streamed").Body);
    }

    [Fact]
    public async Task HttpClient_runs_many_streams_concurrently_on_one_connection()
    {
        using var h2 = H2Client(fixture.Port);
        var clock = Stopwatch.StartNew();
        // Four /slow requests (1 s each, the stream limit is 4) finish together, not one after another.
        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => h2.GetStringAsync($"/slow?i={i}")));
        Assert.Equal(Enumerable.Range(0, 4).Select(i => $"GET /slow?i={i}"), answers);
        Assert.InRange(clock.ElapsedMilliseconds, 900, 3500);
    }

    [Fact]
    public async Task HttpClient_sees_problem_documents()
    {
        await using var gateway = await TestGateway.StartAsync("""
            [upstreams.down]
            endpoints = ["127.0.0.1:1"]

            [[routes]]
            name = "down"
            match = { path = "/down" }
            upstream = "down"
            """);
        using var h2 = H2Client(gateway.Port);
        using var notFound = await h2.GetAsync("/nowhere");
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        Assert.Equal("application/problem+json", notFound.Content.Headers.ContentType!.MediaType);
        using var badGateway = await h2.GetAsync("/down");
        Assert.Equal(HttpStatusCode.BadGateway, badGateway.StatusCode);
        Assert.Contains("upstream-unreachable", await badGateway.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Curl_with_prior_knowledge()
    {
        var (exit, output) = await RunAsync("curl", "-sS", "-i", "--http2-prior-knowledge", "-H", "Cookie: a=1", "-H", "Cookie: b=2",
            $"http://127.0.0.1:{fixture.Port}/curl/path?q=1");
        Assert.Equal(0, exit);
        Assert.StartsWith("HTTP/2 200", output, StringComparison.Ordinal);
        Assert.EndsWith("GET /curl/path?q=1", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Curl_posts_over_h2c()
    {
        var (exit, output) = await RunAsync("curl", "-sS", "--http2-prior-knowledge", "-d", "field=value",
            $"http://127.0.0.1:{fixture.Port}/curl-post");
        Assert.Equal(0, exit);
        Assert.Equal("POST /curl-post", output);
        Assert.Equal("field=value", Encoding.ASCII.GetString(fixture.Backend.Seen.Last(r => r.PathAndQuery == "/curl-post").Body));
    }

    [Fact]
    public async Task Nghttp_gets_the_answer()
    {
        var (exit, output) = await RunAsync("nghttp", "-n", "-s", $"http://127.0.0.1:{fixture.Port}/nghttp");
        Assert.Equal(0, exit);
        Assert.Contains("200", output, StringComparison.Ordinal);
        var (bodyExit, body) = await RunAsync("nghttp", $"http://127.0.0.1:{fixture.Port}/nghttp-body");
        Assert.Equal(0, bodyExit);
        Assert.Equal("GET /nghttp-body", body);
    }

    [Fact]
    public async Task H2load_four_connections_of_twenty_streams_all_succeed()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        var (exit, output) = await RunAsync("h2load", "-n", "400", "-c", "4", "-m", "20", $"http://127.0.0.1:{gateway.Port}/load");
        Assert.Equal(0, exit);
        Assert.Contains("400 succeeded, 0 failed, 0 errored, 0 timeout", output, StringComparison.Ordinal);
        Assert.Contains("status codes: 400 2xx, 0 3xx, 0 4xx, 0 5xx", output, StringComparison.Ordinal);
    }
}
