using FastGate.Gateway.Model;
using FastGate.Gateway.Routing;
using static FastGate.Gateway.Tests.Routing.RoutingTestData;

namespace FastGate.Gateway.Tests.Routing;

public class RouteConflictTests
{
    private static string[] Conflicts(params RouteModel[] routes)
    {
        RouteTable.Build(routes, out IReadOnlyList<RouteConflict> conflicts);
        return [.. conflicts.Select(c => $"{c.First.Name}/{c.Second.Name}")];
    }

    [Fact]
    public void Same_shape_host_and_methods_conflict_whatever_the_parameter_names()
    {
        Assert.Equal(["a/b"], Conflicts(Route("a", "/users/{id}"), Route("b", "/users/{name}")));
        Assert.Equal(["a/b"], Conflicts(Route("a", "/f/{*rest}"), Route("b", "/f/{*path}")));
        Assert.Equal(["a/b"], Conflicts(Route("a", "/x", host: "API.example.com"), Route("b", "/x", host: "api.example.com")));
        Assert.Equal(["a/b"], Conflicts(Route("a", "/x", host: "*.example.com"), Route("b", "/x", host: "*.example.com")));
    }

    [Fact]
    public void Overlapping_methods_conflict_and_empty_means_all()
    {
        Assert.Equal(["a/b"], Conflicts(Route("a", "/x", methods: ["GET", "PUT"]), Route("b", "/x", methods: ["PUT"])));
        Assert.Equal(["a/b"], Conflicts(Route("a", "/x"), Route("b", "/x", methods: ["DELETE"])));
        Assert.Equal(["a/b"], Conflicts(Route("a", "/x", methods: ["DELETE"]), Route("b", "/x")));
        Assert.Empty(Conflicts(Route("a", "/x", methods: ["GET"]), Route("b", "/x", methods: ["POST"])));
    }

    [Fact]
    public void Different_shapes_or_hosts_do_not_conflict()
    {
        Assert.Empty(Conflicts(
            Route("a", "/x"),
            Route("b", "/x/"),
            Route("c", "/{p}"),
            Route("d", "/{*p}"),
            Route("e", "/x", host: "a.example.com"),
            Route("f", "/x", host: "*.example.com"),
            Route("g", "/x", host: "*.a.example.com"),
            Route("h", "/x/{p}"),
            Route("i", "/x/{*p}")));
    }

    [Fact]
    public void Conflicts_are_reported_in_file_order()
    {
        Assert.Equal(["a/c", "a/d", "b/e", "c/d"], Conflicts(
            Route("a", "/z/{x}"),
            Route("b", "/a"),
            Route("c", "/z/{y}"),
            Route("d", "/z/{w}"),
            Route("e", "/a")));
    }
}
