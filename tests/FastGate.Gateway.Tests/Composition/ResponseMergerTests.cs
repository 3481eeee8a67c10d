using System.Text;
using System.Text.Json;
using FastGate.Gateway.Composition;

namespace FastGate.Gateway.Tests.Composition;

public class ResponseMergerTests
{
    private static MergePart Part(string key, PartSource source, bool required = false) =>
        new(Encoding.UTF8.GetBytes($"\"{key}\":"), Encoding.UTF8.GetBytes($"\"{key}\""), required, source);

    private static MemoryPartSource Json(string json, int status = 200, int segment = 4096, int delayMs = 0) =>
        new(status, Encoding.UTF8.GetBytes(json), segment, TimeSpan.FromMilliseconds(delayMs));

    private static async Task<(MergeResult Result, MemorySink Sink)> MergeAsync(TimeSpan? timeout = null, params MergePart[] parts)
    {
        var sink = new MemorySink();
        var merger = new ResponseMerger(sink);
        var result = await merger.RunAsync(parts, timeout ?? TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5), CancellationToken.None);
        return (result, sink);
    }

    [Fact]
    public async Task Part_bodies_are_copied_byte_for_byte_in_the_order_they_complete()
    {
        // Whitespace, escapes and number spellings survive: nothing is parsed and written again.
        var (result, sink) = await MergeAsync(null,
            Part("slow", Json("{ \"b\" : 1.50E+2 }", delayMs: 150)),
            Part("fast", Json("[ \"\\u00e9\" ,\n true ]", segment: 3)));

        Assert.Equal(MergeOutcome.Completed, result.Outcome);
        Assert.True(sink.Started && sink.Completed);
        Assert.Equal("{\"fast\":[ \"\\u00e9\" ,\n true ],\"slow\":{ \"b\" : 1.50E+2 }}", sink.Text);
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(0, true)]
    [InlineData(5, false)]
    [InlineData(5, true)]
    public async Task Reads_answered_at_once_or_later_in_one_buffer_or_several_give_the_same_bytes(int segmentDelayMs, bool multiBuffer)
    {
        // The merger copies a read answered at once without awaiting it, and a read of one buffer from its
        // span: every combination must write exactly the parts' bytes, streamed ones (past the window) too.
        // The large part's head comes late, so the small one is ready first and the order is fixed.
        var small = Encoding.UTF8.GetBytes("{\"name\":\"Zoë 😀\",\"n\":[1,2.5e3,true,null],\"s\":\"" + new string('x', 100) + "\"}");
        var large = Encoding.UTF8.GetBytes("[" + string.Join(",", Enumerable.Range(0, 6000).Select(i => $"{{\"id\":{i},\"v\":\"é{i}\"}}")) + "]");
        Assert.True(large.Length > ResponseMerger.WindowSize);
        var delay = TimeSpan.FromMilliseconds(segmentDelayMs);
        var (result, sink) = await MergeAsync(null,
            Part("small", new MemoryPartSource(200, small, 61, segmentDelay: delay, multiBuffer: multiBuffer), required: true),
            Part("large", new MemoryPartSource(200, large, 4096, headDelay: TimeSpan.FromMilliseconds(400), segmentDelay: delay, multiBuffer: multiBuffer)));

        Assert.Equal(MergeOutcome.Completed, result.Outcome);
        byte[] expected = [.. "{\"small\":"u8, .. small, .. ",\"large\":"u8, .. large, .. "}"u8];
        Assert.Equal(expected, sink.Body.WrittenSpan.ToArray());
    }

    [Fact]
    public async Task Parts_ready_together_go_out_in_one_flush_and_a_late_part_in_its_own()
    {
        var (together, sinkTogether) = await MergeAsync(null, Part("a", Json("1")), Part("b", Json("[2]")), Part("c", Json("{}")));
        Assert.Equal(MergeOutcome.Completed, together.Outcome);
        Assert.Equal("{\"a\":1,\"b\":[2],\"c\":{}}", sinkTogether.Text);
        Assert.Equal(1, sinkTogether.Flushes);

        // a and b are flushed before the merger waits for c; c goes out with its own flush.
        var (late, sinkLate) = await MergeAsync(null, Part("a", Json("1")), Part("b", Json("[2]")), Part("c", Json("{}", delayMs: 150)));
        Assert.Equal(MergeOutcome.Completed, late.Outcome);
        Assert.Equal("{\"a\":1,\"b\":[2],\"c\":{}}", sinkLate.Text);
        Assert.Equal(2, sinkLate.Flushes);
    }

    [Fact]
    public async Task Failed_optional_parts_are_null_and_listed_in_errors()
    {
        var (result, sink) = await MergeAsync(null,
            Part("ok", Json("1")),
            Part("missing", Json("{\"error\":\"nope\"}", status: 404, delayMs: 30)),
            Part("text", Json("GET /users/1", delayMs: 60)),
            Part("cut", new MemoryPartSource(200, Encoding.UTF8.GetBytes("[1,2,3]"), 2, TimeSpan.FromMilliseconds(90), failAfter: 4)));

        Assert.Equal(MergeOutcome.Completed, result.Outcome);
        // Parts go out as they end, so the failed ones come in the order their delays ran out, which a loaded
        // machine may change: each failed part's member and its error entry are checked exactly, in that order.
        var errors = new Dictionary<string, string>
        {
            ["missing"] = "{\"key\":\"missing\",\"status\":404}",
            ["text"] = "{\"key\":\"text\",\"status\":200,\"reason\":\"not-json\"}",
            ["cut"] = "{\"key\":\"cut\",\"status\":200,\"reason\":\"bad-answer\"}",
        };
        using var document = JsonDocument.Parse(sink.Text);
        var failed = document.RootElement.EnumerateObject().Select(member => member.Name).Where(errors.ContainsKey).ToArray();
        Assert.Equal(["cut", "missing", "text"], failed.Order());
        Assert.Equal(
            "{\"ok\":1," + string.Concat(failed.Select(key => $"\"{key}\":null,")) + "\"_errors\":["
            + string.Join(",", failed.Select(key => errors[key])) + "]}",
            sink.Text);
    }

    [Fact]
    public async Task A_part_missing_the_deadline_is_null_with_reason_timeout()
    {
        var (result, sink) = await MergeAsync(TimeSpan.FromMilliseconds(100),
            Part("fast", Json("true")),
            Part("slow", Json("false", delayMs: 5000)));

        Assert.Equal(MergeOutcome.Completed, result.Outcome);
        Assert.Equal("{\"fast\":true,\"slow\":null,\"_errors\":[{\"key\":\"slow\",\"reason\":\"timeout\"}]}", sink.Text);
    }

    [Fact]
    public async Task A_failed_required_part_stops_the_merge_before_the_head()
    {
        var (result, sink) = await MergeAsync(null,
            Part("user", Json("{}", status: 500), required: true),
            Part("orders", Json("[]", delayMs: 5000)));

        Assert.Equal(MergeOutcome.RequiredPartFailed, result.Outcome);
        Assert.Equal(0, result.FailedPart);
        Assert.Equal(500, result.FailedHead.Status);
        Assert.False(sink.Started);
        Assert.Equal(0, sink.Body.WrittenCount);
    }

    [Fact]
    public async Task A_large_part_streams_through_its_window_and_stays_valid()
    {
        var big = "[" + string.Join(",", Enumerable.Range(0, 40_000).Select(i => $"{{\"i\":{i},\"s\":\"v{i}\"}}")) + "]";
        Assert.True(big.Length > 10 * ResponseMerger.WindowSize);
        var (result, sink) = await MergeAsync(null, Part("big", Json(big, segment: 1000)), Part("small", Json("{}")));

        Assert.Equal(MergeOutcome.Completed, result.Outcome);
        var text = sink.Text;
        Assert.True(text == "{\"small\":{},\"big\":" + big + "}" || text == "{\"big\":" + big + ",\"small\":{}}", text[..100]);
    }

    [Fact]
    public async Task A_large_part_failing_after_it_started_streaming_is_closed_and_marked_partial()
    {
        var big = Encoding.UTF8.GetBytes("{\"items\":[" + string.Join(",", Enumerable.Range(0, 20_000).Select(i => $"\"item-{i}\"")) + "]}");
        var source = new MemoryPartSource(200, big, 1000, failAfter: 3 * ResponseMerger.WindowSize);
        var (result, sink) = await MergeAsync(null, Part("big", source));

        Assert.Equal(MergeOutcome.Completed, result.Outcome);
        using var document = JsonDocument.Parse(sink.Body.WrittenMemory);
        var items = document.RootElement.GetProperty("big").GetProperty("items");
        Assert.InRange(items.GetArrayLength(), 1000, 19_999);
        Assert.Equal("{\"key\":\"big\",\"status\":200,\"reason\":\"bad-answer\",\"partial\":true}", document.RootElement.GetProperty("_errors")[0].GetRawText());
        Assert.False(source.FinishedClean);
    }

    [Fact]
    public async Task Invalid_bytes_past_the_window_close_the_value_at_its_last_complete_token()
    {
        var body = "[" + string.Join(",", Enumerable.Range(0, 10_000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))) + ",oops]";
        var (_, sink) = await MergeAsync(null, Part("n", Json(body, segment: 700)));

        using var document = JsonDocument.Parse(sink.Body.WrittenMemory);
        Assert.Equal(10_000, document.RootElement.GetProperty("n").GetArrayLength());
        Assert.Equal("{\"key\":\"n\",\"status\":200,\"reason\":\"not-json\",\"partial\":true}", document.RootElement.GetProperty("_errors")[0].GetRawText());
    }

    [Fact]
    public async Task A_token_larger_than_the_window_makes_the_part_null()
    {
        var (_, sink) = await MergeAsync(null, Part("blob", Json("\"" + new string('x', ResponseMerger.WindowSize + 10) + "\"")));
        Assert.Equal("{\"blob\":null,\"_errors\":[{\"key\":\"blob\",\"status\":200,\"reason\":\"token-too-large\"}]}", sink.Text);
    }

    [Fact]
    public async Task Connections_of_clean_answers_are_reused_others_discarded()
    {
        var good = Json("{}");
        var notJson = Json("nope");
        var failed = Json("{}", status: 503);
        await MergeAsync(null, Part("a", good), Part("b", notJson), Part("c", failed));
        Assert.True(good.FinishedClean);

        // Refused at its first byte: the rest of its answer was never read, so its connection cannot carry another.
        Assert.False(notJson.FinishedClean);
        Assert.False(failed.FinishedClean);
    }

    [Fact]
    public async Task A_client_that_leaves_ends_the_merge()
    {
        var sink = new MemorySink { FailFlushes = true };
        var merger = new ResponseMerger(sink);
        var slow = Json("[]", delayMs: 5000);
        var result = await merger.RunAsync([Part("a", Json("1")), Part("b", slow)], TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(3));
        Assert.Equal(MergeOutcome.ClientFailed, result.Outcome);
        Assert.False(slow.FinishedClean);
    }
}
