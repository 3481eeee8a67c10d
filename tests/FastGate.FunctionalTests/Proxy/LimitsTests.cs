using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using System.Text;
using FastGate.FunctionalTests.Infrastructure;

namespace FastGate.FunctionalTests.Proxy;

/// <summary>Issue 2, point 3: 414, 431 and 413 are answered before anything is forwarded.</summary>
public sealed class LimitsTests
{
    private const string SmallLimits = """
        [limits]
        max_request_target = 64
        max_request_head = 1024
        max_request_body = 100
        """;

    private static Task<TestGateway> StartAsync(TestBackend backend) =>
        TestGateway.StartAsync(TestGateway.ProxyRoutes([backend]), limits: SmallLimits);

    [Theory]
    [InlineData(65)]
    [InlineData(900)]
    [InlineData(5000)]
    public async Task Target_over_max_request_target_is_a_414(int length)
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await StartAsync(backend);
        using var connection = gateway.Connect();

        connection.Send($"GET /{new string('a', length - 1)} HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = connection.ReadResponse();

        ProblemAssert.Is(response, 414, "target-too-long", close: true);
        Assert.True(connection.IsClosedByPeer());
        Assert.Equal(0, backend.Requests);
        Assert.Equal(0, backend.Connections);
    }

    [Fact]
    public async Task Target_at_max_request_target_passes()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await StartAsync(backend);
        using var connection = gateway.Connect();

        var target = "/" + new string('a', 63);
        connection.Send($"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = connection.ReadResponse();

        Assert.Equal(200, response.Status);
        Assert.Equal("GET " + target, response.BodyText);
    }

    [Theory]
    [InlineData(1100)]
    [InlineData(20_000)]
    public async Task Head_over_max_request_head_is_a_431(int fieldLength)
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await StartAsync(backend);
        using var connection = gateway.Connect();

        connection.Send($"GET /a HTTP/1.1\r\nHost: x\r\nX-Fill: {new string('b', fieldLength)}\r\n\r\n");
        var response = connection.ReadResponse();

        ProblemAssert.Is(response, 431, "head-too-large", close: true);
        Assert.True(connection.IsClosedByPeer());
        Assert.Equal(0, backend.Requests);
        Assert.Equal(0, backend.Connections);
    }

    [Fact]
    public async Task Head_over_max_request_head_in_many_small_fields_is_a_431()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await StartAsync(backend);
        using var connection = gateway.Connect();

        var head = new StringBuilder("GET /a HTTP/1.1\r\nHost: x\r\n");
        for (int i = 0; i < 100; i++)
        {
            head.Append(CultureInfoInvariant($"X-F{i}: {i}\r\n"));
        }

        connection.Send(head.Append("\r\n").ToString());
        var response = connection.ReadResponse();

        ProblemAssert.Is(response, 431, "head-too-large", close: true);
        Assert.True(connection.IsClosedByPeer());
        Assert.Equal(0, backend.Requests);
        Assert.Equal(0, backend.Connections);
    }

    [Fact]
    public async Task More_than_256_fields_is_a_431_under_the_default_head_limit()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await TestGateway.StartProxyAsync(backend);
        using var connection = gateway.Connect();

        var head = new StringBuilder("GET /a HTTP/1.1\r\nHost: x\r\n");
        for (int i = 0; i < 300; i++)
        {
            head.Append("X: 1\r\n");
        }

        connection.Send(head.Append("\r\n").ToString());
        var response = connection.ReadResponse();

        ProblemAssert.Is(response, 431, "head-too-large", close: true);
        Assert.True(connection.IsClosedByPeer());
        Assert.Equal(0, backend.Requests);
        Assert.Equal(0, backend.Connections);
    }

    [Fact]
    public async Task Content_length_over_max_request_body_is_a_413()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await StartAsync(backend);
        using var connection = gateway.Connect();

        connection.Send($"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n{new string('c', 101)}");
        var response = connection.ReadResponse();

        ProblemAssert.Is(response, 413, "body-too-large", close: true);
        Assert.True(connection.IsClosedByPeer());
        Assert.Equal(0, backend.Requests);
        Assert.Equal(0, backend.Connections);
    }

    [Fact]
    public async Task Content_length_at_max_request_body_passes()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await StartAsync(backend);
        using var connection = gateway.Connect();

        connection.Send($"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{new string('c', 100)}");
        var response = connection.ReadResponse();

        Assert.Equal(200, response.Status);
        Assert.Equal(new string('c', 100), Encoding.ASCII.GetString(Assert.Single(backend.Seen).Body));
    }

    [Fact]
    public async Task Expect_100_continue_over_max_request_body_is_a_413_without_continue()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await StartAsync(backend);
        using var connection = gateway.Connect();

        connection.Send("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n");
        var response = connection.ReadResponse();

        ProblemAssert.Is(response, 413, "body-too-large", close: true);
        Assert.True(connection.IsClosedByPeer());
        Assert.Equal(0, backend.Requests);
        Assert.Equal(0, backend.Connections);
    }

    [Fact]
    public async Task Chunked_body_over_max_request_body_sent_at_once_is_a_413_before_any_upstream()
    {
        await using var backend = await TestBackend.StartAsync();
        await using var gateway = await StartAsync(backend);
        using var connection = gateway.Connect();

        connection.Send($"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n32\r\n{new string('d', 50)}\r\n33\r\n{new string('e', 51)}\r\n0\r\n\r\n");
        var response = connection.ReadResponse();

        ProblemAssert.Is(response, 413, "body-too-large", close: true);
        Assert.True(connection.IsClosedByPeer());
        Assert.Equal(0, backend.Requests);
        Assert.Equal(0, backend.Connections);
    }

    [Fact]
    public async Task Chunked_body_growing_past_max_request_body_is_a_413_and_the_upstream_never_gets_a_whole_body()
    {
        var bodyEnded = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await TestBackend.StartAsync(app => app.Map("/{**path}", async (HttpContext context) =>
        {
            try
            {
                using var body = new MemoryStream();
                await context.Request.Body.CopyToAsync(body);
                bodyEnded.TrySetResult(null);
            }
            catch (Exception ex)
            {
                bodyEnded.TrySetResult(ex);
            }
        }));
        await using var gateway = await StartAsync(backend);
        using var connection = gateway.Connect();

        // The first chunk is within the limit and goes upstream; the second one passes it.
        connection.Send($"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n32\r\n{new string('d', 50)}\r\n");
        await WaitUntilAsync(() => backend.Requests == 1);
        connection.Send($"33\r\n{new string('e', 51)}\r\n0\r\n\r\n");
        var response = connection.ReadResponse();

        ProblemAssert.Is(response, 413, "body-too-large", close: true);
        Assert.True(connection.IsClosedByPeer());
        var ended = await bodyEnded.Task.WaitAsync(TimeSpan.FromSeconds(2));
        Assert.NotNull(ended);
        Assert.Equal(1, backend.Requests);
    }

    [Fact]
    public async Task Invalid_chunk_after_a_valid_first_chunk_is_a_400_and_the_upstream_never_gets_a_whole_body()
    {
        var bodyEnded = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await TestBackend.StartAsync(app => app.Map("/{**path}", async (HttpContext context) =>
        {
            try
            {
                using var body = new MemoryStream();
                await context.Request.Body.CopyToAsync(body);
                bodyEnded.TrySetResult(null);
            }
            catch (Exception ex)
            {
                bodyEnded.TrySetResult(ex);
            }
        }));
        await using var gateway = await StartAsync(backend);
        using var connection = gateway.Connect();

        connection.Send("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        await WaitUntilAsync(() => backend.Requests == 1);
        connection.Send("zz\r\nworld\r\n0\r\n\r\n");
        var response = connection.ReadResponse();

        ProblemAssert.Is(response, 400, "malformed-request", close: true);
        Assert.True(connection.IsClosedByPeer());
        var ended = await bodyEnded.Task.WaitAsync(TimeSpan.FromSeconds(2));
        Assert.NotNull(ended);
    }

    private static string CultureInfoInvariant(FormattableString text) => FormattableString.Invariant(text);

    internal static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(2);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in 2 s");
            await Task.Delay(10);
        }
    }
}
