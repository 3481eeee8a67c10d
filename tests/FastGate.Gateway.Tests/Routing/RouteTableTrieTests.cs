using FastGate.Gateway.Routing;
using static FastGate.Gateway.Tests.Routing.RoutingTestData;

namespace FastGate.Gateway.Tests.Routing;

/// <summary>
/// The compiled trie's shortcuts: the fast step over a node's only short literal child (a masked word compare
/// that needs no search for the segment's end), the catch-all-only node, the hashed edges of a wide node, and the
/// walk's backtracking through them.
/// </summary>
public class RouteTableTrieTests
{
    /// <summary>
    /// "{id}" is a parameter, so the walk (not the all-literal index) decides; the chain "a/bc/def" below it is
    /// taken by fast steps, each literal followed by '/' or by the end of the path.
    /// </summary>
    [Theory]
    [InlineData("/x/1/a/bc/def", "chain")]
    [InlineData("/x/1/a/bc/de", null)]
    [InlineData("/x/1/a/bc/defg", null)]
    [InlineData("/x/1/a/bcd/def", null)]
    [InlineData("/x/1/a/b/def", null)]
    [InlineData("/x/1/ab/c/def", null)]
    [InlineData("/x/1/a/bc/def/", null)]
    [InlineData("/x/1/a/bc", null)]
    [InlineData("/x/123456789/a/bc/def", "chain")]
    [InlineData("/x/123456789/a/bc/defgh", null)]
    public void Fast_steps_match_a_literal_followed_by_a_slash_or_the_end(string path, string? expected)
    {
        RouteTable table = Table(Route("chain", "/x/{id}/a/bc/def"));
        Assert.Equal(expected, Match(table, path).Name);
    }

    /// <summary>
    /// An empty last segment ("/x/{id}/") at the end of a path of 8 bytes or more: the segment starts at the
    /// path's end, where the 8-byte load near the end must yield no bytes at all.
    /// </summary>
    [Theory]
    [InlineData("/x/a/", "slash")]
    [InlineData("/x/abcdefghijk/", "slash")]
    [InlineData("/x/abcdefghijk", "plain")]
    [InlineData("/x/abcdefghijk//", null)]
    [InlineData("/x/abcdefghijk/k", null)]
    public void An_empty_last_segment_matches_at_the_end_of_a_long_path(string path, string? expected)
    {
        RouteTable table = Table(Route("slash", "/x/{id}/"), Route("plain", "/x/{id}"));
        Assert.Equal(expected, Match(table, path).Name);
    }

    [Theory]
    [InlineData("/files/res1", "")]
    [InlineData("/files/res1/", "")]
    [InlineData("/files/res1/a", "a")]
    [InlineData("/files/res1/2024/img/logo-with-a-long-name.png", "2024/img/logo-with-a-long-name.png")]
    public void A_node_with_only_a_catch_all_takes_any_rest(string path, string rest)
    {
        RouteTable table = Table(Route("files", "/files/res1/{*rest}"), Route("other", "/files/res2/{*rest}"));
        var match = Match(table, path);
        Assert.Equal("files", match.Name);
        Assert.Equal([rest], Values(match.Values, path));
    }

    /// <summary>
    /// Wide nodes with keys that share their first 8 bytes (told apart only by the bytes past them), keys of
    /// exactly 8 bytes and short keys, all in one hashed node: each key finds its own child, and a segment one
    /// byte off finds none.
    /// </summary>
    [Fact]
    public void Hashed_children_with_a_shared_prefix_are_told_apart_by_their_tail()
    {
        string[] keys =
        [
            .. Enumerable.Range(0, 40).Select(i => $"resource-{i}"),
            .. Enumerable.Range(0, 40).Select(i => $"r{i:D7}"),
            .. Enumerable.Range(0, 40).Select(i => $"{i}"),
        ];
        RouteTable table = Table([.. keys.Select((key, i) => Route($"k{i}", $"/api/{key}/{{id}}", order: i))]);
        for (int i = 0; i < keys.Length; i++)
        {
            string path = $"/api/{keys[i]}/7";
            var match = Match(table, path);
            Assert.Equal($"k{i}", match.Name);
            Assert.Equal(["7"], Values(match.Values, path));
            Assert.Null(Match(table, $"/api/{keys[i]}x/7").Name);
            string shorter = keys[i][..^1];
            int other = Array.IndexOf(keys, shorter);
            Assert.Equal(other >= 0 ? $"k{other}" : null, Match(table, $"/api/{shorter}/7").Name);
        }

        Assert.Null(Match(table, "/api/resource-40/7").Name);
        Assert.Null(Match(table, "/api/resource-0/").Name);
    }

    /// <summary>
    /// The literal branch goes three segments deep before it fails, the parameter branch then matches; a path
    /// that fails both falls to the root catch-all with the whole path as its value.
    /// </summary>
    [Fact]
    public void Backtracks_out_of_a_deep_literal_branch_into_parameters_then_a_catch_all()
    {
        RouteTable table = Table(
            Route("literal", "/a/b/{x}/d/f"),
            Route("params", "/a/{p}/c/{q}/e"),
            Route("rest", "/{*all}"));

        var literal = Match(table, "/a/b/c/d/f");
        Assert.Equal("literal", literal.Name);
        Assert.Equal(["c"], Values(literal.Values, "/a/b/c/d/f"));

        var parameters = Match(table, "/a/b/c/d/e");
        Assert.Equal("params", parameters.Name);
        Assert.Equal(["b", "d"], Values(parameters.Values, "/a/b/c/d/e"));

        var rest = Match(table, "/a/b/c/d/g");
        Assert.Equal("rest", rest.Name);
        Assert.Equal(["a/b/c/d/g"], Values(rest.Values, "/a/b/c/d/g"));
    }
}
