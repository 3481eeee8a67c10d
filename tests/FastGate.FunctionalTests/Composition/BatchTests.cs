using System.Security.Claims;
using System.Text;
using System.Text.Json;
using FastGate.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace FastGate.FunctionalTests.Composition;

/// <summary>Batch routes: each item through the gateway's own routes and policies, answers in request order.</summary>
public sealed class BatchTests
{
    private const string SecretVariable = "FASTGATE_BATCH_TEST_JWT_SECRET";
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes("batch-tests-secret-that-is-long-enough-for-hs256!!");

    static BatchTests() => Environment.SetEnvironmentVariable(SecretVariable, Encoding.UTF8.GetString(Secret));

    private static string Token() => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = "https://issuer.test",
        Audience = "fastgate",
        Claims = new Dictionary<string, object> { ["sub"] = "user-7" },
        Expires = DateTime.UtcNow.AddMinutes(5),
        SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Secret), SecurityAlgorithms.HmacSha256),
    });

    private static Task<TestGateway> StartAsync(TestBackend backend, string batch = "{ max_requests = 5, max_concurrency = 2 }") =>
        TestGateway.StartAsync($$"""
            [upstreams.backend]
            endpoints = ["{{backend.Address}}"]

            [auth.default]
            type = "jwt"
            issuer = "https://issuer.test"
            audiences = ["fastgate"]
            algorithms = ["HS256"]
            secret_env = "{{SecretVariable}}"
            forward_claims = { sub = "X-User-Id" }

            [[routes]]
            name = "public"
            match = { path = "/api/{*rest}" }
            upstream = "backend"

            [[routes]]
            name = "private"
            match = { path = "/private/{*rest}" }
            upstream = "backend"
            auth = "default"

            [[routes]]
            name = "batch"
            match = { path = "/batch" }
            batch = {{batch}}

            [[routes]]
            name = "me"
            match = { path = "/me" }
            auth = "default"
            aggregate = [{ key = "me", upstream = "backend", path = "/private/me" }]
            """);

    private static RawResponse Post(TestGateway gateway, string json, string extra = "")
    {
        var body = Encoding.UTF8.GetBytes(json);
        using var connection = gateway.Connect();
        connection.Send($"POST /batch HTTP/1.1\r\nHost: api.test\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n{extra}\r\n");
        connection.Send(body);
        return connection.ReadResponse();
    }

    private static async Task<TestBackend> BackendAsync(Func<int>? onEnter = null, Action? onLeave = null) =>
        await TestBackend.StartAsync(app =>
        {
            app.MapGet("/api/slow/{ms:int}", async (int ms) =>
            {
                onEnter?.Invoke();
                await Task.Delay(ms);
                onLeave?.Invoke();
                return Results.Text($"{{\"slept\":{ms}}}", "application/json");
            });
            app.MapGet("/api/text", () => Results.Text("plain \"text\"\n", "text/plain"));
            app.MapPost("/api/echo", async (HttpContext c) =>
            {
                using var reader = new StreamReader(c.Request.Body);
                var body = await reader.ReadToEndAsync();
                c.Response.Headers["X-Seen-Type"] = c.Request.ContentType;
                return Results.Text(body, "application/json");
            });
            app.MapGet("/private/me", (HttpContext c) => Results.Json(new { user = c.Request.Headers["X-User-Id"].ToString() }));
        });

    [Fact]
    public async Task Answers_come_in_request_order_whatever_order_items_finish_in()
    {
        await using var backend = await BackendAsync();
        await using var gateway = await StartAsync(backend, "{ max_requests = 5, max_concurrency = 5 }");

        var response = Post(gateway, """
            [
              { "method": "GET", "path": "/api/slow/400" },
              { "method": "GET", "path": "/api/text" },
              { "method": "POST", "path": "/api/echo", "body": { "a": [1, 2] } },
              { "method": "GET", "path": "/api/slow/10" }
            ]
            """);

        Assert.Equal(200, response.Status);
        Assert.Equal("application/json", response.Header("Content-Type"));
        Assert.Equal("chunked", response.Header("Transfer-Encoding"));
        using var document = JsonDocument.Parse(response.Body);
        var items = document.RootElement.EnumerateArray().ToArray();
        Assert.Equal(4, items.Length);
        Assert.Equal([200, 200, 200, 200], items.Select(i => i.GetProperty("status").GetInt32()));
        Assert.Equal("{\"slept\":400}", items[0].GetProperty("body").GetRawText());
        Assert.Equal("plain \"text\"\n", items[1].GetProperty("body").GetString());
        Assert.Equal("text/plain", items[1].GetProperty("headers").GetProperty("Content-Type").GetString());
        // The item body as the batch wrote it, echoed back and copied through as the service wrote it.
        Assert.Equal("{ \"a\": [1, 2] }", items[2].GetProperty("body").GetRawText());
        Assert.Equal("application/json", items[2].GetProperty("headers").GetProperty("X-Seen-Type").GetString());
        Assert.Equal("{\"slept\":10}", items[3].GetProperty("body").GetRawText());
    }

    [Fact]
    public async Task Items_run_concurrently_up_to_max_concurrency()
    {
        int running = 0;
        int peak = 0;
        await using var backend = await BackendAsync(
            () =>
            {
                int now = Interlocked.Increment(ref running);
                int seen;
                while (now > (seen = Volatile.Read(ref peak)) && Interlocked.CompareExchange(ref peak, now, seen) != seen)
                {
                }

                return now;
            },
            () => Interlocked.Decrement(ref running));
        await using var gateway = await StartAsync(backend, "{ max_requests = 6, max_concurrency = 2 }");

        var items = string.Join(",", Enumerable.Range(0, 6).Select(_ => "{\"method\":\"GET\",\"path\":\"/api/slow/150\"}"));
        var response = Post(gateway, "[" + items + "]");

        Assert.Equal(200, response.Status);
        using var document = JsonDocument.Parse(response.Body);
        Assert.Equal(6, document.RootElement.GetArrayLength());
        Assert.Equal(2, peak);
    }

    [Fact]
    public async Task More_items_than_max_requests_is_413()
    {
        await using var backend = await BackendAsync();
        await using var gateway = await StartAsync(backend, "{ max_requests = 2 }");

        var response = Post(gateway, "[{\"method\":\"GET\",\"path\":\"/api/text\"},{\"method\":\"GET\",\"path\":\"/api/text\"},{\"method\":\"GET\",\"path\":\"/api/text\"}]");

        ProblemAssert.Is(response, 413, "batch-too-large", close: false);
        Assert.Equal(0, backend.Requests);
    }

    [Theory]
    [InlineData("[{\"method\":\"GET\",\"path\":\"/api/text\"}")]
    [InlineData("{\"method\":\"GET\",\"path\":\"/api/text\"}")]
    [InlineData("[]")]
    [InlineData("[{\"method\":\"GET\"}]")]
    [InlineData("[{\"method\":\"G T\",\"path\":\"/api/text\"}]")]
    [InlineData("[{\"method\":\"GET\",\"path\":\"api/text\"}]")]
    [InlineData("[{\"method\":\"GET\",\"path\":\"/api/text\",\"headers\":{\"X-A\":\"1\\r\\nX-B: 2\"}}]")]
    [InlineData("[{\"method\":\"GET\",\"path\":\"/api/text\",\"extra\":1}]")]
    public async Task A_malformed_batch_is_400_and_nothing_runs(string json)
    {
        await using var backend = await BackendAsync();
        await using var gateway = await StartAsync(backend);

        ProblemAssert.Is(Post(gateway, json), 400, "malformed-batch", close: false);
        Assert.Equal(0, backend.Requests);
    }

    [Fact]
    public async Task Each_item_passes_the_policies_of_its_route_with_the_batch_credentials()
    {
        await using var backend = await BackendAsync();
        await using var gateway = await StartAsync(backend);
        const string items = "[{\"method\":\"GET\",\"path\":\"/private/me\"},{\"method\":\"GET\",\"path\":\"/api/text\"}]";

        using (var anonymous = JsonDocument.Parse(Post(gateway, items).Body))
        {
            var first = anonymous.RootElement[0];
            Assert.Equal(401, first.GetProperty("status").GetInt32());
            Assert.Equal("Bearer", first.GetProperty("headers").GetProperty("WWW-Authenticate").GetString());
            Assert.Equal("https://fastgate.dev/problems/unauthenticated", first.GetProperty("body").GetProperty("type").GetString());
            Assert.Equal(200, anonymous.RootElement[1].GetProperty("status").GetInt32());
        }

        using var authenticated = JsonDocument.Parse(Post(gateway, items, $"Authorization: Bearer {Token()}\r\n").Body);
        Assert.Equal(200, authenticated.RootElement[0].GetProperty("status").GetInt32());
        Assert.Equal("{\"user\":\"user-7\"}", authenticated.RootElement[0].GetProperty("body").GetRawText());
    }

    [Fact]
    public async Task An_item_cannot_set_its_own_credentials()
    {
        await using var backend = await BackendAsync();
        await using var gateway = await StartAsync(backend);

        var response = Post(gateway, $"[{{\"method\":\"GET\",\"path\":\"/private/me\",\"headers\":{{\"Authorization\":\"Bearer {Token()}\"}}}}]");

        using var document = JsonDocument.Parse(response.Body);
        Assert.Equal(401, document.RootElement[0].GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task An_item_targeting_a_batch_route_is_refused_on_its_own()
    {
        await using var backend = await BackendAsync();
        await using var gateway = await StartAsync(backend);

        var response = Post(gateway, "[{\"method\":\"POST\",\"path\":\"/batch\",\"body\":[]},{\"method\":\"GET\",\"path\":\"/api/text\"},{\"method\":\"GET\",\"path\":\"/nowhere\"}]");

        Assert.Equal(200, response.Status);
        using var document = JsonDocument.Parse(response.Body);
        var items = document.RootElement;
        Assert.Equal(400, items[0].GetProperty("status").GetInt32());
        Assert.Equal("https://fastgate.dev/problems/nested-batch", items[0].GetProperty("body").GetProperty("type").GetString());
        Assert.Equal(response.Header("X-Request-Id") + "-0", items[0].GetProperty("body").GetProperty("instance").GetString());
        Assert.Equal(200, items[1].GetProperty("status").GetInt32());
        Assert.Equal(404, items[2].GetProperty("status").GetInt32());
        Assert.Equal(1, backend.Requests);
    }

    [Fact]
    public async Task A_batch_answers_post_only()
    {
        await using var backend = await BackendAsync();
        await using var gateway = await StartAsync(backend);
        using var connection = gateway.Connect();
        connection.Send("GET /batch HTTP/1.1\r\nHost: api.test\r\n\r\n");
        ProblemAssert.Is(connection.ReadResponse(), 405, "method-not-allowed");
    }

    [Fact]
    public async Task Aggregate_parts_get_the_forwarded_claims_of_the_validated_token_never_the_clients_own()
    {
        await using var backend = await BackendAsync();
        await using var gateway = await StartAsync(backend);
        using var connection = gateway.Connect();
        connection.Send($"GET /me HTTP/1.1\r\nHost: api.test\r\nAuthorization: Bearer {Token()}\r\nX-User-Id: forged\r\n\r\n");
        var response = connection.ReadResponse();
        connection.Send("GET /me HTTP/1.1\r\nHost: api.test\r\n\r\n");
        var anonymous = connection.ReadResponse();

        Assert.Equal(200, response.Status);
        Assert.Equal("{\"me\":{\"user\":\"user-7\"}}", response.BodyText);
        ProblemAssert.Is(anonymous, 401, "unauthenticated");
    }
}
