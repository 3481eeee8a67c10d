using System.Text;
using FastGate.Gateway.Routing;
using static FastGate.Gateway.Tests.Routing.RoutingTestData;

namespace FastGate.Gateway.Tests.Routing;

/// <summary>
/// The lookups the walk does in line: literal children of up to 8 bytes by prefix and length (a scan of a few
/// edges, or a hash probe past <see cref="RouteNode.LinearScanLimit"/>), longer ones with their tail, nodes with only
/// a parameter child, and methods compared as one word.
/// </summary>
public class RouteTableLookupTests
{
    /// <summary>Keys of 1 to 16 bytes that are prefixes of one another, so only the length tells many apart.</summary>
    private static readonly string[] NestedKeys = [.. Enumerable.Range(1, 16).Select(length => "abcdefghijklmnop"[..length])];

    /// <summary>Keys with percent-encoded bytes (kept encoded in a normalized path) and at the 8-byte boundary.</summary>
    private static readonly string[] EncodedKeys = ["%20", "a%2Fb", "%C3%A9t%C3%A9", "x%25", "1234567", "12345678", "123456789"];

    public static TheoryData<int> KeyCounts => new() { 2, RouteNode.LinearScanLimit, RouteNode.LinearScanLimit + 1, 40 };

    /// <summary>
    /// Every key is found by its own segment, followed by '/' or by the end of the path; its neighbours one byte
    /// shorter or longer are other keys or none, and a segment one byte off falls to the parameter sibling.
    /// </summary>
    [Theory]
    [MemberData(nameof(KeyCounts))]
    public void Literal_children_of_every_length_are_found_by_their_own_segment_only(int count)
    {
        string[] keys = [.. NestedKeys, .. EncodedKeys, .. Enumerable.Range(0, count).Select(i => $"k{i}")];
        RouteTable table = Table(
        [
            .. keys.Select((key, i) => Route($"end{i}", $"/n/{key}", order: i)),
            .. keys.Select((key, i) => Route($"more{i}", $"/n/{key}/more", order: keys.Length + i)),
            Route("param", "/n/{id}", order: 2 * keys.Length),
        ]);

        for (int i = 0; i < keys.Length; i++)
        {
            Assert.Equal($"end{i}", Match(table, $"/n/{keys[i]}").Name);
            Assert.Equal($"more{i}", Match(table, $"/n/{keys[i]}/more").Name);
            Assert.Null(Match(table, $"/n/{keys[i]}/").Name);
            Assert.Null(Match(table, $"/n/{keys[i]}/mor").Name);

            string changed = keys[i][..^1] + (char)(keys[i][^1] ^ 1);
            string expected = Array.IndexOf(keys, changed) is int other and >= 0 ? $"end{other}" : "param";
            Assert.Equal(expected, Match(table, $"/n/{changed}").Name);
            Assert.Equal(Array.IndexOf(keys, keys[i] + "q") >= 0 ? $"end{Array.IndexOf(keys, keys[i] + "q")}" : "param", Match(table, $"/n/{keys[i]}q").Name);
        }

        // The empty segment is no key and no parameter.
        Assert.Null(Match(table, "/n/").Name);
        Assert.Null(Match(table, "/n//more").Name);
    }

    /// <summary>
    /// Bytes a segment can hold but no key does: NUL (which the word past a path's end is padded with), 0xFF,
    /// and a key followed by NUL, which has the key's prefix but not its length.
    /// </summary>
    [Theory]
    [InlineData(2)]
    [InlineData(40)]
    public void Segments_with_nul_or_high_bytes_match_no_literal(int count)
    {
        RouteTable table = Table(
        [
            .. Enumerable.Range(0, count).Select(i => Route($"k{i}", $"/n/k{i}", order: i)),
            Route("ab", "/n/ab", order: count),
        ]);

        foreach (string segment in new[] { "ab\0", "\0ab", "\0", "\0\0\0\0\0\0\0\0", "ab\0\0\0\0\0\0\0", "\u00FF", "ab\u00FF" })
        {
            RouteValues values = default;
            byte[] path = [.. "/n/"u8, .. Encoding.Latin1.GetBytes(segment)];
            Assert.Equal(RouteMatchStatus.NotFound, table.Match("h"u8, "GET"u8, path, ref values, out _));
        }

        Assert.Equal("ab", Match(table, "/n/ab").Name);
    }

    /// <summary>Segments far longer than a word, in a wide node and in a scanned one, and a path of many segments.</summary>
    [Theory]
    [InlineData(2)]
    [InlineData(40)]
    public void Hostile_lengths_are_walked_to_the_right_answer(int count)
    {
        string longKey = new('k', 300);
        RouteTable table = Table(
        [
            .. Enumerable.Range(0, count).Select(i => Route($"k{i}", $"/n/k{i}/{{id}}", order: i)),
            Route("long", $"/n/{longKey}/{{id}}", order: count),
            Route("rest", "/n/{*rest}", order: count + 1),
        ]);

        string value = new('v', 70_000);
        var match = Match(table, $"/n/{longKey}/{value}");
        Assert.Equal("long", match.Name);
        Assert.Equal([value], Values(match.Values, $"/n/{longKey}/{value}"));

        Assert.Equal("rest", Match(table, $"/n/{longKey}x/1").Name);
        Assert.Equal("rest", Match(table, $"/n/{longKey[..^1]}/1").Name);
        Assert.Equal("rest", Match(table, $"/n/k0/{value}/x").Name);

        string many = "/n/" + string.Concat(Enumerable.Repeat("a/", 20_000)) + "a";
        var deep = Match(table, many);
        Assert.Equal("rest", deep.Name);
        Assert.Equal([many[3..]], Values(deep.Values, many));
    }

    /// <summary>A node whose only child is a parameter: the value is the whole segment, of any length, and never empty.</summary>
    [Theory]
    [InlineData("/x/a/items/1", "1")]
    [InlineData("/x/a/items/12345678", "12345678")]
    [InlineData("/x/a/items/123456789abcdefgh", "123456789abcdefgh")]
    [InlineData("/x/a/items/%2F%20", "%2F%20")]
    [InlineData("/x/a/items/", null)]
    [InlineData("/x/a/items//", null)]
    [InlineData("/x/a/items/1/", null)]
    [InlineData("/x/a/items", null)]
    public void A_node_with_only_a_parameter_child_takes_one_non_empty_segment(string path, string? item)
    {
        RouteTable table = Table(Route("item", "/x/{id}/items/{item}"));
        var match = Match(table, path);
        Assert.Equal(item is null ? null : "item", match.Name);
        if (item is not null)
        {
            Assert.Equal(["a", item], Values(match.Values, path));
        }
    }

    /// <summary>Methods of every length, extension methods past 8 bytes told apart by their last byte, case kept.</summary>
    [Theory]
    [InlineData("GET", "get")]
    [InlineData("GET", "GE")]
    [InlineData("GET", "GETT")]
    [InlineData("M", "N")]
    [InlineData("DELETE", "DELETF")]
    [InlineData("OPTIONS", "OPTIONZ")]
    [InlineData("ABCDEFGH", "ABCDEFGI")]
    [InlineData("PROPPATCH", "PROPPATCX")]
    [InlineData("PROPPATCH", "PROPPATC")]
    [InlineData("MKCALENDAR", "MKCALENDAS")]
    public void Methods_are_compared_byte_for_byte(string allowed, string other)
    {
        RouteTable table = Table(Route("r", "/m", methods: ["POST", allowed]));
        Assert.Equal("r", Match(table, "/m", method: allowed).Name);
        Assert.Equal("r", Match(table, "/m", method: "POST").Name);
        var refused = Match(table, "/m", method: other);
        Assert.Equal(RouteMatchStatus.MethodNotAllowed, refused.Status);
    }
}
