using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FastGate.FunctionalTests.Http2;
using FastGate.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FastGate.FunctionalTests.Composition;

/// <summary>Aggregate and batch routes over HTTP/2 streams (h2c with prior knowledge): HEADERS, then DATA, then END_STREAM.</summary>
public sealed class Http2CompositionTests
{
    private static HttpClient H2Client(TestGateway gateway) => new()
    {
        BaseAddress = gateway.BaseUri,
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>The profile aggregate route of <see cref="AggregateTests"/>, with a batch route and a proxied route next to it.</summary>
    private static Task<TestGateway> StartAsync(TestBackend backend, string parts, string extra = "") =>
        AggregateTests.StartAsync(backend, backend, parts, extra + """


            [[routes]]
            name = "batch"
            match = { path = "/batch" }
            batch = { max_requests = 5, max_concurrency = 2 }

            [[routes]]
            name = "plain"
            match = { path = "/plain/{*rest}" }
            upstream = "users"
            """);

    private static IResult Json(string body) => Results.Text(body, "application/json");

    private static Task<TestBackend> BackendAsync(TaskCompletionSource? slowRelease = null, TaskCompletionSource? holdAborted = null) =>
        TestBackend.StartAsync(app =>
        {
            // Odd spacing, escapes and number spellings: the merged answer carries them unchanged.
            // The user part answers late, so the merged order (completion order) is the same in every run.
            app.MapGet("/users/{id}", async (string id) =>
            {
                await Task.Delay(300);
                return Json($"{{ \"id\" : \"{id}\",\n  \"name\" : \"Zo\\u00eb 😀\", \"score\": 1.50E+2 }}");
            });
            app.MapGet("/orders", () => Json("[ {\"n\":1} ,{\"n\":2} ]"));
            app.MapGet("/fast", () => Json("{\"fast\":true}"));
            app.MapGet("/slow", async () =>
            {
                await slowRelease!.Task.WaitAsync(TimeSpan.FromSeconds(20));
                return Json("{\"slow\":true}");
            });
            app.MapGet("/broken", () => Results.StatusCode(503));
            app.MapGet("/hold", async (HttpContext c) =>
            {
                // Answers only when the gateway gives the part up.
                await Task.Delay(Timeout.Infinite, c.RequestAborted).ContinueWith(_ => holdAborted!.TrySetResult(), TaskScheduler.Default);
                return Json("{}");
            });
            app.MapGet("/plain/text", () => Results.Text("plain \"text\"\n", "text/plain"));
            app.MapPost("/plain/echo", async (HttpContext c) =>
            {
                using var reader = new StreamReader(c.Request.Body);
                return Json(await reader.ReadToEndAsync());
            });
        });

    private const string ProfileParts = """
          { key = "user",   upstream = "users", path = "/users/{id}" },
          { key = "orders", upstream = "users", path = "/orders", required = false },
        """;

    [Fact]
    public async Task An_aggregate_over_h2c_is_byte_for_byte_the_http1_answer()
    {
        await using var backend = await BackendAsync();
        await using var gateway = await StartAsync(backend, ProfileParts);
        using var h1 = gateway.CreateClient();
        using var h2 = H2Client(gateway);

        using var over1 = await h1.GetAsync("/api/profile/42");
        using var over2 = await h2.GetAsync("/api/profile/42");

        Assert.Equal(HttpVersion.Version11, over1.Version);
        Assert.Equal(HttpVersion.Version20, over2.Version);
        Assert.Equal(HttpStatusCode.OK, over2.StatusCode);
        Assert.Equal("application/json", over2.Content.Headers.ContentType!.MediaType);
        Assert.False(over2.Content.Headers.NonValidated.Contains("Content-Length"));
        Assert.Single(over2.Headers.GetValues("X-Request-Id"));
        var body1 = await over1.Content.ReadAsByteArrayAsync();
        var body2 = await over2.Content.ReadAsByteArrayAsync();
        Assert.Equal(body1, body2);

        // Both parts' values are in, whichever completed first.
        using var document = JsonDocument.Parse(body2);
        Assert.Equal("[ {\"n\":1} ,{\"n\":2} ]", document.RootElement.GetProperty("orders").GetRawText());
        Assert.Equal("{ \"id\" : \"42\",\n  \"name\" : \"Zo\\u00eb 😀\", \"score\": 1.50E+2 }", document.RootElement.GetProperty("user").GetRawText());
    }

    [Fact]
    public async Task The_first_completed_part_reaches_an_h2_client_before_a_slow_part_finishes_and_other_streams_go_on()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await BackendAsync(release);
        await using var gateway = await StartAsync(backend, """
              { key = "slow", upstream = "users", path = "/slow", required = false },
              { key = "fast", upstream = "users", path = "/fast" },
            """, "aggregate_timeout = \"30s\"");
        using var h2 = H2Client(gateway);

        try
        {
            using var response = await h2.GetAsync("/api/profile/1", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(HttpVersion.Version20, response.Version);
            var stream = await response.Content.ReadAsStreamAsync();

            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var seen = await StreamReading.ReadUntilAsync(stream, "{\"fast\":true}");
            Assert.Equal("{\"fast\":{\"fast\":true}", seen.ToString());

            // While the aggregate's stream is open and waiting, the same connection answers other streams:
            // a proxied request and a batch.
            Assert.Equal("plain \"text\"\n", await h2.GetStringAsync("/plain/text", deadline.Token));
            using var other = await h2.PostAsync("/batch", new StringContent("[{\"method\":\"GET\",\"path\":\"/plain/text\"}]"), deadline.Token);
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);

            release.SetResult();
            seen.Append(await new StreamReader(stream).ReadToEndAsync(deadline.Token));
            Assert.Equal("{\"fast\":{\"fast\":true},\"slow\":{\"slow\":true}}", seen.ToString());
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [Fact]
    public async Task A_client_resetting_the_aggregate_stream_stops_its_parts_and_keeps_the_connection()
    {
        var holdAborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await BackendAsync(holdAborted: holdAborted);
        await using var gateway = await StartAsync(backend, """
              { key = "hold", upstream = "users", path = "/hold", required = false },
              { key = "fast", upstream = "users", path = "/fast" },
            """, "aggregate_timeout = \"30s\"");
        using var h2 = H2Client(gateway);

        using (var response = await h2.GetAsync("/api/profile/1", HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpVersion.Version20, response.Version);
            await StreamReading.ReadUntilAsync(await response.Content.ReadAsStreamAsync(), "{\"fast\":true}");
        }

        // Disposing the unfinished response sends RST_STREAM: the held part's upstream request is given up
        // long before the 30 s aggregate timeout, and the connection goes on.
        await holdAborted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("plain \"text\"\n", await h2.GetStringAsync("/plain/text"));
    }

    [Fact]
    public async Task A_failed_required_part_over_h2c_is_a_502_problem_naming_it()
    {
        await using var backend = await BackendAsync();
        await using var gateway = await StartAsync(backend, """
              { key = "user",   upstream = "users", path = "/broken" },
              { key = "orders", upstream = "users", path = "/orders", required = false },
            """);
        using var h2 = H2Client(gateway);

        using var response = await h2.GetAsync("/api/profile/7");

        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        using var document = JsonDocument.Parse(body);
        Assert.Equal("https://fastgate.dev/problems/required-part-failed", document.RootElement.GetProperty("type").GetString());
        Assert.Equal("Required part 'user' failed: the upstream answered 503.", document.RootElement.GetProperty("detail").GetString());
        Assert.Equal(response.Headers.GetValues("X-Request-Id").Single(), document.RootElement.GetProperty("instance").GetString());

        // The stream ended cleanly: the connection takes the next request.
        using var next = await h2.GetAsync("/plain/text");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task A_batch_over_h2c_answers_the_same_array_as_over_http1()
    {
        await using var backend = await BackendAsync();
        await using var gateway = await StartAsync(backend, ProfileParts);
        using var h1 = gateway.CreateClient();
        using var h2 = H2Client(gateway);
        const string batch = """
            [
              { "method": "GET", "path": "/plain/text" },
              { "method": "POST", "path": "/plain/echo", "body": { "a": [1, 2] } },
              { "method": "GET", "path": "/api/profile/9" }
            ]
            """;

        using var over1 = await h1.PostAsync("/batch", new StringContent(batch, Encoding.UTF8, "application/json"));
        using var over2 = await h2.PostAsync("/batch", new StringContent(batch, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpVersion.Version20, over2.Version);
        Assert.Equal(HttpStatusCode.OK, over2.StatusCode);
        Assert.Equal("application/json", over2.Content.Headers.ContentType!.MediaType);
        Assert.False(over2.Content.Headers.NonValidated.Contains("Content-Length"));
        var array1 = WithoutVolatileFields(await over1.Content.ReadAsStringAsync());
        var array2 = WithoutVolatileFields(await over2.Content.ReadAsStringAsync());
        Assert.Equal(array1, array2);
        var items = JsonNode.Parse(array2)!.AsArray();
        Assert.Equal([200, 200, 200], items.Select(i => (int)i!["status"]!));
        Assert.Equal("plain \"text\"\n", (string)items[0]!["body"]!);
        Assert.Equal("{\"a\":[1,2]}", items[1]!["body"]!.ToJsonString());
        Assert.Equal("9", (string)items[2]!["body"]!["user"]!["id"]!);
    }

    /// <summary>The array without what differs between two runs: the items' Date and X-Request-Id.</summary>
    private static string WithoutVolatileFields(string json)
    {
        var array = JsonNode.Parse(json)!.AsArray();
        foreach (var item in array)
        {
            var headers = item!["headers"]!.AsObject();
            headers.Remove("Date");
            headers.Remove("X-Request-Id");
        }

        return array.ToJsonString();
    }

    [Fact]
    public async Task A_batch_over_h2c_refuses_a_body_over_max_request_body_and_a_malformed_array()
    {
        await using var gateway = await TestGateway.StartAsync($$"""
            [[routes]]
            name = "batch"
            match = { path = "/batch" }
            batch = { max_requests = 5 }
            """, limits: """
            [limits]
            max_request_body = "1KiB"
            """);
        using var h2 = H2Client(gateway);

        using var tooLarge = await h2.PostAsync("/batch", new StringContent("[" + new string(' ', 2000) + "]"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Contains("body-too-large", await tooLarge.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var malformed = await h2.PostAsync("/batch", new StringContent("[{\"method\":\"GET\"}]"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("malformed-batch", await malformed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Curl_with_prior_knowledge_gets_the_merged_answer()
    {
        await using var backend = await BackendAsync();
        await using var gateway = await StartAsync(backend, ProfileParts);
        using var h1 = gateway.CreateClient();
        var expected = await h1.GetStringAsync("/api/profile/5");

        var (exit, output) = await Http2ClientsTests.RunAsync("curl", "-sS", "-i", "--http2-prior-knowledge", $"http://127.0.0.1:{gateway.Port}/api/profile/5");

        Assert.Equal(0, exit);
        Assert.StartsWith("HTTP/2 200", output, StringComparison.Ordinal);
        Assert.Contains("content-type: application/json\r\n", output, StringComparison.Ordinal);
        Assert.DoesNotContain("content-length", output, StringComparison.OrdinalIgnoreCase);
        Assert.EndsWith("\r\n\r\n" + expected, output, StringComparison.Ordinal);
    }
}
