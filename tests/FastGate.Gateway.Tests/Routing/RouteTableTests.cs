using System.Text;
using FastGate.Gateway.Model;
using FastGate.Gateway.Routing;
using static FastGate.Gateway.Tests.Routing.RoutingTestData;

namespace FastGate.Gateway.Tests.Routing;

public class RouteTableTests
{
    [Fact]
    public void Matches_literal_parameter_and_catch_all_with_values()
    {
        RouteTable table = Table(
            Route("me", "/api/users/me"),
            Route("user", "/api/users/{id}"),
            Route("orders", "/api/users/{id}/orders/{order}"),
            Route("files", "/files/{*rest}"));

        var me = Match(table, "/api/users/me");
        Assert.Equal((RouteMatchStatus.Matched, "me"), (me.Status, me.Name));
        Assert.Empty(Values(me.Values, "/api/users/me"));

        var user = Match(table, "/api/users/42");
        Assert.Equal("user", user.Name);
        Assert.Equal(["42"], Values(user.Values, "/api/users/42"));
        Assert.Equal((11, 2), user.Values.GetRange(0));

        var orders = Match(table, "/api/users/7/orders/x%2Fy");
        Assert.Equal("orders", orders.Name);
        Assert.Equal(["7", "x%2Fy"], Values(orders.Values, "/api/users/7/orders/x%2Fy"));

        var files = Match(table, "/files/a/b/c.txt");
        Assert.Equal("files", files.Name);
        Assert.Equal(["a/b/c.txt"], Values(files.Values, "/files/a/b/c.txt"));
    }

    [Theory]
    [InlineData("/files", "")]
    [InlineData("/files/", "")]
    [InlineData("/files/a", "a")]
    [InlineData("/files/a/", "a/")]
    [InlineData("/files//a", "/a")]
    [InlineData("/files/a/b/c", "a/b/c")]
    public void Catch_all_matches_zero_or_more_segments(string path, string rest)
    {
        RouteTable table = Table(Route("files", "/files/{*rest}"), Route("other", "/filesystem"));
        var match = Match(table, path);
        Assert.Equal("files", match.Name);
        Assert.Equal([rest], Values(match.Values, path));
    }

    [Fact]
    public void Root_catch_all_matches_everything()
    {
        RouteTable table = Table(Route("all", "/{*path}"), Route("root", "/"));
        Assert.Equal("root", Match(table, "/").Name);
        var match = Match(table, "/a/b");
        Assert.Equal("all", match.Name);
        Assert.Equal(["a/b"], Values(match.Values, "/a/b"));
    }

    [Fact]
    public void Trailing_slash_is_significant()
    {
        RouteTable table = Table(Route("slash", "/a/"), Route("bare", "/a"), Route("param", "/b/{id}"));
        Assert.Equal("slash", Match(table, "/a/").Name);
        Assert.Equal("bare", Match(table, "/a").Name);
        Assert.Equal(RouteMatchStatus.NotFound, Match(table, "/a//").Status);
        // A parameter is one non-empty segment.
        Assert.Equal(RouteMatchStatus.NotFound, Match(table, "/b/").Status);
        Assert.Equal(RouteMatchStatus.NotFound, Match(table, "/b/1/").Status);
    }

    [Theory]
    [InlineData("/API/users/1")]
    [InlineData("/api/Users/1")]
    [InlineData("/api/users")]
    [InlineData("/api/users/1/2")]
    [InlineData("/")]
    [InlineData("")]
    [InlineData("api/users/1")]
    public void Misses_are_not_found_and_paths_are_case_sensitive(string path)
    {
        RouteTable table = Table(Route("user", "/api/users/{id}"));
        var match = Match(table, path);
        Assert.Equal(RouteMatchStatus.NotFound, match.Status);
        Assert.Equal(0, match.Values.Count);
    }

    [Theory]
    [InlineData("/a/b/c", "lll")]
    [InlineData("/a/b/x", "llp")]
    [InlineData("/a/x/c", "lpl")]
    [InlineData("/a/x/y", "lpp")]
    [InlineData("/x/b/c", "plc")]
    [InlineData("/x/y/c", "ppl")]
    [InlineData("/x/y/z", "catch")]
    [InlineData("/a", "lc")]
    [InlineData("/a/b", "lpc")] // {*rest} also matches zero segments, and l-p-c is more specific than l-c
    [InlineData("/a/x/y/z", "lpc")]
    public void Most_specific_route_wins_segment_by_segment(string path, string expected)
    {
        // Listed least specific first, so file order cannot explain the result.
        RouteTable table = Table(
            Route("catch", "/{*all}"),
            Route("lpc", "/a/{x}/{*rest}"),
            Route("lc", "/a/{*rest}"),
            Route("ppl", "/{x}/{y}/c"),
            Route("plc", "/{x}/b/{*rest}"),
            Route("lpp", "/a/{x}/{y}"),
            Route("lpl", "/a/{x}/c"),
            Route("llp", "/a/b/{y}"),
            Route("lll", "/a/b/c"));
        Assert.Equal(expected, Match(table, path).Name);
    }

    [Fact]
    public void Backtracks_from_a_literal_branch_that_fails_deeper()
    {
        RouteTable table = Table(Route("literal", "/api/users/me/profile"), Route("param", "/api/users/{id}/orders"));
        var match = Match(table, "/api/users/me/orders");
        Assert.Equal("param", match.Name);
        Assert.Equal(["me"], Values(match.Values, "/api/users/me/orders"));
    }

    [Theory]
    [InlineData("api.example.com", "exact")]
    [InlineData("API.Example.COM", "exact")]
    [InlineData("api.example.com:8080", "exact")]
    [InlineData("api.example.com.", "exact")]
    [InlineData("api.example.com.:443", "exact")]
    [InlineData("x.api.example.com", "wild-long")]
    [InlineData("a.b.example.com", "wild-short")]
    [InlineData("www.example.com:80", "wild-short")]
    [InlineData("example.com", "any")]
    [InlineData("other.org", "any")]
    [InlineData("[::1]:8080", "any")]
    [InlineData("", "any")]
    public void Host_exact_then_longer_wildcard_then_any(string host, string expected)
    {
        RouteTable table = Table(
            Route("any", "/x"),
            Route("wild-short", "/x", host: "*.example.com"),
            Route("wild-long", "/x", host: "*.api.example.com"),
            Route("exact", "/x", host: "api.example.com"));
        Assert.Equal(expected, Match(table, "/x", host: host).Name);
    }

    [Theory]
    [InlineData("example.com")]
    [InlineData(".example.com")]
    [InlineData("badexample.com")]
    [InlineData("example.org")]
    public void Wildcard_host_needs_a_label_before_the_suffix(string host)
    {
        RouteTable table = Table(Route("wild", "/x", host: "*.example.com"));
        Assert.Equal(RouteMatchStatus.NotFound, Match(table, "/x", host: host).Status);
    }

    [Fact]
    public void Ip_literal_host_with_port()
    {
        RouteTable table = Table(Route("v6", "/x", host: "[::1]"), Route("v4", "/y", host: "127.0.0.1"));
        Assert.Equal("v6", Match(table, "/x", host: "[::1]:8080").Name);
        Assert.Equal("v4", Match(table, "/y", host: "127.0.0.1:8080").Name);
    }

    [Fact]
    public void Path_specificity_beats_host_specificity()
    {
        RouteTable table = Table(Route("param-exact", "/{x}", host: "api.example.com"), Route("literal-any", "/a"));
        Assert.Equal("literal-any", Match(table, "/a", host: "api.example.com").Name);
        Assert.Equal("param-exact", Match(table, "/b", host: "api.example.com").Name);
    }

    [Fact]
    public void File_order_breaks_ties_between_equally_specific_routes()
    {
        // Only routes of one shape and host pattern can both match a request, and they conflict where their
        // methods overlap: the table still works, the first in the file wins the overlap.
        RouteModel first = Route("first", "/users/{id}", methods: ["GET"], order: 0);
        RouteModel second = Route("second", "/users/{name}", methods: ["GET", "POST"], order: 1);
        RouteTable table = RouteTable.Build([first, second], out IReadOnlyList<RouteConflict> conflicts);
        Assert.Equal([new RouteConflict(first, second)], conflicts);
        Assert.Equal("first", Match(table, "/users/1", "GET").Name);
        Assert.Equal("second", Match(table, "/users/1", "POST").Name);
    }

    [Fact]
    public void Order_not_list_position_decides_ties()
    {
        RouteModel late = Route("late", "/x", methods: ["GET"], order: 5);
        RouteModel early = Route("early", "/x", methods: ["GET", "PUT"], order: 1);
        RouteTable table = RouteTable.Build([late, early], out IReadOnlyList<RouteConflict> conflicts);
        Assert.Single(conflicts);
        Assert.Equal("early", Match(table, "/x").Name);
    }

    [Fact]
    public void Methods_filter_and_fall_through_to_a_less_specific_route()
    {
        RouteTable table = Table(
            Route("get-me", "/users/me", methods: ["GET"]),
            Route("user", "/users/{id}", methods: ["PUT", "DELETE"]));
        Assert.Equal("get-me", Match(table, "/users/me", "GET").Name);
        Assert.Equal("user", Match(table, "/users/me", "PUT").Name);
        // Methods are exact, case-sensitive tokens (RFC 9110 section 9.1).
        Assert.Equal(RouteMatchStatus.MethodNotAllowed, Match(table, "/users/me", "get").Status);
    }

    [Fact]
    public void Method_not_allowed_and_allow_header()
    {
        RouteTable table = Table(
            Route("get-me", "/users/me", methods: ["GET", "HEAD"]),
            Route("user", "/users/{id}", methods: ["PUT", "GET"]),
            Route("other-host", "/users/{id}", host: "admin.example.com", methods: ["PATCH"]));

        var match = Match(table, "/users/me", "POST");
        Assert.Equal(RouteMatchStatus.MethodNotAllowed, match.Status);
        Assert.Null(match.Name);
        Assert.Equal(0, match.Values.Count);

        Span<byte> allow = stackalloc byte[64];
        int written = table.WriteAllowedMethods("example.com"u8, "/users/me"u8, allow);
        Assert.Equal("GET, HEAD, PUT", Encoding.ASCII.GetString(allow[..written]));

        written = table.WriteAllowedMethods("admin.example.com"u8, "/users/1"u8, allow);
        Assert.Equal("PATCH, PUT, GET", Encoding.ASCII.GetString(allow[..written]));

        Assert.Equal(-1, table.WriteAllowedMethods("example.com"u8, "/users/me"u8, allow[..13]));
        Assert.Equal(0, table.WriteAllowedMethods("example.com"u8, "/nothing"u8, allow));
    }

    [Fact]
    public void Other_host_is_not_found_not_method_not_allowed()
    {
        RouteTable table = Table(Route("admin", "/x", host: "admin.example.com", methods: ["GET"]));
        Assert.Equal(RouteMatchStatus.NotFound, Match(table, "/x", "POST", host: "example.com").Status);
        Assert.Equal(RouteMatchStatus.MethodNotAllowed, Match(table, "/x", "POST", host: "admin.example.com").Status);
    }

    [Fact]
    public void Many_literal_children_use_the_hashed_lookup()
    {
        int count = RouteNode.LinearScanLimit * 8;
        RouteModel[] routes = [.. Enumerable.Range(0, count).Select(i => Route($"r{i}", $"/api/res{i}/{{id}}", order: i)), Route("fallback", "/api/{other}/{id}")];
        RouteTable table = Table(routes);
        for (int i = 0; i < count; i++)
        {
            var match = Match(table, $"/api/res{i}/{i}");
            Assert.Equal($"r{i}", match.Name);
            Assert.Equal([$"{i}"], Values(match.Values, $"/api/res{i}/{i}"));
        }

        Assert.Equal("fallback", Match(table, "/api/res/1").Name);
        Assert.Equal("fallback", Match(table, $"/api/res{count}/1").Name);
        Assert.Equal(RouteMatchStatus.NotFound, Match(table, "/api/res1").Status);
    }

    /// <summary>
    /// Segments are split and compared 8 bytes at a time (a word from the segment's start, or the path's last 8
    /// bytes near its end): literals of 1 to 20 bytes, alone, first and last, with paths shorter and longer than
    /// a word, each against its one-byte-shorter, one-byte-longer and last-byte-changed neighbours.
    /// </summary>
    [Fact]
    public void Literal_segments_of_every_length_around_the_word_size_match_exactly()
    {
        for (int length = 1; length <= 20; length++)
        {
            string literal = new string('a', length - 1) + "z";
            RouteTable table = Table(
                Route("alone", $"/{literal}"),
                Route("first", $"/{literal}/x"),
                Route("last", $"/p/{literal}"),
                Route("param", "/q/{id}/t"),
                Route("other", "/{any}/{*rest}"));

            Assert.Equal("alone", Match(table, $"/{literal}").Name);
            Assert.Equal("first", Match(table, $"/{literal}/x").Name);
            Assert.Equal("last", Match(table, $"/p/{literal}").Name);
            // One other segment is "{any}" with an empty catch-all; "/" alone has no segment for "{any}".
            Assert.Equal(length == 1 ? null : "other", Match(table, $"/{literal[..^1]}").Name);
            Assert.Equal("other", Match(table, $"/{literal}a").Name);
            Assert.Equal("other", Match(table, $"/{literal[..^1]}y").Name);
            Assert.Equal("other", Match(table, $"/{literal[..^1]}y/x").Name);
            Assert.Equal("other", Match(table, $"/p/{literal}a").Name);
            Assert.Equal("other", Match(table, $"/p/{literal}/").Name);

            var param = Match(table, $"/q/{literal}/t");
            Assert.Equal("param", param.Name);
            Assert.Equal([literal], Values(param.Values, $"/q/{literal}/t"));
        }
    }

    [Fact]
    public void Values_are_reset_on_a_miss()
    {
        RouteTable table = Table(Route("user", "/users/{id}"));
        RouteValues values = default;
        Assert.Equal(RouteMatchStatus.Matched, table.Match("h"u8, "GET"u8, "/users/1"u8, ref values, out _));
        Assert.Equal(1, values.Count);
        Assert.Equal(RouteMatchStatus.NotFound, table.Match("h"u8, "GET"u8, "/nope"u8, ref values, out RouteModel? route));
        Assert.Null(route);
        Assert.Equal(0, values.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => values.GetRange(0));
    }

    [Fact]
    public void TryGetValue_by_name()
    {
        RouteModel route = Route("r", "/t/{tenant}/u/{id}");
        RouteTable table = Table(route);
        var match = Match(table, "/t/acme/u/42");
        byte[] path = Encoding.ASCII.GetBytes("/t/acme/u/42");
        Assert.True(match.Values.TryGetValue(route.Path, "id", path, out ReadOnlySpan<byte> id));
        Assert.Equal("42", Encoding.ASCII.GetString(id));
        Assert.False(match.Values.TryGetValue(route.Path, "nope", path, out _));
    }

    [Fact]
    public void Captures_sixteen_parameters()
    {
        string template = string.Concat(Enumerable.Range(0, RouteValues.MaxCount).Select(i => $"/{{p{i}}}"));
        string path = string.Concat(Enumerable.Range(0, RouteValues.MaxCount).Select(i => $"/v{i}"));
        var match = Match(Table(Route("many", template)), path);
        Assert.Equal([.. Enumerable.Range(0, RouteValues.MaxCount).Select(i => $"v{i}")], Values(match.Values, path));
    }

    /// <summary>
    /// Nodes with a single literal child keep it inline (the walk's fast case): a shorter or longer segment, a
    /// path that ends early and a missing segment boundary all still miss.
    /// </summary>
    [Theory]
    [InlineData("/api/v1/internal/users", "users")]
    [InlineData("/api/v1/internal/users/7", "user")]
    [InlineData("/api/v1/internal", null)]
    [InlineData("/api/v1/internalx/users", null)]
    [InlineData("/api/v1/interna/users", null)]
    [InlineData("/api/v1", null)]
    [InlineData("/api/v1/", null)]
    [InlineData("/api", null)]
    [InlineData("/api/", null)]
    [InlineData("/api/v2/internal/users", null)]
    [InlineData("/apix/v1/internal/users", null)]
    [InlineData("/health", "health")]
    public void Single_literal_children_match_whole_segments_only(string path, string? expected)
    {
        RouteTable table = Table(
            Route("users", "/api/v1/internal/users"),
            Route("user", "/api/v1/internal/users/{id}"),
            Route("health", "/health"));
        var match = Match(table, path);
        Assert.Equal(expected, match.Name);
        Assert.Equal(expected is null ? RouteMatchStatus.NotFound : RouteMatchStatus.Matched, match.Status);
    }

    /// <summary>
    /// All-literal paths are looked up whole first; when that route refuses the host or the method, the walk
    /// still falls through to the less specific routes, and the 405/404 distinction is kept.
    /// </summary>
    [Fact]
    public void Whole_literal_path_lookup_falls_through_on_host_and_method()
    {
        RouteTable table = Table(
            Route("search-admin", "/api/users/search", host: "admin.example.com"),
            Route("search-get", "/api/users/search", methods: ["GET"]),
            Route("user", "/api/users/{id}", methods: ["GET", "POST"]),
            Route("only-put", "/only/put", methods: ["PUT"]));

        Assert.Equal("search-admin", Match(table, "/api/users/search", host: "admin.example.com").Name);
        Assert.Equal("search-get", Match(table, "/api/users/search").Name);
        var post = Match(table, "/api/users/search", method: "POST");
        Assert.Equal("user", post.Name);
        Assert.Equal(["search"], Values(post.Values, "/api/users/search"));
        Assert.Equal(RouteMatchStatus.MethodNotAllowed, Match(table, "/api/users/search", method: "DELETE").Status);
        Assert.Equal(RouteMatchStatus.MethodNotAllowed, Match(table, "/only/put").Status);
        Assert.Equal("only-put", Match(table, "/only/put", method: "PUT").Name);
        Assert.Equal(RouteMatchStatus.NotFound, Match(table, "/only/pu").Status);
        Assert.Equal(RouteMatchStatus.NotFound, Match(table, "/only/putt").Status);
    }

    /// <summary>Thousands of literal paths that share their first, middle and last bytes all find their own route.</summary>
    [Fact]
    public void Whole_literal_paths_that_share_prefix_and_suffix_are_told_apart()
    {
        string[] paths = [.. Enumerable.Range(0, 3000).Select(i => $"/api/v1/res{i}/search"), "/", "/a", "/ab/", "/abcdefg", "/abcdefgh"];
        RouteTable table = Table([.. paths.Select((p, i) => Route($"r{i}", p))]);
        for (int i = 0; i < paths.Length; i++)
        {
            Assert.Equal($"r{i}", Match(table, paths[i]).Name);
        }

        Assert.Equal(RouteMatchStatus.NotFound, Match(table, "/api/v1/res3000/search").Status);
        Assert.Equal(RouteMatchStatus.NotFound, Match(table, "/abcdefgi").Status);
        Assert.Equal(RouteMatchStatus.NotFound, Match(table, "/ab").Status);
    }
}
