using System.Net;
using FastGate.Gateway.Configuration;
using FastGate.Gateway.Model;

namespace FastGate.Gateway.Tests.Configuration;

public class GatewayConfigLoaderTests
{
    // DESIGN.md's example route file without the parts of later versions (TLS, auth, rate limits, IP
    // filters, cache, composition, translation), plus the optional keys of the proxy subset.
    private const string DesignExample = """
        [server]
        listen = ["127.0.0.1:8080", "[::1]:8080"]
        trusted_proxies = ["127.0.0.1/32", "10.0.0.0/8", "::1", "192.168.1.7"]

        [admin]
        listen = "127.0.0.1:9901"
        token_env = "FASTGATE_ADMIN_TOKEN"

        [limits]
        max_request_head = "16KiB"
        max_request_body = "10MiB"
        max_request_target = 4096
        request_head_timeout = "10s"
        idle_timeout = "60s"
        h2_max_concurrent_streams = 100
        shutdown_timeout = "1m30s"

        [upstreams.users]
        endpoints = ["127.0.0.1:9001", "127.0.0.1:9002"]
        balance = "round_robin"
        protocol = "http1"
        connect_timeout = "1s"
        [upstreams.users.pool]
        max_connections = 256
        idle_timeout = "90s"
        [upstreams.users.health]
        path = "/healthz"
        interval = "5s"

        [upstreams.orders]
        endpoints = [
          { address = "[::1]:9003", weight = 3 },
          { address = "localhost:9004" },
        ]
        balance = "weighted"
        connect_timeout = "250ms"
        mark_down_for = "30s"
        [upstreams.orders.pool]
        max_connections = 16
        [upstreams.orders.health]
        path = "/ready"
        interval = "10s"
        timeout = "1s"
        unhealthy_threshold = 3
        healthy_threshold = 2

        [upstreams.sessions]
        endpoints = ["127.0.0.1:9005"]
        balance = "hash"
        hash_key = "header:X-Session"

        [[routes]]
        name = "users"
        match = { path = "/api/users/{id}", methods = ["GET", "put"], host = "API.example.com" }
        upstream = "users"
        rewrite = "/users/{id}"
        timeout = "5s"
        retries = 2

        [[routes]]
        name = "orders"
        match = { path = "/api/orders/{*rest}", host = "*.example.com" }
        upstream = "orders"
        preserve_host = false

        [[routes]]
        name = "sessions"
        upstream = "sessions"
        [routes.match]
        path = "/sessions"
        """;

    private static GatewayModel Load()
    {
        var result = GatewayConfigLoader.LoadText(DesignExample, "design.toml");
        Assert.Equal([], result.Errors.Select(error => error.ToString()));
        Assert.NotNull(result.Model);
        return result.Model;
    }

    [Fact]
    public void Server_and_admin()
    {
        var model = Load();
        Assert.Equal([new IPEndPoint(IPAddress.Loopback, 8080), new IPEndPoint(IPAddress.IPv6Loopback, 8080)], model.Server.Listen);
        Assert.Equal(
            [IPNetwork.Parse("127.0.0.1/32"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("192.168.1.7/32")],
            model.Server.TrustedProxies);
        Assert.NotNull(model.Admin);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 9901), model.Admin.Listen);
        Assert.Equal("FASTGATE_ADMIN_TOKEN", model.Admin.TokenEnv);
        Assert.Equal("design.toml", model.SourcePath);
    }

    [Fact]
    public void Limits()
    {
        var limits = Load().Limits;
        Assert.Equal(16 * 1024, limits.MaxRequestHead);
        Assert.Equal(10L * 1024 * 1024, limits.MaxRequestBody);
        Assert.Equal(4096, limits.MaxRequestTarget);
        Assert.Equal(TimeSpan.FromSeconds(10), limits.RequestHeadTimeout);
        Assert.Equal(TimeSpan.FromSeconds(60), limits.IdleTimeout);
        Assert.Equal(100, limits.H2MaxConcurrentStreams);
        Assert.Equal(TimeSpan.FromSeconds(90), limits.ShutdownTimeout);
    }

    [Fact]
    public void Upstream_with_defaults_filled_in()
    {
        var users = Load().Upstreams["users"];
        Assert.Equal("users", users.Name);
        Assert.Equal([new IPEndPoint(IPAddress.Loopback, 9001), new IPEndPoint(IPAddress.Loopback, 9002)], users.Endpoints.Select(e => e.Address));
        Assert.Equal(["127.0.0.1:9001", "127.0.0.1:9002"], users.Endpoints.Select(e => e.Authority));
        Assert.Equal([1, 1], users.Endpoints.Select(e => e.Weight));
        Assert.Equal(BalanceMode.RoundRobin, users.Balance);
        Assert.Equal(UpstreamProtocol.Http1, users.Protocol);
        Assert.Equal(TimeSpan.FromSeconds(1), users.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), users.MarkDownFor);
        Assert.Equal(256, users.Pool.MaxConnections);
        Assert.Equal(TimeSpan.FromSeconds(90), users.Pool.IdleTimeout);
        Assert.NotNull(users.Health);
        Assert.Equal("/healthz", users.Health.Path);
        Assert.Equal(TimeSpan.FromSeconds(5), users.Health.Interval);
        Assert.Equal(TimeSpan.FromSeconds(2), users.Health.Timeout);
        Assert.Equal(2, users.Health.UnhealthyThreshold);
        Assert.Equal(1, users.Health.HealthyThreshold);
    }

    [Fact]
    public void Weighted_upstream_with_inline_endpoints_and_a_resolved_name()
    {
        var orders = Load().Upstreams["orders"];
        Assert.Equal(BalanceMode.Weighted, orders.Balance);
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 9003), orders.Endpoints[0].Address);
        Assert.Equal("[::1]:9003", orders.Endpoints[0].Authority);
        Assert.Equal(3, orders.Endpoints[0].Weight);
        // localhost resolves, IPv4 preferred.
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 9004), orders.Endpoints[1].Address);
        Assert.Equal("localhost:9004", orders.Endpoints[1].Authority);
        Assert.Equal(1, orders.Endpoints[1].Weight);
        Assert.Equal(TimeSpan.FromMilliseconds(250), orders.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), orders.MarkDownFor);
        Assert.Equal(16, orders.Pool.MaxConnections);
        Assert.Equal(TimeSpan.FromSeconds(90), orders.Pool.IdleTimeout);
        Assert.NotNull(orders.Health);
        Assert.Equal("/ready", orders.Health.Path);
        Assert.Equal(TimeSpan.FromSeconds(10), orders.Health.Interval);
        Assert.Equal(TimeSpan.FromSeconds(1), orders.Health.Timeout);
        Assert.Equal(3, orders.Health.UnhealthyThreshold);
        Assert.Equal(2, orders.Health.HealthyThreshold);
    }

    [Fact]
    public void Hash_upstream_keeps_the_header_name_in_lower_case()
    {
        var sessions = Load().Upstreams["sessions"];
        Assert.Equal(BalanceMode.Hash, sessions.Balance);
        Assert.Equal(HashKeyKind.Header, sessions.HashKey);
        Assert.Equal("x-session", sessions.HashHeader);
        Assert.Null(sessions.Health);
    }

    [Fact]
    public void Routes_in_file_order_with_their_upstreams()
    {
        var model = Load();
        Assert.Equal(["users", "orders", "sessions"], model.Routes.Select(r => r.Name));
        Assert.Equal([0, 1, 2], model.Routes.Select(r => r.Order));

        var users = model.Routes[0];
        Assert.Equal("api.example.com", users.Host);
        Assert.Equal(["GET", "PUT"], users.Methods);
        Assert.Equal("/api/users/{id}", users.Path.Text);
        Assert.Same(model.Upstreams["users"], users.Upstream);
        Assert.NotNull(users.Rewrite);
        Assert.Equal(TimeSpan.FromSeconds(5), users.Timeout);
        Assert.Equal(2, users.Retries);
        Assert.True(users.PreserveHost);

        var orders = model.Routes[1];
        Assert.Equal("*.example.com", orders.Host);
        Assert.Empty(orders.Methods);
        Assert.Same(model.Upstreams["orders"], orders.Upstream);
        Assert.Null(orders.Rewrite);
        Assert.Equal(TimeSpan.FromSeconds(30), orders.Timeout);
        Assert.Equal(0, orders.Retries);
        Assert.False(orders.PreserveHost);

        var sessions = model.Routes[2];
        Assert.Null(sessions.Host);
        Assert.Equal("/sessions", sessions.Path.Text);
        Assert.NotNull(model.Table);
    }

    [Fact]
    public void Empty_file_is_the_defaults()
    {
        var result = GatewayConfigLoader.LoadText("", "empty.toml");
        Assert.Empty(result.Errors);
        var model = result.Model!;
        Assert.Equal([new IPEndPoint(IPAddress.Loopback, 8080)], model.Server.Listen);
        Assert.Empty(model.Server.TrustedProxies);
        Assert.Null(model.Admin);
        Assert.Equal(16 * 1024, model.Limits.MaxRequestHead);
        Assert.Equal(8 * 1024, model.Limits.MaxRequestTarget);
        Assert.Empty(model.Upstreams);
        Assert.Empty(model.Routes);
    }

    [Fact]
    public void Request_target_limit_defaults_to_at_most_the_head_limit()
    {
        var result = GatewayConfigLoader.LoadText("[limits]\nmax_request_head = \"4KiB\"", "routes.toml");
        Assert.Empty(result.Errors);
        Assert.Equal(4096, result.Model!.Limits.MaxRequestHead);
        Assert.Equal(4096, result.Model.Limits.MaxRequestTarget);
    }

    [Fact]
    public void Load_file_reports_a_missing_file_as_an_error()
    {
        var path = Path.Combine(Path.GetTempPath(), $"fastgate-missing-{Guid.NewGuid():N}.toml");
        var error = Assert.Single(GatewayConfigLoader.LoadFile(path).Errors);
        Assert.Equal((path, 1, 1), (error.File, error.Line, error.Column));
        Assert.StartsWith("cannot read the route file: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_file_names_the_file_in_errors()
    {
        var path = Path.Combine(Path.GetTempPath(), $"fastgate-{Guid.NewGuid():N}.toml");
        File.WriteAllText(path, "[server]\nlisten = [\"127.0.0.1\"]\n");
        try
        {
            var error = Assert.Single(GatewayConfigLoader.LoadFile(path).Errors);
            Assert.Equal($"{path}:2:11: invalid address '127.0.0.1' for 'listen': the port is missing; expected \"ip:port\" like \"127.0.0.1:8080\" or \"[::1]:8080\"", error.ToString());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
