using System.Net;
using FastGate.Gateway.Model;

namespace FastGate.Gateway.Configuration;

// [auth.*], [rate_limits.*], [redis], [ip_filters.*], [cache] and the route keys that name them.
internal sealed partial class GatewayModelCompiler
{
    /// <summary>RFC 7518 §3.1, without "none" (RFC 8725 §3.1: never accepted).</summary>
    private static readonly string[] s_algorithms =
    [
        "HS256", "HS384", "HS512",
        "RS256", "RS384", "RS512",
        "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512",
    ];

    private static readonly string[] s_keySources = ["jwks_file", "jwks_url", "secret_env", "secret_file"];

    /// <summary>Headers a claim must never be forwarded as: hop-by-hop ones (RFC 9110 §7.6.1) and the framing and target of the request.</summary>
    private static readonly string[] s_reservedHeaders =
    [
        "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
        "Host", "Content-Length",
    ];

    private static readonly string[] s_stores = ["local", "redis"];

    private static readonly string[] s_storeFailureModes = ["open", "closed"];

    /// <summary>Past a few minutes a skew no longer covers clock drift; it extends every token's life.</summary>
    private static readonly TimeSpan s_maxClockSkew = TimeSpan.FromMinutes(5);

    private readonly Dictionary<string, AuthModel> _auth = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RateLimitModel> _rateLimits = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IpFilterModel> _ipFilters = new(StringComparer.Ordinal);
    private RedisModel? _redis;

    private void CompileSecurityAndTraffic()
    {
        _redis = config.Redis is { } redis ? CompileRedis(redis) : null;
        foreach (var auth in config.Auth)
        {
            if (CompileAuth(auth) is { } model)
            {
                _auth.Add(model.Name, model);
            }
        }
        foreach (var rateLimit in config.RateLimits)
        {
            if (CompileRateLimit(rateLimit) is { } model)
            {
                _rateLimits.Add(model.Name, model);
            }
        }
        foreach (var filter in config.IpFilters)
        {
            if (CompileIpFilter(filter) is { } model)
            {
                _ipFilters.Add(model.Name, model);
            }
        }
    }

    private bool SectionName(string section, string name, SourcePosition position)
    {
        if (RouteNames.IsValid(name))
        {
            return true;
        }
        errors.Add(position, $"invalid name '{name}' in [{section}.{name}]: {RouteNames.Rule}");
        return false;
    }

    private AuthModel? CompileAuth(AuthConfig auth)
    {
        var before = errors.Count;
        var context = $"[auth.{auth.Name}]";
        SectionName("auth", auth.Name, auth.NamePosition);

        switch (auth.Type?.Value)
        {
            case null:
                errors.Add(auth.Position, $"missing 'type' in {context}: expected type = \"jwt\"");
                break;
            case "jwt":
                break;
            default:
                errors.Add(auth.Type.Position, $"unknown auth type '{auth.Type.Value}'{NameSuggestion.Hint(auth.Type.Value, ["jwt"])}: expected \"jwt\"");
                break;
        }

        if (auth.Issuer is null)
        {
            errors.Add(auth.Position, $"missing 'issuer' in {context}");
        }
        else if (auth.Issuer.Value.Length == 0)
        {
            errors.Add(auth.Issuer.Position, $"'issuer' of {context} must not be empty");
        }

        var audiences = new List<string>();
        if (auth.Audiences is null)
        {
            errors.Add(auth.Position, $"missing 'audiences' in {context}");
        }
        foreach (var audience in auth.Audiences?.Value ?? [])
        {
            if (audience.Value.Length == 0)
            {
                errors.Add(audience.Position, $"an audience of {context} must not be empty");
            }
            else if (!audiences.Contains(audience.Value))
            {
                audiences.Add(audience.Value);
            }
        }

        var keySource = KeySource(auth, context);
        var algorithms = Algorithms(auth, context, keySource);

        if (auth.ClockSkew is { } skew && skew.Value > s_maxClockSkew)
        {
            errors.Add(skew.Position, $"'clock_skew' of {context} must be at most {DurationSyntax.Format(s_maxClockSkew)}, not {DurationSyntax.Format(skew.Value)}");
        }
        if (auth.JwksRefresh is { } refresh && auth.JwksUrl is null)
        {
            errors.Add(refresh.KeyPosition, $"'jwks_refresh' only applies with 'jwks_url' ({context})");
        }
        var forwardClaims = ForwardClaims(auth, context);

        if (errors.Count > before)
        {
            return null;
        }
        var defaults = new AuthModel { Name = auth.Name, Issuer = auth.Issuer!.Value, Audiences = audiences, Algorithms = algorithms };
        return new AuthModel
        {
            Name = auth.Name,
            Issuer = auth.Issuer.Value,
            Audiences = audiences,
            Algorithms = algorithms,
            JwksFile = keySource.JwksFile,
            JwksUrl = keySource.JwksUrl,
            SecretEnv = keySource.SecretEnv,
            SecretFile = keySource.SecretFile,
            ClockSkew = auth.ClockSkew?.Value ?? defaults.ClockSkew,
            JwksRefresh = auth.JwksRefresh?.Value ?? defaults.JwksRefresh,
            ForwardClaims = forwardClaims,
        };
    }

    /// <summary>The one key source of an auth section, checked; <c>Hmac</c> is null while it is unknown.</summary>
    private (bool? Hmac, string? JwksFile, Uri? JwksUrl, string? SecretEnv, string? SecretFile) KeySource(AuthConfig auth, string context)
    {
        ConfigValue<string>?[] given = [auth.JwksFile, auth.JwksUrl, auth.SecretEnv, auth.SecretFile];
        var first = -1;
        for (var i = 0; i < given.Length; i++)
        {
            if (given[i] is not { } value)
            {
                continue;
            }
            if (first < 0)
            {
                first = i;
            }
            else
            {
                errors.Add(value.KeyPosition, $"'{s_keySources[i]}' and '{s_keySources[first]}' are both given in {context}: give exactly one key source");
            }
        }
        if (first < 0)
        {
            errors.Add(auth.Position, $"{context} has no key source: give one of {string.Join(", ", s_keySources)}");
            return (null, null, null, null, null);
        }
        var source = given[first]!;
        switch (first)
        {
            case 0:
                return (false, ExistingFile(source, "jwks_file", context), null, null, null);
            case 1:
                if (!Uri.TryCreate(source.Value, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
                {
                    errors.Add(source.Position, $"invalid 'jwks_url' '{source.Value}' in {context}: expected an absolute http:// or https:// URL");
                    return (false, null, null, null, null);
                }
                return (false, null, url, null, null);
            case 2:
                if (!IsEnvironmentVariableName(source.Value))
                {
                    errors.Add(source.Position, $"invalid 'secret_env' '{source.Value}' in {context}: expected an environment variable name like \"JWT_SECRET\"");
                }
                else if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(source.Value)))
                {
                    // The value itself is never printed: messages end up in logs and terminals.
                    errors.Add(source.Position, $"environment variable '{source.Value}' named by 'secret_env' of {context} is not set or empty");
                }
                return (true, null, null, source.Value, null);
            default:
                return (true, null, null, null, ExistingFile(source, "secret_file", context));
        }
    }

    /// <summary>The absolute path of a file named relative to the route file's directory, or null (reported) when there is none.</summary>
    private string? ExistingFile(ConfigValue<string> path, string key, string context)
    {
        // Path.GetFullPath refuses a NUL, which a TOML string can hold.
        var full = path.Value.Contains('\0', StringComparison.Ordinal) ? path.Value : Path.GetFullPath(Path.Combine(config.BaseDirectory, path.Value));
        if (!File.Exists(full))
        {
            errors.Add(path.Position, $"'{key}' of {context} names '{path.Value}', which is not a file (looked for '{full}')");
            return null;
        }
        return full;
    }

    private List<string> Algorithms(AuthConfig auth, string context, (bool? Hmac, string?, Uri?, string?, string?) keySource)
    {
        var algorithms = new List<string>();
        if (auth.Algorithms is null)
        {
            errors.Add(auth.Position, $"missing 'algorithms' in {context}: list the accepted ones, like [\"RS256\"]");
            return algorithms;
        }
        foreach (var algorithm in auth.Algorithms.Value)
        {
            // "alg" is case-sensitive (RFC 7515 §4.1.1); the file may be written in any case, the model holds the registered one.
            var upper = algorithm.Value.ToUpperInvariant();
            if (Array.IndexOf(s_algorithms, upper) < 0)
            {
                var why = upper == "NONE" ? "unsecured tokens are never accepted (RFC 8725 §3.1)" : $"unknown algorithm{NameSuggestion.Hint(upper, s_algorithms)}";
                errors.Add(algorithm.Position, $"invalid algorithm '{algorithm.Value}' in {context}: {why}; expected one of {string.Join(", ", s_algorithms)}");
                continue;
            }
            if (algorithms.Contains(upper))
            {
                errors.Add(algorithm.Position, $"algorithm '{upper}' is listed twice in {context}");
                continue;
            }
            // RFC 8725 §3.1: a key serves one kind of algorithm, so a public key can never be taken as an HMAC secret.
            var isHmac = upper.StartsWith("HS", StringComparison.Ordinal);
            if (keySource.Hmac is { } hmacSource && isHmac != hmacSource)
            {
                errors.Add(algorithm.Position, isHmac
                    ? $"algorithm '{upper}' in {context} needs an HMAC secret from 'secret_env' or 'secret_file', not a key set"
                    : $"algorithm '{upper}' in {context} needs a key set from 'jwks_file' or 'jwks_url', not an HMAC secret");
                continue;
            }
            algorithms.Add(upper);
        }
        return algorithms;
    }

    private List<(string Claim, string Header)> ForwardClaims(AuthConfig auth, string context)
    {
        var forwarded = new List<(string, string)>(auth.ForwardClaims.Count);
        foreach (var (claim, header) in auth.ForwardClaims)
        {
            if (claim.Value.Length == 0)
            {
                errors.Add(claim.Position, $"a claim name in 'forward_claims' of {context} must not be empty");
                continue;
            }
            if (!HttpTokens.IsToken(header.Value))
            {
                errors.Add(header.Position, $"invalid header name '{header.Value}' for claim '{claim.Value}' in {context}: a header name is a token like \"X-User-Id\"");
                continue;
            }
            if (Array.Find(s_reservedHeaders, reserved => reserved.Equals(header.Value, StringComparison.OrdinalIgnoreCase)) is { } reservedName)
            {
                errors.Add(header.Position, $"claim '{claim.Value}' in {context} cannot be forwarded as '{header.Value}': {reservedName} is managed by the gateway");
                continue;
            }
            if (forwarded.Exists(item => item.Item2.Equals(header.Value, StringComparison.OrdinalIgnoreCase)))
            {
                errors.Add(header.Position, $"header '{header.Value}' receives two claims in {context}");
                continue;
            }
            forwarded.Add((claim.Value, header.Value));
        }
        return forwarded;
    }

    private RateLimitModel? CompileRateLimit(RateLimitConfig limit)
    {
        var before = errors.Count;
        var context = $"[rate_limits.{limit.Name}]";
        SectionName("rate_limits", limit.Name, limit.NamePosition);
        if (limit.Rate is null)
        {
            errors.Add(limit.Position, $"missing 'rate' in {context}");
        }
        if (limit.Per is null)
        {
            errors.Add(limit.Position, $"missing 'per' in {context}");
        }
        var rate = (int)InRange(limit.Rate, "rate", 1, int.MaxValue, 1);
        var burst = (int)InRange(limit.Burst, "burst", 1, int.MaxValue, rate);

        var (keyKind, keyName) = RateLimitKey(limit, context);

        var store = RateLimitStore.Local;
        switch (limit.Store?.Value)
        {
            case null or "local":
                break;
            case "redis":
                store = RateLimitStore.Redis;
                if (config.Redis is null)
                {
                    errors.Add(limit.Store.Position, $"store = \"redis\" in {context} needs a [redis] section");
                }
                break;
            default:
                errors.Add(limit.Store.Position, $"unknown store '{limit.Store.Value}'{NameSuggestion.Hint(limit.Store.Value, s_stores)} in {context}: expected local or redis");
                break;
        }

        var failOpen = true;
        if (limit.OnStoreFailure is { } onFailure)
        {
            if (onFailure.Value is not ("open" or "closed"))
            {
                errors.Add(onFailure.Position, $"unknown on_store_failure '{onFailure.Value}'{NameSuggestion.Hint(onFailure.Value, s_storeFailureModes)} in {context}: expected open or closed");
            }
            else if (limit.Store?.Value != "redis")
            {
                errors.Add(onFailure.KeyPosition, $"'on_store_failure' only applies to store = \"redis\" ({context})");
            }
            failOpen = onFailure.Value != "closed";
        }

        if (errors.Count > before)
        {
            return null;
        }
        return new RateLimitModel
        {
            Name = limit.Name,
            Rate = rate,
            Per = limit.Per!.Value,
            Burst = burst,
            KeyKind = keyKind,
            KeyName = keyName,
            Store = store,
            FailOpen = failOpen,
        };
    }

    private (RateLimitKeyKind, string?) RateLimitKey(RateLimitConfig limit, string context)
    {
        const string claimPrefix = "claim:";
        const string headerPrefix = "header:";
        const string forms = "expected \"client_ip\", \"route\", \"claim:NAME\" or \"header:NAME\"";
        if (limit.Key is not { } key)
        {
            errors.Add(limit.Position, $"missing 'key' in {context}: {forms}");
            return (RateLimitKeyKind.ClientIp, null);
        }
        switch (key.Value)
        {
            case "client_ip":
                return (RateLimitKeyKind.ClientIp, null);
            case "route":
                return (RateLimitKeyKind.Route, null);
            case var claim when claim.StartsWith(claimPrefix, StringComparison.Ordinal) && claim.Length > claimPrefix.Length:
                return (RateLimitKeyKind.Claim, claim[claimPrefix.Length..]);
            case var header when header.StartsWith(headerPrefix, StringComparison.Ordinal) && HttpTokens.IsToken(header[headerPrefix.Length..]):
                // Header names are case-insensitive (RFC 9110 §5.1); one case lets the limiter compare bytes.
                return (RateLimitKeyKind.Header, header[headerPrefix.Length..].ToLowerInvariant());
            default:
                errors.Add(key.Position, $"invalid key '{key.Value}' in {context}: {forms}");
                return (RateLimitKeyKind.ClientIp, null);
        }
    }

    private RedisModel? CompileRedis(RedisConfig redis)
    {
        var before = errors.Count;
        if (redis.Address is null)
        {
            errors.Add(redis.Position, "missing 'address' in [redis]");
        }
        var address = redis.Address is { } text ? EndpointAddress(text, "[redis]") : null;
        if (errors.Count > before || address is null)
        {
            return null;
        }
        var defaults = new RedisModel { Address = address, Authority = redis.Address!.Value };
        return new RedisModel
        {
            Address = address,
            Authority = redis.Address.Value,
            ConnectTimeout = redis.ConnectTimeout?.Value ?? defaults.ConnectTimeout,
            KeyPrefix = redis.KeyPrefix?.Value ?? defaults.KeyPrefix,
        };
    }

    private IpFilterModel? CompileIpFilter(IpFilterConfig filter)
    {
        var before = errors.Count;
        var context = $"[ip_filters.{filter.Name}]";
        SectionName("ip_filters", filter.Name, filter.NamePosition);
        var allow = Networks(filter.Allow, context);
        var deny = Networks(filter.Deny, context);
        if (errors.Count == before && allow.Count == 0 && deny.Count == 0)
        {
            errors.Add(filter.Position, $"{context} lists no network in 'allow' or 'deny'");
        }
        return errors.Count > before ? null : new IpFilterModel { Name = filter.Name, Allow = allow, Deny = deny };
    }

    private List<IPNetwork> Networks(ConfigValue<IReadOnlyList<ConfigValue<string>>>? list, string context)
    {
        var networks = new List<IPNetwork>();
        foreach (var text in list?.Value ?? [])
        {
            if (Network(text, "network", $" in {context}") is { } network && !networks.Contains(network))
            {
                networks.Add(network);
            }
        }
        return networks;
    }

    /// <summary>The <c>[cache]</c> section; its defaults when only routes ask for caching.</summary>
    private CacheSettingsModel? CacheSettings(List<RouteModel> routes)
    {
        if (config.Cache is { } cache)
        {
            var defaults = new CacheSettingsModel();
            return new CacheSettingsModel { MaxBytes = InRange(cache.MaxBytes, "max_bytes", 1, long.MaxValue, defaults.MaxBytes) };
        }
        return routes.Exists(route => route.Cache is not null) ? new CacheSettingsModel() : null;
    }

    /// <summary>The phases of a route in front of its action: auth, require, rate_limit, ip_filter, cache.</summary>
    private (AuthModel? Auth, RequireModel? Require, RateLimitModel? RateLimit, IpFilterModel? IpFilter, RouteCacheModel? Cache) RoutePhases(RouteConfig route, IReadOnlyList<string> methods)
    {
        var auth = Reference(route.Auth, "auth", _auth, config.Auth.Select(a => a.Name), route.Display);
        RequireModel? require = null;
        if (route.Require is { } requireConfig)
        {
            if (route.Auth is null)
            {
                errors.Add(requireConfig.Position, $"'require' in {route.Display} needs 'auth': there is no caller to check without it");
            }
            require = Require(requireConfig, route.Display);
        }
        var rateLimit = Reference(route.RateLimit, "rate limit", _rateLimits, config.RateLimits.Select(r => r.Name), route.Display);
        if (rateLimit is { KeyKind: RateLimitKeyKind.Claim } && route.Auth is null)
        {
            errors.Add(route.RateLimit!.Position, $"rate limit '{rateLimit.Name}' of {route.Display} is keyed by claim '{rateLimit.KeyName}', which needs 'auth' on the route");
        }
        var ipFilter = Reference(route.IpFilter, "IP filter", _ipFilters, config.IpFilters.Select(f => f.Name), route.Display);
        var cache = route.Cache is { } cacheConfig ? RouteCache(cacheConfig, methods, route.Display) : null;
        return (auth, require, rateLimit, ipFilter, cache);
    }

    /// <summary>The named section; an unknown name is reported, one that failed on its own was reported there.</summary>
    private T? Reference<T>(ConfigValue<string>? name, string what, Dictionary<string, T> compiled, IEnumerable<string> defined, string route)
        where T : class
    {
        if (name is null)
        {
            return null;
        }
        if (compiled.TryGetValue(name.Value, out var model))
        {
            return model;
        }
        if (!defined.Contains(name.Value))
        {
            errors.Add(name.Position, $"{route} names {what} '{name.Value}' which is not defined{NameSuggestion.Hint(name.Value, defined)}");
        }
        return null;
    }

    private RequireModel Require(RequireConfig require, string route)
    {
        var scopes = new List<string>();
        foreach (var scope in require.Scopes?.Value ?? [])
        {
            // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), joined by spaces in "scope".
            if (scope.Value.Length == 0 || scope.Value.Any(c => c is <= ' ' or '"' or '\\' or >= '\u007f'))
            {
                errors.Add(scope.Position, $"invalid scope '{scope.Value}' in {route}: a scope is one printable token without spaces, '\"' or '\\' (RFC 6749 §3.3)");
                continue;
            }
            scopes.Add(scope.Value);
        }
        var roles = new List<string>();
        foreach (var role in require.Roles?.Value ?? [])
        {
            if (role.Value.Length == 0)
            {
                errors.Add(role.Position, $"a role in {route} must not be empty");
                continue;
            }
            roles.Add(role.Value);
        }
        var claims = new List<(string, IReadOnlyList<string>)>(require.Claims.Count);
        foreach (var (name, values) in require.Claims)
        {
            if (name.Value.Length == 0)
            {
                errors.Add(name.Position, $"a required claim name in {route} must not be empty");
                continue;
            }
            claims.Add((name.Value, values.Select(value => value.Value).ToList()));
        }
        return new RequireModel { Scopes = scopes, Roles = roles, Claims = claims };
    }

    private RouteCacheModel? RouteCache(RouteCacheConfig cache, IReadOnlyList<string> methods, string route)
    {
        var before = errors.Count;
        // Only GET and HEAD answers are stored (RFC 9111 §2: other methods are not cacheable here).
        if (methods.Count > 0 && !methods.Contains("GET") && !methods.Contains("HEAD"))
        {
            errors.Add(cache.Position, $"'cache' in {route} needs a route that answers GET or HEAD, not only {string.Join(", ", methods)}");
        }
        if (cache.Ttl is null)
        {
            errors.Add(cache.Position, $"missing 'ttl' in the cache of {route}");
        }
        var vary = new List<string>();
        foreach (var header in cache.Vary?.Value ?? [])
        {
            if (!HttpTokens.IsToken(header.Value))
            {
                errors.Add(header.Position, $"invalid header name '{header.Value}' in 'vary' of {route}: a header name is a token like \"Accept\"");
                continue;
            }
            // Header names are case-insensitive (RFC 9110 §5.1); one case lets the cache compare bytes.
            var lower = header.Value.ToLowerInvariant();
            if (!vary.Contains(lower))
            {
                vary.Add(lower);
            }
        }
        if (errors.Count > before)
        {
            return null;
        }
        return new RouteCacheModel { Ttl = cache.Ttl!.Value, Vary = vary, AllowAuthorization = cache.AllowAuthorization?.Value ?? false };
    }
}
