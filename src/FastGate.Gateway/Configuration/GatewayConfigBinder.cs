namespace FastGate.Gateway.Configuration;

/// <summary>Reads the TOML tree into <see cref="GatewayConfig"/>: shapes, types, durations, sizes, unknown keys.</summary>
internal static partial class GatewayConfigBinder
{
    /// <summary>Route keys of later versions that choose what the route does instead of <c>upstream</c>.</summary>
    private static readonly string[] s_unsupportedActions = ["grpc", "soap"];

    public static GatewayConfig Bind(TomlTableNode root, string baseDirectory, ConfigErrorList errors)
    {
        var reader = new TableReader(root, "the route file", errors);
        var server = reader.SubTable("server", out _) is { } serverTable ? BindServer(serverTable, errors) : null;
        var admin = reader.SubTable("admin", out _) is { } adminTable ? BindAdmin(adminTable, errors) : null;
        var limits = reader.SubTable("limits", out _) is { } limitsTable ? BindLimits(limitsTable, errors) : null;
        var upstreams = reader.SubTable("upstreams", out _) is { } upstreamsTable ? BindUpstreams(upstreamsTable, errors) : [];
        var routes = reader.Entry("routes") is { } routesEntry ? BindRoutes(reader, routesEntry) : [];
        var auth = BindNamed(reader, "auth", "auth", BindAuth);
        var rateLimits = BindNamed(reader, "rate_limits", "rate limit", BindRateLimit);
        var ipFilters = BindNamed(reader, "ip_filters", "IP filter", BindIpFilter);
        var redis = reader.SubTable("redis", out _) is { } redisTable ? BindRedis(redisTable, errors) : null;
        var cache = reader.SubTable("cache", out _) is { } cacheTable ? BindCacheSettings(cacheTable, errors) : null;
        reader.ReportUnknownKeys();

        return new GatewayConfig
        {
            FileName = errors.File,
            BaseDirectory = baseDirectory,
            Server = server,
            Admin = admin,
            Limits = limits,
            Upstreams = upstreams,
            Routes = routes,
            Auth = auth,
            RateLimits = rateLimits,
            IpFilters = ipFilters,
            Redis = redis,
            Cache = cache,
        };
    }

    // Sections are pointed at by their header, keys of a route by the key.

    private static ServerConfig BindServer(TomlTableNode table, ConfigErrorList errors)
    {
        var reader = new TableReader(table, "[server]", errors);
        var config = new ServerConfig
        {
            Position = table.Position,
            Listen = reader.StringArray("listen", "'listen' needs at least one address"),
            TrustedProxies = reader.StringArray("trusted_proxies"),
            Tls = reader.Entry("tls") is { } tls ? BindTlsListeners(reader, tls) : [],
        };
        reader.ReportUnknownKeys();
        return config;
    }

    private static List<TlsListenerConfig> BindTlsListeners(TableReader server, TomlEntry entry)
    {
        if (entry.Value is not TomlArrayNode { IsTableArray: true } array)
        {
            server.WrongType(entry, "an array of tables ([[server.tls]] sections)");
            return [];
        }
        var listeners = new List<TlsListenerConfig>(array.Items.Count);
        foreach (var item in array.Items)
        {
            var table = (TomlTableNode)item;
            var reader = new TableReader(table, $"[[server.tls]] #{listeners.Count + 1}", server.Errors);
            listeners.Add(new TlsListenerConfig
            {
                Position = table.Position,
                Listen = reader.String("listen"),
                Certificate = reader.String("certificate"),
                Key = reader.String("key"),
            });
            reader.ReportUnknownKeys();
        }
        return listeners;
    }

    private static AdminConfig BindAdmin(TomlTableNode table, ConfigErrorList errors)
    {
        var reader = new TableReader(table, "[admin]", errors);
        var config = new AdminConfig
        {
            Position = table.Position,
            Listen = reader.String("listen"),
            TokenEnv = reader.String("token_env"),
        };
        reader.ReportUnknownKeys();
        return config;
    }

    private static LimitsConfig BindLimits(TomlTableNode table, ConfigErrorList errors)
    {
        var reader = new TableReader(table, "[limits]", errors);
        var config = new LimitsConfig
        {
            MaxRequestHead = reader.Size("max_request_head"),
            MaxRequestBody = reader.Size("max_request_body"),
            MaxRequestTarget = reader.Size("max_request_target"),
            RequestHeadTimeout = reader.Duration("request_head_timeout"),
            IdleTimeout = reader.Duration("idle_timeout"),
            H2MaxConcurrentStreams = reader.Integer("h2_max_concurrent_streams"),
            ShutdownTimeout = reader.Duration("shutdown_timeout"),
        };
        reader.ReportUnknownKeys();
        return config;
    }

    private static List<UpstreamConfig> BindUpstreams(TomlTableNode table, ConfigErrorList errors)
    {
        var upstreams = new List<UpstreamConfig>(table.Entries.Count);
        foreach (var entry in table.Entries)
        {
            if (entry.Value is TomlTableNode upstream)
            {
                upstreams.Add(BindUpstream(entry, upstream, errors));
            }
            else
            {
                errors.Add(entry.Value.Position, $"upstream '{entry.Key}' must be a table, not {entry.Value.TypeName}");
            }
        }
        return upstreams;
    }

    private static UpstreamConfig BindUpstream(TomlEntry entry, TomlTableNode table, ConfigErrorList errors)
    {
        var context = $"[upstreams.{entry.Key}]";
        var reader = new TableReader(table, context, errors);
        var pool = reader.SubTable("pool", out _) is { } poolTable ? BindPool(poolTable, context, errors) : null;
        var health = reader.SubTable("health", out _) is { } healthTable ? BindHealth(healthTable, context, errors) : null;
        var config = new UpstreamConfig
        {
            Name = entry.Key,
            NamePosition = entry.KeyPosition,
            Position = table.Position,
            Endpoints = reader.Entry("endpoints") is { } endpoints ? BindEndpoints(reader, endpoints) : null,
            Balance = reader.String("balance"),
            HashKey = reader.String("hash_key"),
            Protocol = reader.String("protocol"),
            ConnectTimeout = reader.Duration("connect_timeout"),
            MarkDownFor = reader.Duration("mark_down_for"),
            Pool = pool,
            Health = health,
        };
        reader.ReportUnknownKeys();
        return config;
    }

    private static ConfigValue<IReadOnlyList<EndpointConfig>>? BindEndpoints(TableReader upstream, TomlEntry entry)
    {
        if (entry.Value is not TomlArrayNode { IsTableArray: false } array)
        {
            upstream.WrongType(entry, "an array of \"host:port\" strings or { address = \"host:port\", weight = N } tables");
            return null;
        }
        if (array.Items.Count == 0)
        {
            upstream.Errors.Add(array.Position, $"'endpoints' of {upstream.Context} needs at least one address");
        }
        var endpoints = new List<EndpointConfig>(array.Items.Count);
        foreach (var item in array.Items)
        {
            switch (item)
            {
                case TomlStringNode text:
                    endpoints.Add(new EndpointConfig { Address = new ConfigValue<string>(text.Value, entry.KeyPosition, text.Position) });
                    break;
                case TomlTableNode table:
                    var reader = new TableReader(table, $"an endpoint of {upstream.Context}", upstream.Errors);
                    var address = reader.String("address");
                    var weight = reader.Integer("weight");
                    reader.ReportUnknownKeys();
                    if (address is null)
                    {
                        if (reader.Table.Find("address") is null)
                        {
                            upstream.Errors.Add(table.Position, $"missing 'address' in an endpoint of {upstream.Context}");
                        }
                        break;
                    }
                    endpoints.Add(new EndpointConfig { Address = address, Weight = weight });
                    break;
                default:
                    upstream.Errors.Add(item.Position, $"each item of 'endpoints' must be a \"host:port\" string or an inline table, not {item.TypeName}");
                    break;
            }
        }
        return new ConfigValue<IReadOnlyList<EndpointConfig>>(endpoints, entry.KeyPosition, array.Position);
    }

    private static PoolConfig BindPool(TomlTableNode table, string upstream, ConfigErrorList errors)
    {
        var reader = new TableReader(table, $"{upstream[..^1]}.pool]", errors);
        var config = new PoolConfig
        {
            MaxConnections = reader.Integer("max_connections"),
            IdleTimeout = reader.Duration("idle_timeout"),
        };
        reader.ReportUnknownKeys();
        return config;
    }

    private static HealthConfig BindHealth(TomlTableNode table, string upstream, ConfigErrorList errors)
    {
        var reader = new TableReader(table, $"{upstream[..^1]}.health]", errors);
        var config = new HealthConfig
        {
            Position = table.Position,
            Path = reader.String("path"),
            Interval = reader.Duration("interval"),
            Timeout = reader.Duration("timeout"),
            UnhealthyThreshold = reader.Integer("unhealthy_threshold"),
            HealthyThreshold = reader.Integer("healthy_threshold"),
        };
        reader.ReportUnknownKeys();
        return config;
    }

    private static List<RouteConfig> BindRoutes(TableReader root, TomlEntry entry)
    {
        if (entry.Value is not TomlArrayNode array)
        {
            root.WrongType(entry, "an array of tables ([[routes]] sections)");
            return [];
        }
        var routes = new List<RouteConfig>(array.Items.Count);
        foreach (var item in array.Items)
        {
            if (item is TomlTableNode table)
            {
                routes.Add(BindRoute(table, routes.Count + 1, root.Errors));
            }
            else
            {
                root.Errors.Add(item.Position, $"each item of 'routes' must be a table, not {item.TypeName}");
            }
        }
        return routes;
    }

    private static RouteConfig BindRoute(TomlTableNode table, int index, ConfigErrorList errors)
    {
        // The name comes first: every other message about this route names it.
        var nameEntry = table.Find("name");
        var display = nameEntry?.Value is TomlStringNode { Value: var written } && RouteNames.IsValid(written)
            ? $"route '{written}'"
            : $"route #{index}";
        var reader = new TableReader(table, display, errors);
        var name = reader.String("name");
        var match = reader.SubTable("match", out var matchEntry) is { } matchTable ? BindMatch(matchTable, matchEntry, display, errors) : null;

        var hasUnsupportedAction = false;
        foreach (var key in s_unsupportedActions)
        {
            hasUnsupportedAction |= table.Find(key) is not null;
            reader.Reject(key, $"'{key}' is not supported yet ({display})");
        }

        var config = new RouteConfig
        {
            Index = index,
            Position = table.Position,
            Display = display,
            Name = name,
            Match = match,
            Upstream = reader.String("upstream"),
            Rewrite = reader.String("rewrite"),
            Timeout = reader.Duration("timeout"),
            Retries = reader.Integer("retries"),
            PreserveHost = reader.Boolean("preserve_host"),
            Auth = reader.String("auth"),
            Require = reader.SubTable("require", out var requireEntry) is { } requireTable ? BindRequire(requireTable, requireEntry, display, errors) : null,
            RateLimit = reader.String("rate_limit"),
            IpFilter = reader.String("ip_filter"),
            Cache = reader.SubTable("cache", out var cacheEntry) is { } cacheTable ? BindRouteCache(cacheTable, cacheEntry, display, errors) : null,
            Aggregate = reader.Entry("aggregate") is { } aggregateEntry ? BindAggregate(reader, aggregateEntry) : null,
            AggregateTimeout = reader.Duration("aggregate_timeout"),
            Batch = reader.SubTable("batch", out var batchEntry) is { } batchTable ? BindBatch(batchTable, batchEntry, display, errors) : null,
            HasUnsupportedAction = hasUnsupportedAction,
        };
        reader.ReportUnknownKeys();
        return config;
    }

    private static MatchConfig BindMatch(TomlTableNode table, TomlEntry entry, string route, ConfigErrorList errors)
    {
        var reader = new TableReader(table, $"the match of {route}", errors);
        var config = new MatchConfig
        {
            Position = entry.KeyPosition,
            Path = reader.String("path"),
            Methods = reader.StringArray("methods", $"'methods' of {route} is empty; leave it out to match every method"),
            Host = reader.String("host"),
        };
        reader.ReportUnknownKeys();
        return config;
    }
}
