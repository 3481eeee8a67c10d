using FastGate.Gateway.Configuration;
using FsCheck;
using FsCheck.Xunit;

namespace FastGate.Gateway.Tests.Configuration;

public class ValueSyntaxTests
{
    [Theory]
    [InlineData("250ms", 250)]
    [InlineData("1ms", 1)]
    [InlineData("5s", 5_000)]
    [InlineData("1m", 60_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("1h2m3s4ms", 3_723_004)]
    [InlineData("90s", 90_000)]
    [InlineData("0s500ms", 500)]
    [InlineData("8760h", 31_536_000_000)]
    public void Duration_parses(string text, long milliseconds)
    {
        Assert.True(DurationSyntax.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("s")]
    [InlineData("0s")]
    [InlineData("0ms")]
    [InlineData("-5s")]
    [InlineData("+5s")]
    [InlineData("5 s")]
    [InlineData(" 5s")]
    [InlineData("5s ")]
    [InlineData("1.5s")]
    [InlineData("5S")]
    [InlineData("5sec")]
    [InlineData("5d")]
    [InlineData("5us")]
    [InlineData("30s1m")]
    [InlineData("1s1s")]
    [InlineData("1m1m")]
    [InlineData("1000000000s")]
    [InlineData("8761h")]
    [InlineData("999999999h")]
    [InlineData("8760h1ms")]
    public void Duration_rejects(string text)
    {
        Assert.False(DurationSyntax.TryParse(text, out _));
    }

    [Theory]
    [InlineData(250, "250ms")]
    [InlineData(1500, "1500ms")]
    [InlineData(5_000, "5s")]
    [InlineData(90_000, "90s")]
    [InlineData(120_000, "2m")]
    [InlineData(7_200_000, "2h")]
    public void Duration_formats_to_its_shortest_unit(long milliseconds, string text)
    {
        Assert.Equal(text, DurationSyntax.Format(TimeSpan.FromMilliseconds(milliseconds)));
        Assert.True(DurationSyntax.TryParse(text, out var back));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), back);
    }

    [Property]
    public bool Every_formatted_duration_reads_back(PositiveInt milliseconds)
    {
        var duration = TimeSpan.FromMilliseconds(milliseconds.Get);
        return DurationSyntax.TryParse(DurationSyntax.Format(duration), out var back) && back == duration;
    }

    [Theory]
    [InlineData("0B", 0)]
    [InlineData("512B", 512)]
    [InlineData("16KiB", 16_384)]
    [InlineData("10MiB", 10_485_760)]
    [InlineData("1GiB", 1_073_741_824)]
    [InlineData("16KB", 16_000)]
    [InlineData("10MB", 10_000_000)]
    [InlineData("2GB", 2_000_000_000)]
    [InlineData("1000000000000B", 1_000_000_000_000)]
    [InlineData("8589934591GiB", 8_589_934_591L * 1_073_741_824)]
    public void Size_parses(string text, long bytes)
    {
        Assert.True(SizeSyntax.TryParse(text, out var parsed));
        Assert.Equal(bytes, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("16")]
    [InlineData("KiB")]
    [InlineData("16 KiB")]
    [InlineData("16kib")]
    [InlineData("16kb")]
    [InlineData("16K")]
    [InlineData("16k")]
    [InlineData("1.5MiB")]
    [InlineData("-1B")]
    [InlineData("1TiB")]
    [InlineData("8589934592GiB")]
    [InlineData("9999999999999999999B")]
    public void Size_rejects(string text)
    {
        Assert.False(SizeSyntax.TryParse(text, out _));
    }

    [Theory]
    [InlineData("[limits]\nmax_request_body = 1048576", 1_048_576)]
    [InlineData("[limits]\nmax_request_body = \"1MiB\"", 1_048_576)]
    [InlineData("[limits]\nmax_request_body = \"1MB\"", 1_000_000)]
    [InlineData("[limits]\nmax_request_body = 0", 0)]
    public void Size_is_an_integer_or_a_string(string toml, long bytes)
    {
        var result = GatewayConfigLoader.LoadText(toml, "routes.toml");
        Assert.Empty(result.Errors);
        Assert.Equal(bytes, result.Model!.Limits.MaxRequestBody);
    }

    [Theory]
    [InlineData("balance", new[] { "balance", "endpoints" }, "balance")]
    [InlineData("balanse", new[] { "balance", "endpoints" }, "balance")]
    [InlineData("blaance", new[] { "balance", "endpoints" }, "balance")]
    [InlineData("Balance", new[] { "balance", "endpoints" }, "balance")]
    [InlineData("endpoint", new[] { "balance", "endpoints" }, "endpoints")]
    [InlineData("order", new[] { "orders", "users" }, "orders")]
    [InlineData("colour", new[] { "listen", "trusted_proxies" }, null)]
    [InlineData("port", new[] { "host", "path" }, null)]
    [InlineData("x", new[] { "tls" }, null)]
    public void Suggestion_is_the_closest_close_name(string name, string[] candidates, string? expected)
    {
        Assert.Equal(expected, NameSuggestion.Closest(name, candidates));
    }

    [Theory]
    [InlineData("", "", 0)]
    [InlineData("abc", "abc", 0)]
    [InlineData("abc", "abd", 1)]
    [InlineData("abc", "acb", 1)]
    [InlineData("abc", "ab", 1)]
    [InlineData("kitten", "sitting", 3)]
    public void Distance_counts_edits_with_swaps(string a, string b, int distance)
    {
        Assert.Equal(distance, NameSuggestion.Distance(a, b));
        Assert.Equal(distance, NameSuggestion.Distance(b, a));
    }
}
