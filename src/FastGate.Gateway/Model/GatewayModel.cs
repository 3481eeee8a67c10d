using System.Net;
using FastGate.Gateway.Routing;

namespace FastGate.Gateway.Model;

// The compiled, immutable configuration (YARP's second tier: *Config -> *Model -> *State).
// A reload builds a new GatewayModel and swaps one reference; requests in flight keep theirs.

internal sealed class GatewayModel
{
    public required ServerModel Server { get; init; }
    public AdminModel? Admin { get; init; }
    public required LimitsModel Limits { get; init; }
    public required IReadOnlyDictionary<string, UpstreamModel> Upstreams { get; init; }
    /// <summary>Routes in file order.</summary>
    public required IReadOnlyList<RouteModel> Routes { get; init; }
    /// <summary>The compiled trie over <see cref="Routes"/>.</summary>
    public required RouteTable Table { get; init; }
    /// <summary>Path of the route file this model came from (for messages and reload).</summary>
    public string? SourcePath { get; init; }
    public IReadOnlyDictionary<string, AuthModel> Auth { get; init; } = new Dictionary<string, AuthModel>();
    public IReadOnlyDictionary<string, RateLimitModel> RateLimits { get; init; } = new Dictionary<string, RateLimitModel>();
    public IReadOnlyDictionary<string, IpFilterModel> IpFilters { get; init; } = new Dictionary<string, IpFilterModel>();
    public RedisModel? Redis { get; init; }
    /// <summary>The <c>[cache]</c> section; the defaults when only routes ask for caching; null when nothing caches.</summary>
    public CacheSettingsModel? Cache { get; init; }
}

internal sealed class ServerModel
{
    public required IReadOnlyList<IPEndPoint> Listen { get; init; }
    /// <summary>Peers whose X-Forwarded-For is believed.</summary>
    public required IReadOnlyList<IPNetwork> TrustedProxies { get; init; }
    /// <summary>The <c>[[server.tls]]</c> listeners.</summary>
    public IReadOnlyList<TlsListenerModel> Tls { get; init; } = [];
}

internal sealed class AdminModel
{
    public required IPEndPoint Listen { get; init; }
    public string? TokenEnv { get; init; }
}

internal sealed class LimitsModel
{
    public int MaxRequestHead { get; init; } = 16 * 1024;
    public long MaxRequestBody { get; init; } = 10 * 1024 * 1024;
    /// <summary>Bound of the request-target alone (414 past it); never more than MaxRequestHead.</summary>
    public int MaxRequestTarget { get; init; } = 8 * 1024;
    public TimeSpan RequestHeadTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);
    public int H2MaxConcurrentStreams { get; init; } = 100;
    /// <summary>How long a graceful shutdown waits for requests in flight.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

internal enum BalanceMode : byte
{
    RoundRobin,
    LeastRequests,
    PowerOfTwoChoices,
    Weighted,
    Hash,
}

internal enum UpstreamProtocol : byte
{
    Http1,
    H2c,
}

/// <summary>What the <c>hash</c> balancer hashes.</summary>
internal enum HashKeyKind : byte
{
    ClientIp,
    Header,
}

internal sealed class UpstreamModel
{
    public required string Name { get; init; }
    public required IReadOnlyList<EndpointModel> Endpoints { get; init; }
    public BalanceMode Balance { get; init; } = BalanceMode.RoundRobin;
    public HashKeyKind HashKey { get; init; } = HashKeyKind.ClientIp;
    /// <summary>Header name (ASCII) when <see cref="HashKey"/> is Header.</summary>
    public string? HashHeader { get; init; }
    public UpstreamProtocol Protocol { get; init; } = UpstreamProtocol.Http1;
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(1);
    public required PoolModel Pool { get; init; }
    public HealthModel? Health { get; init; }
    /// <summary>How long an endpoint that refused a connection is skipped.</summary>
    public TimeSpan MarkDownFor { get; init; } = TimeSpan.FromSeconds(5);
}

internal sealed class EndpointModel
{
    public required IPEndPoint Address { get; init; }
    private readonly string _authority = "";

    /// <summary>"host:port" as written in the file; sent as Host when the route does not keep the client's.</summary>
    public required string Authority
    {
        get => _authority;
        init
        {
            _authority = value;
            AuthorityBytes = System.Text.Encoding.ASCII.GetBytes(value);
        }
    }

    /// <summary><see cref="Authority"/> pre-encoded for the request head.</summary>
    public byte[] AuthorityBytes { get; private init; } = [];
    public int Weight { get; init; } = 1;
}

internal sealed class PoolModel
{
    public int MaxConnections { get; init; } = 256;
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(90);
}

internal sealed class HealthModel
{
    public required string Path { get; init; }
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>Consecutive failures before an endpoint is taken out, successes before it is back.</summary>
    public int UnhealthyThreshold { get; init; } = 2;
    public int HealthyThreshold { get; init; } = 1;
}

internal sealed class RouteModel
{
    public required string Name { get; init; }
    /// <summary>Position in the file; breaks ties between equally specific routes.</summary>
    public required int Order { get; init; }
    /// <summary>Exact host ("api.example.com"), suffix wildcard ("*.example.com"), or null for any host.</summary>
    public string? Host { get; init; }
    /// <summary>Upper-case method tokens, or empty for any method.</summary>
    public required IReadOnlyList<string> Methods { get; init; }
    public required PathTemplate Path { get; init; }
    /// <summary>What the route does with a request that passed its phases.</summary>
    public RouteAction Action => Aggregate is not null ? RouteAction.Aggregate : Batch is not null ? RouteAction.Batch : RouteAction.Proxy;
    /// <summary>Where a proxy route sends its requests; null for aggregate and batch routes.</summary>
    public UpstreamModel? Upstream { get; init; }
    /// <summary>The parts of an aggregate route.</summary>
    public AggregateModel? Aggregate { get; init; }
    /// <summary>The limits of a batch route.</summary>
    public BatchModel? Batch { get; init; }
    public RewriteTemplate? Rewrite { get; init; }
    /// <summary>Bound of the whole upstream exchange until the response head (504 past it).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);
    public int Retries { get; init; }
    /// <summary>Send the client's Host upstream (true) or the endpoint's authority (false).</summary>
    public bool PreserveHost { get; init; } = true;
    /// <summary>The JWT policy every request must pass, or null for anonymous access.</summary>
    public AuthModel? Auth { get; init; }
    /// <summary>Only with <see cref="Auth"/>.</summary>
    public RequireModel? Require { get; init; }
    public RateLimitModel? RateLimit { get; init; }
    public IpFilterModel? IpFilter { get; init; }
    public RouteCacheModel? Cache { get; init; }
}
