using System.Net;
using System.Text.Json;
using FastGate.FunctionalTests.Infrastructure;
using FastGate.Protocols.Http2;

namespace FastGate.FunctionalTests.Http2;

/// <summary>The gateway with the default concurrency limit (100 streams), for the attack tests.</summary>
public sealed class H2AttackFixture : H2GatewayFixture
{
    protected override string Limits => """
        [limits]
        max_request_head = "8KiB"
        request_head_timeout = "2s"
        idle_timeout = "2s"
        """;
}

/// <summary>
/// The known HTTP/2 attacks (issue 4 section 5), each performed by python-h2 / hyperframe against the
/// real gateway while another client checks that the gateway keeps answering everyone else.
/// </summary>
public sealed class Http2AttackTests(H2AttackFixture fixture) : IClassFixture<H2AttackFixture>
{
    private static readonly string Script = Path.Combine(AppContext.BaseDirectory, "Http2", "h2attacks.py");

    /// <summary>Runs the attack and, while it runs, an HTTP/1.1 and an HTTP/2 request from other clients.</summary>
    private async Task<JsonElement> AttackAsync(string scenario)
    {
        var attack = Http2ClientsTests.RunAsync("/usr/bin/python3", Script, scenario, fixture.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Task.Delay(200);
        using (var h1 = fixture.Gateway.CreateClient())
        {
            Assert.Equal("GET /bystander", await h1.GetStringAsync("/bystander"));
        }

        using (var h2 = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact })
        {
            Assert.Equal("GET /bystander2", await h2.GetStringAsync($"http://127.0.0.1:{fixture.Port}/bystander2"));
        }

        var (exit, output) = await attack;
        Assert.True(exit == 0, output);
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    private static int? GoAway(JsonElement result) =>
        result.GetProperty("goaway").ValueKind == JsonValueKind.Null ? null : result.GetProperty("goaway").GetInt32();

    [Fact]
    public async Task Rapid_reset_is_answered_with_enhance_your_calm_and_costs_bounded_upstream_work()
    {
        int before = fixture.Backend.Requests;
        var result = await AttackAsync("rapid-reset");
        Assert.Equal((int)Http2ErrorCode.EnhanceYourCalm, GoAway(result));
        // The reset budget is 1,000 resets; most streams never reach a worker's upstream step.
        int upstreamWork = fixture.Backend.Requests - before - 2;
        Assert.InRange(upstreamWork, 0, 1000);
        Assert.InRange(result.GetProperty("sent").GetInt32(), 1000, 20000);
    }

    [Theory]
    [InlineData("continuation-flood-big")]
    [InlineData("continuation-flood-tiny")]
    public async Task Continuation_flood_is_cut_before_memory_grows(string scenario)
    {
        var result = await AttackAsync(scenario);
        Assert.Equal((int)Http2ErrorCode.EnhanceYourCalm, GoAway(result));
        // Cut within the first few frames of the block, not after the flood.
        Assert.InRange(result.GetProperty("frames").GetInt32(), 1, 2000);
    }

    [Fact]
    public async Task Hpack_bomb_is_refused_on_its_stream_and_the_connection_goes_on()
    {
        var result = await AttackAsync("hpack-bomb");
        Assert.Null(GoAway(result));
        var statuses = result.GetProperty("statuses");
        Assert.Equal("200", statuses.GetProperty("1").GetString());
        Assert.Equal("431", statuses.GetProperty("3").GetString());
    }

    [Theory]
    [InlineData("flood-settings")]
    [InlineData("flood-ping")]
    [InlineData("flood-window-update")]
    [InlineData("flood-empty-data")]
    public async Task Control_frame_flood_is_answered_with_enhance_your_calm(string scenario)
    {
        var result = await AttackAsync(scenario);
        Assert.Equal((int)Http2ErrorCode.EnhanceYourCalm, GoAway(result));
    }

    [Fact]
    public async Task Slow_reader_gets_no_more_than_its_window_and_is_reset_after_the_idle_timeout()
    {
        var result = await AttackAsync("slow-reader");
        Assert.Equal(4096, result.GetProperty("received").GetInt32());
        Assert.Equal((int)Http2ErrorCode.Cancel, result.GetProperty("reset").GetInt32());
    }
}
