using FastGate.Gateway.Routing;
using static FastGate.Gateway.Tests.Configuration.ConfigTestFiles;

namespace FastGate.Gateway.Tests.Configuration;

// The loader does not judge templates itself: it reports what PathTemplate and RewriteTemplate say, at
// the character they point at. The expectations are derived from those two so these tests check the
// wiring (message and column arithmetic) whatever the template rules are.
public class RouteTemplateErrorTests
{
    private const string UpstreamAndRoutePrefix = """
        [upstreams.users]
        endpoints = ["127.0.0.1:9001"]

        [[routes]]
        name = "users"

        """;

    [Theory]
    [InlineData("/users/{id")]
    [InlineData("/users/{}")]
    [InlineData("/files/{*rest}/more")]
    [InlineData("users")]
    [InlineData("/users/{id}/{id}")]
    public void Path_template_error_points_into_the_string(string template)
    {
        var toml = UpstreamAndRoutePrefix + $"match = {{ path = \"{template}\" }}\nupstream = \"users\"";
        // Column of the path's opening quote on line 6.
        const int quoteColumn = 18;
        var expected = PathTemplate.TryParse(template, out _, out var error, out var offset)
            ? []
            : new[] { $"routes.toml:6:{quoteColumn + 1 + offset}: invalid path template in route 'users': {error}" };
        Assert.Equal(expected, Errors(toml));
    }

    [Theory]
    [InlineData("/users/{name}")]
    [InlineData("/users/{id")]
    [InlineData("users/{id}")]
    public void Rewrite_error_points_into_the_string(string rewrite)
    {
        var toml = UpstreamAndRoutePrefix + $"match = {{ path = \"/api/users/{{id}}\" }}\nupstream = \"users\"\nrewrite = \"{rewrite}\"";
        Assert.True(PathTemplate.TryParse("/api/users/{id}", out var path, out _, out _));
        // Column of the rewrite's opening quote on line 8.
        const int quoteColumn = 11;
        var expected = RewriteTemplate.TryCreate(rewrite, path, out _, out var error, out var offset)
            ? []
            : new[] { $"routes.toml:8:{quoteColumn + 1 + offset}: invalid rewrite in route 'users': {error}" };
        Assert.Equal(expected, Errors(toml));
    }

    [Fact]
    public void Routes_matching_the_same_requests_are_a_conflict_at_the_second_match()
    {
        Assert.Equal(
            "routes.toml:11:1: routes 'a' and 'b' match exactly the same requests",
            Error("""
                [upstreams.users]
                endpoints = ["127.0.0.1:9001"]

                [[routes]]
                name = "a"
                match = { path = "/users/{id}", methods = ["GET"] }
                upstream = "users"

                [[routes]]
                name = "b"
                match = { path = "/users/{id}", methods = ["GET"] }
                upstream = "users"
                """));
    }
}
