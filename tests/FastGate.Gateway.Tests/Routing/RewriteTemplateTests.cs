using System.Text;
using FastGate.Gateway.Routing;
using static FastGate.Gateway.Tests.Routing.RoutingTestData;

namespace FastGate.Gateway.Tests.Routing;

public class RewriteTemplateTests
{
    private static RewriteTemplate Create(string rewrite, string match)
    {
        Assert.True(RewriteTemplate.TryCreate(rewrite, Template(match), out RewriteTemplate? result, out string? error, out int offset), $"{error} at {offset}");
        Assert.Equal(rewrite, result.Text);
        return result;
    }

    private static string Rewrite(string rewrite, string match, string path)
    {
        RewriteTemplate template = Create(rewrite, match);
        RouteTable table = Table(Route("r", match));
        RouteValues values = default;
        byte[] bytes = Encoding.ASCII.GetBytes(path);
        Assert.Equal(RouteMatchStatus.Matched, table.Match("h"u8, "GET"u8, bytes, ref values, out _));
        var destination = new byte[256];
        int written = template.Write(destination, bytes, values);
        Assert.True(written >= 0);
        return Encoding.ASCII.GetString(destination, 0, written);
    }

    [Theory]
    [InlineData("/users/{id}", "/api/users/{id}", "/api/users/42", "/users/42")]
    [InlineData("/files/{*rest}", "/static/{*rest}", "/static/css/site.css", "/files/css/site.css")]
    [InlineData("/files/{rest}", "/static/{*rest}", "/static/a/b", "/files/a/b")]
    [InlineData("/files/{*rest}", "/static/{*rest}", "/static", "/files/")]
    [InlineData("/v2/{b}-{a}.json", "/x/{a}/{b}", "/x/1/2", "/v2/2-1.json")]
    [InlineData("/orders?user={id}", "/api/profile/{id}", "/api/profile/7", "/orders?user=7")]
    [InlineData("/search?q={term}&page={page}", "/s/{term}/{page}", "/s/a%20b/3", "/search?q=a%20b&page=3")]
    [InlineData("/fixed", "/anything/{x}", "/anything/1", "/fixed")]
    [InlineData("/{id}/{id}", "/u/{id}", "/u/9", "/9/9")]
    [InlineData("/p/{id}", "/u/{id}", "/u/a%2Fb", "/p/a%2Fb")]
    public void Writes_literals_and_captured_bytes(string rewrite, string match, string path, string expected) =>
        Assert.Equal(expected, Rewrite(rewrite, match, path));

    [Fact]
    public void Query_values_cannot_add_query_parameters()
    {
        // '&', '=' and '+' are valid in a path segment but are delimiters in a query.
        Assert.Equal("/orders?user=1%26admin%3Dtrue%2B", Rewrite("/orders?user={id}", "/u/{id}", "/u/1&admin=true+"));
        Assert.Equal("/orders/1&admin=true+", Rewrite("/orders/{id}", "/u/{id}", "/u/1&admin=true+"));
    }

    [Fact]
    public void HasQuery_tells_whether_the_template_has_a_query()
    {
        Assert.True(Create("/orders?user={id}", "/u/{id}").HasQuery);
        Assert.True(Create("/orders?", "/u/{id}").HasQuery);
        Assert.False(Create("/orders/{id}", "/u/{id}").HasQuery);
    }

    [Fact]
    public void Returns_minus_one_when_the_destination_is_too_small()
    {
        RewriteTemplate template = Create("/orders?user={id}", "/u/{id}");
        RouteTable table = Table(Route("r", "/u/{id}"));
        RouteValues values = default;
        table.Match("h"u8, "GET"u8, "/u/1&2"u8, ref values, out _);
        var destination = new byte[32];
        Assert.Equal(18, template.Write(destination, "/u/1&2"u8, values));
        Assert.Equal("/orders?user=1%262", Encoding.ASCII.GetString(destination, 0, 18));
        for (int size = 0; size < 18; size++)
        {
            Assert.Equal(-1, template.Write(destination.AsSpan(0, size), "/u/1&2"u8, values));
        }
    }

    [Theory]
    [InlineData("", "a rewrite must start with '/'", 0)]
    [InlineData("users/{id}", "a rewrite must start with '/'", 0)]
    [InlineData("/users/{id", "unbalanced '{': missing '}'", 7)]
    [InlineData("/users/{i{d}", "unbalanced '{': missing '}'", 7)]
    [InlineData("/users/id}", "unbalanced '}'", 9)]
    [InlineData("/users/{}", "empty parameter name", 7)]
    [InlineData("/users/{user-id}", "invalid parameter name 'user-id': use letters, digits and '_', not starting with a digit", 12)]
    [InlineData("/users/{name}", "'name' is not a parameter of the match path '/api/{id}/{*rest}'", 8)]
    [InlineData("/users?x={ID}", "'ID' is not a parameter of the match path '/api/{id}/{*rest}'", 10)]
    [InlineData("/users/{*id}", "'{*id}' marks a catch-all, but 'id' is a single-segment parameter of '/api/{id}/{*rest}'", 7)]
    [InlineData("/users/a b", "invalid character ' ' in a rewrite", 8)]
    [InlineData("/users#frag", "a rewrite cannot contain a fragment ('#')", 6)]
    [InlineData("/users/%2", "invalid percent-encoding: '%' must be followed by two hex digits", 7)]
    [InlineData("/users?q=%zz", "invalid percent-encoding: '%' must be followed by two hex digits", 9)]
    public void Rejects_invalid_rewrites(string rewrite, string message, int offset)
    {
        Assert.False(RewriteTemplate.TryCreate(rewrite, Template("/api/{id}/{*rest}"), out RewriteTemplate? result, out string? error, out int errorOffset));
        Assert.Null(result);
        Assert.Equal(message, error);
        Assert.Equal(offset, errorOffset);
    }
}
