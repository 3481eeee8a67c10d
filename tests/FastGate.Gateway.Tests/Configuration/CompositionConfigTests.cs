using System.Text;
using FastGate.Gateway.Configuration;
using FastGate.Gateway.Model;
using static FastGate.Gateway.Tests.Configuration.ConfigTestFiles;

namespace FastGate.Gateway.Tests.Configuration;

// Aggregate and batch routes: what binds, and one test per error, asserting the whole printed line.
public class CompositionConfigTests
{
    private const string Upstreams = """
        [upstreams.users]
        endpoints = ["127.0.0.1:9001"]

        [upstreams.orders]
        endpoints = ["127.0.0.1:9002"]

        """;

    private static GatewayModel Load(string toml)
    {
        var result = GatewayConfigLoader.LoadText(toml, FileName);
        Assert.Empty(result.Errors);
        return result.Model!;
    }

    [Fact]
    public void Aggregate_route_binds_parts_in_file_order_with_defaults()
    {
        var model = Load(Upstreams + """
            [[routes]]
            name = "profile"
            match = { path = "/api/profile/{id}", methods = ["GET"] }
            aggregate = [
              { key = "user",   upstream = "users",  path = "/users/{id}" },
              { key = "orders", upstream = "orders", path = "/orders?user={id}", required = false, method = "post" },
            ]
            aggregate_timeout = "2s"
            """);

        var route = Assert.Single(model.Routes);
        Assert.Equal(RouteAction.Aggregate, route.Action);
        Assert.Null(route.Upstream);
        var aggregate = route.Aggregate!;
        Assert.Equal(TimeSpan.FromSeconds(2), aggregate.Timeout);
        Assert.Equal(["user", "orders"], aggregate.Parts.Select(p => p.Key));
        Assert.Equal(["users", "orders"], aggregate.Parts.Select(p => p.Upstream.Name));
        Assert.Equal([true, false], aggregate.Parts.Select(p => p.Required));
        Assert.Equal(["GET", "POST"], aggregate.Parts.Select(p => Encoding.ASCII.GetString(p.Method)));
        Assert.Equal("\"user\":", Encoding.UTF8.GetString(aggregate.Parts[0].MemberPrefix));
        Assert.Equal("\"orders\"", Encoding.UTF8.GetString(aggregate.Parts[1].KeyJson));
        Assert.True(aggregate.Parts[1].Path.HasQuery);
    }

    [Fact]
    public void Aggregate_parts_may_be_written_as_table_array_sections()
    {
        var model = Load(Upstreams + """
            [[routes]]
            name = "profile"
            match = { path = "/p/{id}" }

            [[routes.aggregate]]
            key = "user"
            upstream = "users"
            path = "/users/{id}"
            """);

        var aggregate = Assert.Single(model.Routes).Aggregate!;
        Assert.Equal(TimeSpan.FromSeconds(5), aggregate.Timeout);
        Assert.Equal("/users/{id}", Assert.Single(aggregate.Parts).Path.Text);
    }

    [Fact]
    public void Batch_route_binds_limits_and_answers_post_only()
    {
        var model = Load("""
            [[routes]]
            name = "batch"
            match = { path = "/batch" }
            batch = { max_requests = 20, max_concurrency = 3 }
            """);

        var route = Assert.Single(model.Routes);
        Assert.Equal(RouteAction.Batch, route.Action);
        Assert.Equal(20, route.Batch!.MaxRequests);
        Assert.Equal(3, route.Batch.MaxConcurrency);
        Assert.Equal(["POST"], route.Methods);
    }

    [Fact]
    public void Batch_concurrency_defaults_to_at_most_max_requests()
    {
        var route = Assert.Single(Load("""
            [[routes]]
            name = "batch"
            match = { path = "/batch", methods = ["POST"] }
            batch = { max_requests = 2 }
            """).Routes);
        Assert.Equal(2, route.Batch!.MaxConcurrency);
    }

    [Fact]
    public void Duplicate_part_key_points_at_the_first()
    {
        Assert.Equal(
            "routes.toml:11:11: key 'user' is already used by the part at line 10:11; each part needs its own key",
            Error(Upstreams + """
                [[routes]]
                name = "profile"
                match = { path = "/p/{id}" }
                aggregate = [
                  { key = "user", upstream = "users", path = "/users/{id}" },
                  { key = "user", upstream = "orders", path = "/orders/{id}" },
                ]
                """));
    }

    [Fact]
    public void Unknown_part_upstream_suggests_the_closest()
    {
        Assert.Equal(
            "routes.toml:9:43: part #1 of 'aggregate' in route 'profile' names upstream 'order' which is not defined (did you mean 'orders'?)",
            Error(Upstreams + """
                [[routes]]
                name = "profile"
                match = { path = "/p/{id}" }
                aggregate = [{ key = "orders", upstream = "order", path = "/orders/{id}" }]
                """));
    }

    [Fact]
    public void Part_path_naming_a_parameter_the_route_does_not_capture()
    {
        Assert.Equal(
            "routes.toml:9:66: invalid path in part #1 of 'aggregate' in route 'profile': 'uid' is not a parameter of the match path '/p/{id}'",
            Error(Upstreams + """
                [[routes]]
                name = "profile"
                match = { path = "/p/{id}" }
                aggregate = [{ key = "user", upstream = "users", path = "/users/{uid}" }]
                """));
    }

    [Fact]
    public void Upstream_and_aggregate_on_one_route()
    {
        Assert.Equal(
            "routes.toml:9:1: route 'profile' has both 'upstream' and 'aggregate': a route has exactly one action (each part of 'aggregate' names its own upstream)",
            Error(Upstreams + """
                [[routes]]
                name = "profile"
                match = { path = "/p/{id}" }
                upstream = "users"
                aggregate = [{ key = "user", upstream = "users", path = "/users/{id}" }]
                """));
    }

    [Fact]
    public void Aggregate_and_batch_on_one_route()
    {
        Assert.Equal(
            "routes.toml:10:1: route 'profile' has both 'aggregate' and 'batch': a route has exactly one action",
            Error(Upstreams + """
                [[routes]]
                name = "profile"
                match = { path = "/p/{id}" }
                aggregate = [{ key = "user", upstream = "users", path = "/users/{id}" }]
                batch = { max_requests = 5 }
                """));
    }

    [Fact]
    public void Bad_part_method()
    {
        Assert.Equal(
            "routes.toml:9:81: invalid method 'GE T' in part #1 of 'aggregate' in route 'profile': a method is a token like \"GET\"",
            Error(Upstreams + """
                [[routes]]
                name = "profile"
                match = { path = "/p/{id}" }
                aggregate = [{ key = "user", upstream = "users", path = "/users/{id}", method = "GE T" }]
                """));
    }

    [Fact]
    public void Part_method_without_a_document_in_its_answer()
    {
        Assert.Equal(
            "routes.toml:9:81: method 'HEAD' in part #1 of 'aggregate' in route 'profile' does not answer with a document to merge; use GET or another method with a body in its answer",
            Error(Upstreams + """
                [[routes]]
                name = "profile"
                match = { path = "/p/{id}" }
                aggregate = [{ key = "user", upstream = "users", path = "/users/{id}", method = "HEAD" }]
                """));
    }

    [Fact]
    public void Part_key_reserved_for_the_gateway()
    {
        Assert.Equal(
            "routes.toml:9:22: invalid key '_errors' in part #1 of 'aggregate' in route 'profile': use letters, digits, '_' and '-', not starting with '_' (reserved for the gateway's own members like \"_errors\")",
            Error(Upstreams + """
                [[routes]]
                name = "profile"
                match = { path = "/p/{id}" }
                aggregate = [{ key = "_errors", upstream = "users", path = "/users/{id}" }]
                """));
    }

    [Fact]
    public void Part_missing_its_keys_and_an_unknown_key()
    {
        Assert.Equal(
            [
                "routes.toml:9:14: missing 'upstream' in part #1 of 'aggregate' in route 'profile'",
                "routes.toml:9:14: missing 'path' in part #1 of 'aggregate' in route 'profile'",
                "routes.toml:9:27: unknown key 'upstrem' in part #1 of 'aggregate' in route 'profile' (did you mean 'upstream'?)",
            ],
            Errors(Upstreams + """
                [[routes]]
                name = "profile"
                match = { path = "/p/{id}" }
                aggregate = [{ key = "a", upstrem = "users" }]
                """));
    }

    [Fact]
    public void Empty_aggregate()
    {
        Assert.Equal(
            "routes.toml:9:13: 'aggregate' of route 'profile' needs at least one part",
            Error(Upstreams + """
                [[routes]]
                name = "profile"
                match = { path = "/p/{id}" }
                aggregate = []
                """));
    }

    [Fact]
    public void Aggregate_timeout_must_be_a_duration()
    {
        Assert.Equal(
            "routes.toml:10:21: invalid duration 'soon' for 'aggregate_timeout': expected a positive duration like \"250ms\", \"5s\", \"1m\", \"1h\" or \"1m30s\"",
            Error(Upstreams + """
                [[routes]]
                name = "profile"
                match = { path = "/p/{id}" }
                aggregate = [{ key = "user", upstream = "users", path = "/users/{id}" }]
                aggregate_timeout = "soon"
                """));
    }

    [Fact]
    public void Proxy_only_keys_on_an_aggregate_route()
    {
        Assert.Equal(
            "routes.toml:10:1: 'retries' only applies to a route with 'upstream', not to an aggregate route (route 'profile')",
            Error(Upstreams + """
                [[routes]]
                name = "profile"
                match = { path = "/p/{id}" }
                aggregate = [{ key = "user", upstream = "users", path = "/users/{id}" }]
                retries = 2
                """));
    }

    [Fact]
    public void Max_requests_out_of_range()
    {
        Assert.Equal(
            "routes.toml:4:26: 'max_requests' must be between 1 and 1000, not 0",
            Error("""
                [[routes]]
                name = "batch"
                match = { path = "/batch" }
                batch = { max_requests = 0 }
                """));
    }

    [Fact]
    public void Max_concurrency_above_max_requests()
    {
        Assert.Equal(
            "routes.toml:4:47: 'max_concurrency' must be between 1 and 5, not 6",
            Error("""
                [[routes]]
                name = "batch"
                match = { path = "/batch" }
                batch = { max_requests = 5, max_concurrency = 6 }
                """));
    }

    [Fact]
    public void Batch_route_with_a_method_other_than_post()
    {
        Assert.Equal(
            "routes.toml:3:38: a batch route answers POST only; route 'batch' lists 'GET' (leave 'methods' out or write [\"POST\"])",
            Error("""
                [[routes]]
                name = "batch"
                match = { path = "/batch", methods = ["GET"] }
                batch = { max_requests = 5 }
                """));
    }

    [Fact]
    public void Unknown_key_in_batch()
    {
        Assert.Equal(
            "routes.toml:4:11: unknown key 'max_request' in the batch of route 'batch' (did you mean 'max_requests'?)",
            Error("""
                [[routes]]
                name = "batch"
                match = { path = "/batch" }
                batch = { max_request = 5 }
                """));
    }
}
