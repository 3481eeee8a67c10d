using System.Net;
using FastGate.Gateway.Configuration;
using FastGate.Gateway.Model;

namespace FastGate.Gateway.Tests.Configuration;

// Every key of [auth.*], [rate_limits.*], [redis], [ip_filters.*], [cache] and of the route keys that
// use them, compiled into the model; defaults where the file leaves a key out.
public sealed class SecurityConfigLoaderTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("fastgate-config-").FullName;
    private readonly string _secretEnv = $"FASTGATE_TEST_SECRET_{Guid.NewGuid():N}";

    public SecurityConfigLoaderTests()
    {
        Directory.CreateDirectory(Path.Combine(_directory, "keys"));
        File.WriteAllText(Path.Combine(_directory, "keys", "jwks.json"), "{\"keys\":[]}");
        File.WriteAllText(Path.Combine(_directory, "keys", "hmac.key"), "0123456789abcdef0123456789abcdef");
        Environment.SetEnvironmentVariable(_secretEnv, "0123456789abcdef0123456789abcdef");
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(_secretEnv, null);
        Directory.Delete(_directory, recursive: true);
    }

    private string RouteFile() => $$"""
        [upstreams.users]
        endpoints = ["127.0.0.1:9001"]

        [auth.default]
        type = "jwt"
        issuer = "https://issuer.example"
        audiences = ["fastgate", "fastgate-admin"]
        algorithms = ["RS256", "es256", "PS512"]
        jwks_file = "keys/jwks.json"
        clock_skew = "1m"
        forward_claims = { sub = "X-User-Id", "https://example.com/tenant" = "X-Tenant" }

        [auth.remote]
        type = "jwt"
        issuer = "https://login.example"
        audiences = ["api"]
        algorithms = ["ES384"]
        jwks_url = "http://127.0.0.1:9999/jwks.json"
        jwks_refresh = "10m"

        [auth.hmac_env]
        type = "jwt"
        issuer = "internal"
        audiences = ["gw"]
        algorithms = ["HS256", "HS512"]
        secret_env = "{{_secretEnv}}"

        [auth.hmac_file]
        type = "jwt"
        issuer = "internal"
        audiences = ["gw"]
        algorithms = ["HS384"]
        secret_file = "keys/hmac.key"

        [rate_limits.per_client]
        rate = 100
        per = "1s"
        burst = 200
        key = "client_ip"
        store = "local"

        [rate_limits.per_user]
        rate = 10
        per = "1m"
        key = "claim:sub"
        store = "redis"
        on_store_failure = "closed"

        [rate_limits.per_key]
        rate = 5
        per = "1s"
        key = "header:X-Api-Key"
        store = "redis"

        [rate_limits.whole]
        rate = 1000
        per = "1s"
        key = "route"

        [redis]
        address = "localhost:6379"
        connect_timeout = "100ms"
        key_prefix = "gw1:"

        [ip_filters.internal]
        allow = ["127.0.0.0/8", "10.0.0.0/8", "::1/128", "192.168.1.7"]
        deny = ["10.0.66.0/24", "fd00::1"]

        [ip_filters.blocklist]
        deny = ["203.0.113.0/24"]

        [cache]
        max_bytes = "1MiB"

        [[routes]]
        name = "users"
        match = { path = "/api/users/{id}", methods = ["GET", "PUT"] }
        upstream = "users"
        auth = "default"
        require = { scopes = ["users:read", "users:write"], roles = ["admin", "support"], claims = { tenant = "acme", level = ["gold", "silver"] } }
        rate_limit = "per_user"
        ip_filter = "internal"
        cache = { ttl = "30s", vary = ["Accept", "Accept-Language"], allow_authorization = true }

        [[routes]]
        name = "orders"
        match = { path = "/api/orders", methods = ["HEAD", "POST"] }
        upstream = "users"
        auth = "remote"
        rate_limit = "per_key"
        cache = { ttl = "1m" }

        [[routes]]
        name = "open"
        match = { path = "/open" }
        upstream = "users"
        """;

    private GatewayModel Load(string toml)
    {
        var result = GatewayConfigLoader.Load(toml, "security.toml", _directory);
        Assert.Equal([], result.Errors.Select(error => error.ToString()));
        Assert.NotNull(result.Model);
        return result.Model;
    }

    [Fact]
    public void Auth_with_a_key_file()
    {
        var auth = Load(RouteFile()).Auth["default"];
        Assert.Equal("default", auth.Name);
        Assert.Equal("https://issuer.example", auth.Issuer);
        Assert.Equal(["fastgate", "fastgate-admin"], auth.Audiences);
        Assert.Equal(["RS256", "ES256", "PS512"], auth.Algorithms);
        Assert.Equal(Path.Combine(_directory, "keys", "jwks.json"), auth.JwksFile);
        Assert.Null(auth.JwksUrl);
        Assert.Null(auth.SecretEnv);
        Assert.Null(auth.SecretFile);
        Assert.Equal(TimeSpan.FromMinutes(1), auth.ClockSkew);
        Assert.Equal(TimeSpan.FromMinutes(5), auth.JwksRefresh);
        Assert.Equal([("sub", "X-User-Id"), ("https://example.com/tenant", "X-Tenant")], auth.ForwardClaims);
    }

    [Fact]
    public void Auth_with_a_key_url_and_the_default_skew()
    {
        var auth = Load(RouteFile()).Auth["remote"];
        Assert.Equal(["ES384"], auth.Algorithms);
        Assert.Equal(new Uri("http://127.0.0.1:9999/jwks.json"), auth.JwksUrl);
        Assert.Null(auth.JwksFile);
        Assert.Equal(TimeSpan.FromMinutes(10), auth.JwksRefresh);
        Assert.Equal(TimeSpan.FromSeconds(30), auth.ClockSkew);
        Assert.Empty(auth.ForwardClaims);
    }

    [Fact]
    public void Auth_with_hmac_secrets_from_the_environment_or_a_file()
    {
        var model = Load(RouteFile());
        var fromEnv = model.Auth["hmac_env"];
        Assert.Equal(["HS256", "HS512"], fromEnv.Algorithms);
        Assert.Equal(_secretEnv, fromEnv.SecretEnv);
        Assert.Null(fromEnv.SecretFile);
        Assert.Null(fromEnv.JwksFile);
        Assert.Null(fromEnv.JwksUrl);
        var fromFile = model.Auth["hmac_file"];
        Assert.Equal(["HS384"], fromFile.Algorithms);
        Assert.Equal(Path.Combine(_directory, "keys", "hmac.key"), fromFile.SecretFile);
        Assert.Null(fromFile.SecretEnv);
        Assert.Equal(["default", "hmac_env", "hmac_file", "remote"], model.Auth.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Rate_limits_with_every_key_kind_and_store()
    {
        var limits = Load(RouteFile()).RateLimits;
        var perClient = limits["per_client"];
        Assert.Equal(("per_client", 100, TimeSpan.FromSeconds(1), 200), (perClient.Name, perClient.Rate, perClient.Per, perClient.Burst));
        Assert.Equal((RateLimitKeyKind.ClientIp, null, RateLimitStore.Local, true), (perClient.KeyKind, perClient.KeyName, perClient.Store, perClient.FailOpen));

        var perUser = limits["per_user"];
        Assert.Equal((10, TimeSpan.FromMinutes(1), 10), (perUser.Rate, perUser.Per, perUser.Burst));
        Assert.Equal((RateLimitKeyKind.Claim, "sub", RateLimitStore.Redis, false), (perUser.KeyKind, perUser.KeyName, perUser.Store, perUser.FailOpen));

        var perKey = limits["per_key"];
        Assert.Equal((RateLimitKeyKind.Header, "x-api-key", RateLimitStore.Redis, true), (perKey.KeyKind, perKey.KeyName, perKey.Store, perKey.FailOpen));

        var whole = limits["whole"];
        Assert.Equal((RateLimitKeyKind.Route, null, RateLimitStore.Local), (whole.KeyKind, whole.KeyName, whole.Store));
    }

    [Fact]
    public void Redis_address_is_resolved()
    {
        var redis = Load(RouteFile()).Redis;
        Assert.NotNull(redis);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 6379), redis.Address);
        Assert.Equal("localhost:6379", redis.Authority);
        Assert.Equal(TimeSpan.FromMilliseconds(100), redis.ConnectTimeout);
        Assert.Equal("gw1:", redis.KeyPrefix);
    }

    [Fact]
    public void Redis_defaults()
    {
        var redis = Load("[redis]\naddress = \"127.0.0.1:6379\"").Redis;
        Assert.NotNull(redis);
        Assert.Equal(TimeSpan.FromMilliseconds(250), redis.ConnectTimeout);
        Assert.Equal("fastgate:", redis.KeyPrefix);
    }

    [Fact]
    public void Ip_filters()
    {
        var filters = Load(RouteFile()).IpFilters;
        var internalFilter = filters["internal"];
        Assert.Equal("internal", internalFilter.Name);
        Assert.Equal(
            [IPNetwork.Parse("127.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("192.168.1.7/32")],
            internalFilter.Allow);
        Assert.Equal([IPNetwork.Parse("10.0.66.0/24"), IPNetwork.Parse("fd00::1/128")], internalFilter.Deny);
        Assert.Empty(filters["blocklist"].Allow);
        Assert.Equal([IPNetwork.Parse("203.0.113.0/24")], filters["blocklist"].Deny);
    }

    [Fact]
    public void Route_with_every_phase()
    {
        var model = Load(RouteFile());
        var users = model.Routes[0];
        Assert.Same(model.Auth["default"], users.Auth);
        Assert.NotNull(users.Require);
        Assert.Equal(["users:read", "users:write"], users.Require.Scopes);
        Assert.Equal(["admin", "support"], users.Require.Roles);
        Assert.Equal(["tenant", "level"], users.Require.Claims.Select(claim => claim.Name));
        Assert.Equal(["acme"], users.Require.Claims[0].Values);
        Assert.Equal(["gold", "silver"], users.Require.Claims[1].Values);
        Assert.Same(model.RateLimits["per_user"], users.RateLimit);
        Assert.Same(model.IpFilters["internal"], users.IpFilter);
        Assert.NotNull(users.Cache);
        Assert.Equal(TimeSpan.FromSeconds(30), users.Cache.Ttl);
        Assert.Equal(["accept", "accept-language"], users.Cache.Vary);
        Assert.True(users.Cache.AllowAuthorization);
    }

    [Fact]
    public void Route_cache_defaults_and_routes_without_phases()
    {
        var model = Load(RouteFile());
        var orders = model.Routes[1];
        Assert.Same(model.Auth["remote"], orders.Auth);
        Assert.Null(orders.Require);
        Assert.Same(model.RateLimits["per_key"], orders.RateLimit);
        Assert.Null(orders.IpFilter);
        Assert.NotNull(orders.Cache);
        Assert.Equal(TimeSpan.FromMinutes(1), orders.Cache.Ttl);
        Assert.Empty(orders.Cache.Vary);
        Assert.False(orders.Cache.AllowAuthorization);

        var open = model.Routes[2];
        Assert.Equal((null, null, null, null, null), (open.Auth, open.Require, open.RateLimit, open.IpFilter, open.Cache));
    }

    [Fact]
    public void Cache_section()
    {
        var cache = Load(RouteFile()).Cache;
        Assert.NotNull(cache);
        Assert.Equal(1024 * 1024, cache.MaxBytes);
    }

    [Fact]
    public void Cache_settings_default_when_only_a_route_caches()
    {
        var cache = Load(ConfigTestFiles.ValidUpstreamAndRoute + "\ncache = { ttl = \"5s\" }").Cache;
        Assert.NotNull(cache);
        Assert.Equal(64L * 1024 * 1024, cache.MaxBytes);
    }

    [Fact]
    public void Nothing_secured_or_cached_by_default()
    {
        var model = Load(ConfigTestFiles.ValidUpstreamAndRoute);
        Assert.Empty(model.Auth);
        Assert.Empty(model.RateLimits);
        Assert.Empty(model.IpFilters);
        Assert.Null(model.Redis);
        Assert.Null(model.Cache);
    }

    [Fact]
    public void Design_example_security_parts_load()
    {
        // DESIGN.md's route file, its users route and the sections it names, as written there.
        var model = Load("""
            [upstreams.users]
            endpoints = ["127.0.0.1:9001", "127.0.0.1:9002"]

            [[routes]]
            name = "users"
            match = { path = "/api/users/{id}", methods = ["GET", "PUT"], host = "api.example.com" }
            upstream = "users"
            rewrite = "/users/{id}"
            auth = "default"
            require = { scopes = ["users:read"], roles = [], claims = {} }
            rate_limit = "per_client"
            ip_filter = "internal"
            cache = { ttl = "30s", vary = ["Accept"] }
            timeout = "5s"
            retries = 2

            [auth.default]
            type = "jwt"
            issuer = "https://issuer.example"
            audiences = ["fastgate"]
            algorithms = ["RS256", "ES256"]
            jwks_file = "keys/jwks.json"
            clock_skew = "30s"
            forward_claims = { sub = "X-User-Id" }

            [rate_limits.per_client]
            rate = 100
            per = "1s"
            burst = 200
            key = "client_ip"
            store = "local"

            [redis]
            address = "127.0.0.1:6379"

            [ip_filters.internal]
            allow = ["127.0.0.0/8", "10.0.0.0/8", "::1/128"]
            deny = []
            """);
        var users = model.Routes[0];
        Assert.NotNull(users.Require);
        Assert.Equal((1, 0, 0), (users.Require.Scopes.Count, users.Require.Roles.Count, users.Require.Claims.Count));
        Assert.Equal(["RS256", "ES256"], users.Auth!.Algorithms);
        Assert.Equal(200, users.RateLimit!.Burst);
        Assert.Empty(users.IpFilter!.Deny);
        Assert.Equal(["accept"], users.Cache!.Vary);
        Assert.Equal(64L * 1024 * 1024, model.Cache!.MaxBytes);
        Assert.NotNull(model.Redis);
    }
}
