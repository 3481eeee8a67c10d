using System.Text.Json;
using FastGate.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FastGate.FunctionalTests.Composition;

/// <summary>Aggregate routes against the real gateway and real Kestrel backends.</summary>
public sealed class AggregateTests
{
    /// <summary>A gateway with the profile aggregate route; <paramref name="extra"/> goes after its parts (more keys, or more tables).</summary>
    internal static Task<TestGateway> StartAsync(TestBackend users, TestBackend orders, string parts, string extra = "") =>
        TestGateway.StartAsync($$"""
            [upstreams.users]
            endpoints = ["{{users.Address}}"]

            [upstreams.orders]
            endpoints = ["{{orders.Address}}"]

            [[routes]]
            name = "profile"
            match = { path = "/api/profile/{id}", methods = ["GET"] }
            aggregate = [
            {{parts}}
            ]
            {{extra}}
            """);

    private static RawResponse Get(TestGateway gateway, string path, string extra = "")
    {
        using var connection = gateway.Connect();
        connection.Send($"GET {path} HTTP/1.1\r\nHost: api.test\r\n{extra}\r\n");
        return connection.ReadResponse();
    }

    private static IResult Json(string body) => Results.Text(body, "application/json");

    [Fact]
    public async Task Parts_are_merged_byte_for_byte_in_completion_order_with_the_captured_parameter_and_the_query()
    {
        // Odd spacing, escapes and number spellings: the merged answer must carry them unchanged.
        const string user = "{ \"id\" : \"42\",\n  \"name\" : \"Zo\\u00eb 😀\", \"score\": 1.50E+2 }";
        const string orders = "[ {\"n\":1} ,{\"n\":2} ]";
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<string, Seen>();
        await using var users = await TestBackend.StartAsync(app => app.MapGet("/users/{id}", async (HttpContext c, string id) =>
        {
            seen["user"] = Seen.Of(c);
            await Task.Delay(300);
            return Json(user);
        }));
        await using var orderService = await TestBackend.StartAsync(app => app.MapGet("/orders", (HttpContext c) =>
        {
            seen["orders"] = Seen.Of(c);
            return Json(orders);
        }));
        await using var gateway = await StartAsync(users, orderService, """
              { key = "user",   upstream = "users",  path = "/users/{id}" },
              { key = "orders", upstream = "orders", path = "/orders?user={id}", required = false },
            """);

        var response = Get(gateway, "/api/profile/42?expand=all", "Authorization: Bearer abc.def\r\n");

        Assert.Equal(200, response.Status);
        Assert.Equal("application/json", response.Header("Content-Type"));
        Assert.Equal("chunked", response.Header("Transfer-Encoding"));
        Assert.Equal("{\"orders\":" + orders + ",\"user\":" + user + "}", response.BodyText);
        Assert.Equal(new Seen("/users/42?expand=all", "Bearer abc.def", response.Header("X-Request-Id")), seen["user"]);
        Assert.Equal(new Seen("/orders?user=42&expand=all", "Bearer abc.def", response.Header("X-Request-Id")), seen["orders"]);
    }

    private sealed record Seen(string Path, string? Authorization, string? RequestId)
    {
        public static Seen Of(HttpContext c) =>
            new(c.Request.Path + c.Request.QueryString, c.Request.Headers.Authorization.FirstOrDefault(), c.Request.Headers["X-Request-Id"].FirstOrDefault());
    }

    [Fact]
    public async Task Parts_fan_out_concurrently()
    {
        // Each part waits until all three have arrived: answered in sequence, the first would wait forever.
        var arrived = 0;
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await TestBackend.StartAsync(app => app.MapGet("/p/{n}", async (string n) =>
        {
            if (Interlocked.Increment(ref arrived) == 3)
            {
                all.TrySetResult();
            }

            await all.Task.WaitAsync(TimeSpan.FromSeconds(10));
            await Task.Delay(400);
            return Json(n);
        }));
        await using var gateway = await StartAsync(backend, backend, """
              { key = "a", upstream = "users",  path = "/p/1" },
              { key = "b", upstream = "orders", path = "/p/2" },
              { key = "c", upstream = "users",  path = "/p/3" },
            """);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var response = Get(gateway, "/api/profile/1");
        clock.Stop();

        Assert.Equal(200, response.Status);
        using var document = JsonDocument.Parse(response.Body);
        Assert.Equal(["1", "2", "3"], document.RootElement.EnumerateObject().Select(p => p.Value.GetRawText()).Order());
        Assert.False(document.RootElement.TryGetProperty("_errors", out _));
        Assert.Equal(3, arrived);

        // Informative only (speed is not asserted): close to one part's 400 ms, not the sum.
        Console.WriteLine($"fan-out of 3 x 400 ms parts took {clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task The_first_completed_part_reaches_the_client_before_a_slow_part_finishes()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await TestBackend.StartAsync(app =>
        {
            app.MapGet("/fast", () => Json("{\"fast\":true}"));
            app.MapGet("/slow", async () =>
            {
                await release.Task.WaitAsync(TimeSpan.FromSeconds(20));
                return Json("{\"slow\":true}");
            });
        });
        await using var gateway = await StartAsync(backend, backend, """
              { key = "slow", upstream = "users",  path = "/slow", required = false },
              { key = "fast", upstream = "orders", path = "/fast" },
            """, "aggregate_timeout = \"30s\"");

        using var client = gateway.CreateClient();
        using var response = await client.GetAsync("/api/profile/1", HttpCompletionOption.ResponseHeadersRead);
        if ((int)response.StatusCode != 200)
        {
            release.SetResult();
            Assert.Fail(await response.Content.ReadAsStringAsync());
        }

        var stream = await response.Content.ReadAsStreamAsync();

        // The fast member arrives while the slow part is still held back by the backend.
        var seen = await StreamReading.ReadUntilAsync(stream, "{\"fast\":true}");

        Assert.Equal("{\"fast\":{\"fast\":true}", seen.ToString());
        release.SetResult();
        seen.Append(await new StreamReader(stream).ReadToEndAsync());
        Assert.Equal("{\"fast\":{\"fast\":true},\"slow\":{\"slow\":true}}", seen.ToString());
    }

    [Fact]
    public async Task Failed_timed_out_and_non_json_optional_parts_are_null_and_listed()
    {
        await using var backend = await TestBackend.StartAsync(app =>
        {
            app.MapGet("/ok", () => Json("[1,2,3]"));
            app.MapGet("/broken", () => Results.Json(new { error = "db down" }, statusCode: 500));
            app.MapGet("/text", () => Results.Text("hello, not json", "text/plain"));
            app.MapGet("/stuck", async () =>
            {
                await Task.Delay(3000);
                return Json("{}");
            });
        });
        await using var gateway = await StartAsync(backend, backend, """
              { key = "ok",     upstream = "users",  path = "/ok" },
              { key = "broken", upstream = "orders", path = "/broken", required = false },
              { key = "text",   upstream = "orders", path = "/text",   required = false },
              { key = "stuck",  upstream = "users",  path = "/stuck",  required = false },
            """, "aggregate_timeout = \"500ms\"");

        var response = Get(gateway, "/api/profile/1");

        Assert.Equal(200, response.Status);
        using var document = JsonDocument.Parse(response.Body);
        var root = document.RootElement;
        Assert.Equal("[1,2,3]", root.GetProperty("ok").GetRawText());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("broken").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("text").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("stuck").ValueKind);
        var errors = root.GetProperty("_errors").EnumerateArray().Select(e => e.GetRawText()).Order().ToArray();
        Assert.Equal(
            [
                "{\"key\":\"broken\",\"status\":500}",
                "{\"key\":\"stuck\",\"reason\":\"timeout\"}",
                "{\"key\":\"text\",\"status\":200,\"reason\":\"not-json\"}",
            ],
            errors);
        Assert.Equal("_errors", root.EnumerateObject().Last().Name);
    }

    [Fact]
    public async Task A_failed_required_part_is_a_502_naming_it()
    {
        await using var backend = await TestBackend.StartAsync(app =>
        {
            app.MapGet("/users/{id}", () => Results.StatusCode(503));
            app.MapGet("/orders", () => Json("[]"));
        });
        await using var gateway = await StartAsync(backend, backend, """
              { key = "user",   upstream = "users",  path = "/users/{id}" },
              { key = "orders", upstream = "orders", path = "/orders", required = false },
            """);

        var response = Get(gateway, "/api/profile/7");

        ProblemAssert.Is(response, 502, "required-part-failed", close: false);
        using var document = JsonDocument.Parse(response.Body);
        Assert.Equal("Required part 'user' failed: the upstream answered 503.", document.RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task An_unreachable_required_part_is_a_502_with_its_reason()
    {
        await using var backend = await TestBackend.StartAsync(app => app.MapGet("/orders", () => Json("[]")));
        using var refusing = TestGateway.RefusingPort(out int closed);
        await using var gateway = await TestGateway.StartAsync($$"""
            [upstreams.users]
            endpoints = ["127.0.0.1:{{closed}}"]

            [upstreams.orders]
            endpoints = ["{{backend.Address}}"]

            [[routes]]
            name = "profile"
            match = { path = "/api/profile/{id}" }
            aggregate = [
              { key = "user",   upstream = "users",  path = "/users/{id}" },
              { key = "orders", upstream = "orders", path = "/orders" },
            ]
            """);

        var response = Get(gateway, "/api/profile/7");

        ProblemAssert.Is(response, 502, "required-part-failed");
        using var document = JsonDocument.Parse(response.Body);
        Assert.Equal("Required part 'user' failed: unreachable.", document.RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Connections_to_parts_are_reused_across_requests()
    {
        await using var backend = await TestBackend.StartAsync(app => app.MapGet("/p", () => Json("{}")));
        await using var gateway = await StartAsync(backend, backend, """
              { key = "a", upstream = "users", path = "/p" },
            """);

        for (int i = 0; i < 5; i++)
        {
            Assert.Equal("{\"a\":{}}", Get(gateway, "/api/profile/1").BodyText);
        }

        Assert.Equal(5, backend.Requests);
        Assert.Equal(1, backend.Connections);
    }

    [Fact]
    public async Task An_http10_client_gets_the_body_delimited_by_the_close()
    {
        await using var backend = await TestBackend.StartAsync(app => app.MapGet("/p", () => Json("{\"v\":1}")));
        await using var gateway = await StartAsync(backend, backend, """
              { key = "a", upstream = "users", path = "/p" },
            """);
        using var connection = gateway.Connect();
        connection.Send("GET /api/profile/1 HTTP/1.0\r\nHost: api.test\r\n\r\n");
        var response = connection.ReadResponse();

        Assert.Null(response.Header("Transfer-Encoding"));
        Assert.Equal("close", response.Header("Connection"));
        Assert.Equal("{\"a\":{\"v\":1}}", response.BodyText);
    }

    [Fact]
    public async Task A_head_request_gets_the_head_of_the_merged_answer_and_no_body()
    {
        await using var backend = await TestBackend.StartAsync(app => app.MapGet("/p", () => Json("{\"v\":1}")));
        await using var gateway = await TestGateway.StartAsync($$"""
            [upstreams.users]
            endpoints = ["{{backend.Address}}"]

            [[routes]]
            name = "profile"
            match = { path = "/api/profile/{id}" }
            aggregate = [{ key = "a", upstream = "users", path = "/p" }]
            """);
        using var connection = gateway.Connect();
        connection.Send("HEAD /api/profile/1 HTTP/1.1\r\nHost: api.test\r\n\r\n");
        var head = connection.ReadResponse(requestWasHead: true);
        connection.Send("GET /api/profile/1 HTTP/1.1\r\nHost: api.test\r\n\r\n");
        var get = connection.ReadResponse();

        Assert.Equal(200, head.Status);
        Assert.Equal("chunked", head.Header("Transfer-Encoding"));
        Assert.Empty(head.Body);
        Assert.Equal("{\"a\":{\"v\":1}}", get.BodyText);
    }
}
