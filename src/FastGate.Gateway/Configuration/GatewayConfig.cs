namespace FastGate.Gateway.Configuration;

// The first tier (*Config -> *Model -> *State): what the route file says, typed, each value with its
// position. Durations and sizes are already read; names, addresses and references are checked when the
// model is compiled. A null member is a key the file leaves out.

internal sealed class GatewayConfig
{
    /// <summary>The name used in messages.</summary>
    public required string FileName { get; init; }

    /// <summary>Directory that relative paths in the file resolve against.</summary>
    public required string BaseDirectory { get; init; }

    public ServerConfig? Server { get; init; }

    public AdminConfig? Admin { get; init; }

    public LimitsConfig? Limits { get; init; }

    /// <summary>In file order.</summary>
    public required IReadOnlyList<UpstreamConfig> Upstreams { get; init; }

    /// <summary>In file order.</summary>
    public required IReadOnlyList<RouteConfig> Routes { get; init; }

    public IReadOnlyList<AuthConfig> Auth { get; init; } = [];

    public IReadOnlyList<RateLimitConfig> RateLimits { get; init; } = [];

    public IReadOnlyList<IpFilterConfig> IpFilters { get; init; } = [];

    public RedisConfig? Redis { get; init; }

    public CacheSettingsConfig? Cache { get; init; }
}

internal sealed class ServerConfig
{
    public required SourcePosition Position { get; init; }

    public ConfigValue<IReadOnlyList<ConfigValue<string>>>? Listen { get; init; }

    public ConfigValue<IReadOnlyList<ConfigValue<string>>>? TrustedProxies { get; init; }

    /// <summary>The <c>[[server.tls]]</c> listeners, in file order.</summary>
    public IReadOnlyList<TlsListenerConfig> Tls { get; init; } = [];
}

/// <summary>One <c>[[server.tls]]</c> table: a listener that terminates TLS and offers h2 and http/1.1 by ALPN.</summary>
internal sealed class TlsListenerConfig
{
    public required SourcePosition Position { get; init; }

    public ConfigValue<string>? Listen { get; init; }

    /// <summary>PEM file with the certificate, then any intermediates (the chain sent to clients).</summary>
    public ConfigValue<string>? Certificate { get; init; }

    /// <summary>PEM file with the certificate's private key (PKCS#8, PKCS#1 or SEC1, unencrypted).</summary>
    public ConfigValue<string>? Key { get; init; }
}

internal sealed class AdminConfig
{
    public required SourcePosition Position { get; init; }

    public ConfigValue<string>? Listen { get; init; }

    public ConfigValue<string>? TokenEnv { get; init; }
}

internal sealed class LimitsConfig
{
    public ConfigValue<long>? MaxRequestHead { get; init; }

    public ConfigValue<long>? MaxRequestBody { get; init; }

    public ConfigValue<long>? MaxRequestTarget { get; init; }

    public ConfigValue<TimeSpan>? RequestHeadTimeout { get; init; }

    public ConfigValue<TimeSpan>? IdleTimeout { get; init; }

    public ConfigValue<long>? H2MaxConcurrentStreams { get; init; }

    public ConfigValue<TimeSpan>? ShutdownTimeout { get; init; }
}

internal sealed class UpstreamConfig
{
    public required string Name { get; init; }

    /// <summary>Position of the name's key ("users" in <c>[upstreams.users]</c>).</summary>
    public required SourcePosition NamePosition { get; init; }

    /// <summary>The <c>[upstreams.NAME]</c> header (or the inline table).</summary>
    public required SourcePosition Position { get; init; }

    public ConfigValue<IReadOnlyList<EndpointConfig>>? Endpoints { get; init; }

    public ConfigValue<string>? Balance { get; init; }

    public ConfigValue<string>? HashKey { get; init; }

    public ConfigValue<string>? Protocol { get; init; }

    public ConfigValue<TimeSpan>? ConnectTimeout { get; init; }

    public ConfigValue<TimeSpan>? MarkDownFor { get; init; }

    public PoolConfig? Pool { get; init; }

    public HealthConfig? Health { get; init; }
}

/// <summary>One item of <c>endpoints</c>: <c>"host:port"</c> or <c>{ address = "host:port", weight = 3 }</c>.</summary>
internal sealed class EndpointConfig
{
    public required ConfigValue<string> Address { get; init; }

    public ConfigValue<long>? Weight { get; init; }
}

internal sealed class PoolConfig
{
    public ConfigValue<long>? MaxConnections { get; init; }

    public ConfigValue<TimeSpan>? IdleTimeout { get; init; }
}

internal sealed class HealthConfig
{
    public required SourcePosition Position { get; init; }

    public ConfigValue<string>? Path { get; init; }

    public ConfigValue<TimeSpan>? Interval { get; init; }

    public ConfigValue<TimeSpan>? Timeout { get; init; }

    public ConfigValue<long>? UnhealthyThreshold { get; init; }

    public ConfigValue<long>? HealthyThreshold { get; init; }
}

internal sealed class RouteConfig
{
    /// <summary>1-based place among the routes of the file.</summary>
    public required int Index { get; init; }

    /// <summary>The <c>[[routes]]</c> header (or the inline table).</summary>
    public required SourcePosition Position { get; init; }

    public ConfigValue<string>? Name { get; init; }

    public MatchConfig? Match { get; init; }

    public ConfigValue<string>? Upstream { get; init; }

    public ConfigValue<string>? Rewrite { get; init; }

    public ConfigValue<TimeSpan>? Timeout { get; init; }

    public ConfigValue<long>? Retries { get; init; }

    public ConfigValue<bool>? PreserveHost { get; init; }

    public ConfigValue<string>? Auth { get; init; }

    public RequireConfig? Require { get; init; }

    public ConfigValue<string>? RateLimit { get; init; }

    public ConfigValue<string>? IpFilter { get; init; }

    public RouteCacheConfig? Cache { get; init; }

    /// <summary>The parts of an aggregate route, in file order.</summary>
    public ConfigValue<IReadOnlyList<AggregatePartConfig>>? Aggregate { get; init; }

    public ConfigValue<TimeSpan>? AggregateTimeout { get; init; }

    public BatchConfig? Batch { get; init; }

    /// <summary>The route names an action of a later version (grpc, soap), already reported.</summary>
    public bool HasUnsupportedAction { get; init; }

    /// <summary>"route 'users'", or "route #3" while it has no usable name.</summary>
    public required string Display { get; init; }
}

internal sealed class MatchConfig
{
    /// <summary>Position of the <c>match</c> key; where "same requests" conflicts are reported.</summary>
    public required SourcePosition Position { get; init; }

    public ConfigValue<string>? Path { get; init; }

    public ConfigValue<IReadOnlyList<ConfigValue<string>>>? Methods { get; init; }

    public ConfigValue<string>? Host { get; init; }
}

/// <summary>One item of <c>aggregate = [{ key, upstream, path, method?, required? }]</c>.</summary>
internal sealed class AggregatePartConfig
{
    /// <summary>The item's table.</summary>
    public required SourcePosition Position { get; init; }

    public ConfigValue<string>? Key { get; init; }

    public ConfigValue<string>? Upstream { get; init; }

    public ConfigValue<string>? Path { get; init; }

    public ConfigValue<string>? Method { get; init; }

    public ConfigValue<bool>? Required { get; init; }
}

/// <summary><c>batch = { max_requests = N, max_concurrency = M }</c>.</summary>
internal sealed class BatchConfig
{
    /// <summary>Position of the <c>batch</c> key.</summary>
    public required SourcePosition Position { get; init; }

    public ConfigValue<long>? MaxRequests { get; init; }

    public ConfigValue<long>? MaxConcurrency { get; init; }
}
