using System.Text;
using FastGate.Gateway.Model;
using FastGate.Gateway.Security;
using FastGate.Gateway.Traffic;
using Microsoft.Extensions.Logging;

namespace FastGate.Gateway.Pipeline;

/// <summary>A claim to send upstream as a header, pre-encoded.</summary>
internal readonly record struct ForwardedClaim(byte[] Claim, byte[] Header);

/// <summary>
/// The runtime objects one route's request phases use, built once per configuration: the IP filter,
/// the JWT validator of its [auth] section, the authorization requirement and the rate limiter.
/// </summary>
internal sealed class RoutePolicy
{
    public IpFilter? IpFilter { get; init; }
    public JwtValidator? Validator { get; init; }
    public AuthorizationRequirement? Requirement { get; init; }
    public RateLimiter? RateLimiter { get; init; }
    public Model.RateLimitKeyKind RateLimitKey { get; init; }
    /// <summary>The claim or header name of a claim: or header: rate-limit key, as bytes.</summary>
    public byte[] RateLimitKeyName { get; init; } = [];
    public ForwardedClaim[] ForwardClaims { get; init; } = [];
    /// <summary>The route's response-cache rules, with the gateway's cache they store into.</summary>
    public CacheRoutePolicy? Cache { get; init; }
    public ResponseCache? CacheStore { get; init; }
    /// <summary>The route name as bytes (the key of a route-wide rate limit).</summary>
    public required byte[] RouteName { get; init; }

    /// <summary>Claim-keyed limits need the token first; the others run before authentication.</summary>
    public bool LimitAfterAuthentication => RateLimitKey == Model.RateLimitKeyKind.Claim;
}

/// <summary>
/// Policies for every route of one model, indexed by route order. Shared parts (a validator per
/// [auth] section with its key source, a limiter per [rate_limits] section, one Redis connection) are
/// built once. Disposed when the model is replaced.
/// </summary>
internal sealed class PolicySet : IAsyncDisposable
{
    private readonly RoutePolicy?[] _byOrder;
    private readonly List<IAsyncDisposable> _owned;

    private PolicySet(RoutePolicy?[] byOrder, List<IAsyncDisposable> owned)
    {
        _byOrder = byOrder;
        _owned = owned;
    }

    public static PolicySet Empty { get; } = new([], []);

    /// <summary>The policy of a route, or null when the route has no request phase to run.</summary>
    public RoutePolicy? For(RouteModel route) => (uint)route.Order < (uint)_byOrder.Length ? _byOrder[route.Order] : null;

    public static async Task<PolicySet> BuildAsync(GatewayModel model, ILogger logger, CancellationToken cancellationToken = default)
    {
        var owned = new List<IAsyncDisposable>();
        var validators = new Dictionary<AuthModel, JwtValidator>();
        var limiters = new Dictionary<RateLimitModel, RateLimiter>();
        var filters = new Dictionary<IpFilterModel, IpFilter>();
        RedisRateLimitStore? redis = null;
        // One bounded cache per configuration: a reload starts it empty.
        var cache = model.Cache is { } cacheSettings ? new ResponseCache(cacheSettings.MaxBytes) : null;
        var byOrder = new RoutePolicy?[model.Routes.Count == 0 ? 0 : model.Routes.Max(r => r.Order) + 1];

        foreach (var route in model.Routes)
        {
            if (route.Auth is null && route.IpFilter is null && route.RateLimit is null && route.Cache is null)
            {
                continue;
            }

            JwtValidator? validator = null;
            if (route.Auth is { } auth && !validators.TryGetValue(auth, out validator))
            {
                validator = await CreateValidatorAsync(auth, owned, logger, cancellationToken).ConfigureAwait(false);
                validators[auth] = validator;
            }

            RateLimiter? limiter = null;
            if (route.RateLimit is { } limit && !limiters.TryGetValue(limit, out limiter))
            {
                if (limit.Store == RateLimitStore.Redis && redis is null && model.Redis is { } redisModel)
                {
                    redis = await RedisRateLimitStore.ConnectAsync(
                        new RedisStoreOptions
                        {
                            Address = redisModel.Authority,
                            KeyPrefix = redisModel.KeyPrefix + "rl:",
                            OperationTimeout = redisModel.ConnectTimeout,
                        },
                        logger).ConfigureAwait(false);
                    owned.Add(redis);
                }

                limiter = CreateLimiter(limit, redis);
                limiters[limit] = limiter;
            }

            IpFilter? filter = null;
            if (route.IpFilter is { } ipFilter && !filters.TryGetValue(ipFilter, out filter))
            {
                // The model holds validated networks; their text form round-trips through the range parser.
                var errors = new List<string>();
                IpRangeSet.TryCreate([.. ipFilter.Allow.Select(n => n.ToString())], out var allow, errors);
                IpRangeSet.TryCreate([.. ipFilter.Deny.Select(n => n.ToString())], out var deny, errors);
                filter = new IpFilter(allow, deny);
                filters[ipFilter] = filter;
            }

            byOrder[route.Order] = new RoutePolicy
            {
                IpFilter = filter,
                Validator = validator,
                Requirement = route.Require is { } require ? CreateRequirement(require) : null,
                RateLimiter = limiter,
                RateLimitKey = route.RateLimit?.KeyKind ?? Model.RateLimitKeyKind.ClientIp,
                RateLimitKeyName = route.RateLimit?.KeyName is { } keyName ? Encoding.UTF8.GetBytes(keyName) : [],
                ForwardClaims = route.Auth is { } a
                    ? [.. a.ForwardClaims.Select(f => new ForwardedClaim(Encoding.UTF8.GetBytes(f.Claim), Encoding.ASCII.GetBytes(f.Header)))]
                    : [],
                RouteName = Encoding.UTF8.GetBytes(route.Name),
                Cache = route.Cache is { } routeCache ? new CacheRoutePolicy(routeCache.Ttl, routeCache.Vary, routeCache.AllowAuthorization) : null,
                CacheStore = route.Cache is null ? null : cache,
            };
        }

        return new PolicySet(byOrder, owned);
    }

    private static async Task<JwtValidator> CreateValidatorAsync(AuthModel auth, List<IAsyncDisposable> owned, ILogger logger, CancellationToken cancellationToken)
    {
        var algorithms = JwtAlgorithms.None;
        foreach (var name in auth.Algorithms)
        {
            if (JwtAlgorithmInfo.TryParse(name, out var algorithm))
            {
                algorithms |= algorithm;
            }
        }

        var policy = new JwtPolicy(auth.Issuer, auth.Audiences, algorithms, auth.ClockSkew);
        IJwtKeySource keys;
        if (auth.SecretEnv is { } variable)
        {
            // Checked at load; read here so the secret lives only in the key object, never in the model.
            var secret = Environment.GetEnvironmentVariable(variable) ?? "";
            keys = JwtKeySet.FromHmacSecret(Encoding.UTF8.GetBytes(secret), algorithm: algorithms & JwtAlgorithms.Hmac);
        }
        else if (auth.SecretFile is { } secretFile)
        {
            var secret = await File.ReadAllBytesAsync(secretFile, cancellationToken).ConfigureAwait(false);
            keys = JwtKeySet.FromHmacSecret(TrimNewline(secret), algorithm: algorithms & JwtAlgorithms.Hmac);
        }
        else
        {
            // A key set that could not be fetched yet leaves the validator with no keys (every token is
            // refused as unknown-key) until a refresh succeeds; it never lets a token through.
            var minimum = TimeSpan.FromSeconds(10);
            var provider = auth.JwksUrl is { } url
                ? JwksProvider.ForUrl(url, new HttpClient { Timeout = TimeSpan.FromSeconds(5) }, auth.JwksRefresh, minimum, log: m => logger.LogWarning("[auth.{Name}] {Message}", auth.Name, m))
                : JwksProvider.ForFile(auth.JwksFile!, auth.JwksRefresh, minimum, log: m => logger.LogWarning("[auth.{Name}] {Message}", auth.Name, m));
            await provider.StartAsync(cancellationToken).ConfigureAwait(false);
            owned.Add(provider);
            keys = provider;
        }

        return new JwtValidator(policy, keys);
    }

    private static byte[] TrimNewline(byte[] secret)
    {
        int length = secret.Length;
        while (length > 0 && secret[length - 1] is (byte)'\n' or (byte)'\r')
        {
            length--;
        }

        return secret[..length];
    }

    private static AuthorizationRequirement CreateRequirement(RequireModel require) =>
        new(require.Scopes, require.Roles, [.. require.Claims.SelectMany(c => c.Values.Select(v => new KeyValuePair<string, string>(c.Name, v)))]);

    private static RateLimiter CreateLimiter(RateLimitModel limit, RedisRateLimitStore? redis)
    {
        var policy = new RateLimitPolicy(
            limit.Name,
            limit.Rate,
            limit.Per,
            limit.Burst,
            limit.KeyKind switch
            {
                Model.RateLimitKeyKind.Route => Traffic.RateLimitKeyKind.Route,
                Model.RateLimitKeyKind.Claim => Traffic.RateLimitKeyKind.Claim,
                Model.RateLimitKeyKind.Header => Traffic.RateLimitKeyKind.Header,
                _ => Traffic.RateLimitKeyKind.ClientIp,
            },
            limit.KeyName,
            limit.Store == RateLimitStore.Redis ? RateLimitStoreKind.Redis : RateLimitStoreKind.Local,
            limit.FailOpen ? StoreFailureMode.Open : StoreFailureMode.Closed);
        return limit.Store == RateLimitStore.Redis && redis is not null
            ? new RedisRateLimiter(policy, redis)
            : new LocalRateLimiter(policy);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var item in _owned)
        {
            await item.DisposeAsync().ConfigureAwait(false);
        }
    }
}
