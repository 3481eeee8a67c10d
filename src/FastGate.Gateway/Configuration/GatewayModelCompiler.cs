using System.Net;
using System.Net.Sockets;
using FastGate.Gateway.Model;
using FastGate.Gateway.Routing;

namespace FastGate.Gateway.Configuration;

/// <summary>
/// Checks a <see cref="GatewayConfig"/> as a whole (names, addresses, references, ranges, route conflicts)
/// and builds the immutable <see cref="GatewayModel"/>. Every problem is reported; the model only exists
/// when there are none.
/// </summary>
internal sealed partial class GatewayModelCompiler(GatewayConfig config, ConfigErrorList errors)
{
    private static readonly (string Name, BalanceMode Mode)[] s_balanceModes =
    [
        ("round_robin", BalanceMode.RoundRobin),
        ("least_requests", BalanceMode.LeastRequests),
        ("p2c", BalanceMode.PowerOfTwoChoices),
        ("weighted", BalanceMode.Weighted),
        ("hash", BalanceMode.Hash),
    ];

    private static readonly string[] s_protocols = ["http1", "h2c"];

    /// <summary>Relative weights; a thousand to one is finer than any split traffic needs.</summary>
    private const int MaxWeight = 1000;

    private const int MaxRetries = 10;

    private const int MaxHealthThreshold = 100;

    private readonly Dictionary<string, IPAddress?> _resolved = new(StringComparer.OrdinalIgnoreCase);

    public GatewayModel? Compile()
    {
        var server = CompileServer(config.Server);
        var admin = config.Admin is { } adminConfig ? CompileAdmin(adminConfig, server) : null;
        var limits = CompileLimits(config.Limits);
        var upstreams = new Dictionary<string, UpstreamModel>(StringComparer.Ordinal);
        foreach (var upstream in config.Upstreams)
        {
            if (CompileUpstream(upstream) is { } model)
            {
                upstreams.Add(model.Name, model);
            }
        }
        CompileSecurityAndTraffic();
        var (routes, matchPositions) = CompileRoutes(upstreams);

        // Built even when other routes failed, so conflicts among the good ones are reported in the same pass.
        var table = RouteTable.Build(routes, out var conflicts);
        foreach (var conflict in conflicts)
        {
            errors.Add(matchPositions[conflict.Second], $"routes '{conflict.First.Name}' and '{conflict.Second.Name}' match exactly the same requests");
        }

        if (errors.Count > 0 || server is null)
        {
            return null;
        }
        return new GatewayModel
        {
            Server = server,
            Admin = admin,
            Limits = limits,
            Upstreams = upstreams,
            Routes = routes,
            Table = table,
            SourcePath = config.FileName,
            Auth = _auth,
            RateLimits = _rateLimits,
            IpFilters = _ipFilters,
            Redis = _redis,
            Cache = CacheSettings(routes),
        };
    }

    private ServerModel? CompileServer(ServerConfig? server)
    {
        var listen = new List<IPEndPoint>();
        if (server?.Listen is { } addresses)
        {
            foreach (var address in addresses.Value)
            {
                if (ListenAddress(address, "listen") is not { } endpoint)
                {
                    continue;
                }
                if (listen.Contains(endpoint))
                {
                    errors.Add(address.Position, $"listen address '{address.Value}' is given twice");
                    continue;
                }
                listen.Add(endpoint);
            }
        }
        else if (server is null || server.Tls.Count == 0)
        {
            // Only when the file names no listener at all: a TLS-only gateway gets no cleartext port.
            listen.Add(new IPEndPoint(IPAddress.Loopback, 8080));
        }

        var trusted = new List<IPNetwork>();
        foreach (var text in server?.TrustedProxies?.Value ?? [])
        {
            if (Network(text, "trusted proxy", "") is { } network)
            {
                trusted.Add(network);
            }
        }

        var tls = CompileTlsListeners(server?.Tls ?? [], listen);
        return listen.Count == 0 && tls.Count == 0 ? null : new ServerModel { Listen = listen, TrustedProxies = trusted, Tls = tls };
    }

    /// <param name="what">the item in messages: "trusted proxy"</param>
    /// <param name="where">appended to the item in messages: "" or " in [ip_filters.x]"</param>
    private IPNetwork? Network(ConfigValue<string> text, string what, string where)
    {
        var slash = text.Value.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? text.Value : text.Value[..slash];
        if (IPAddress.TryParse(addressText, out var address))
        {
            if (slash < 0)
            {
                return new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
            }
            if (IPNetwork.TryParse(text.Value, out var network))
            {
                if (!network.BaseAddress.Equals(address))
                {
                    // 10.0.0.1/8 is most likely a typo of one of the two; do not guess which silently.
                    errors.Add(text.Position, $"{what} '{text.Value}'{where} has bits set past its prefix (did you mean '{network}'?)");
                    return null;
                }
                return network;
            }
        }
        errors.Add(text.Position, $"invalid {what} '{text.Value}'{where}: expected an IP address or a network like \"10.0.0.0/8\" or \"fd00::/8\"");
        return null;
    }

    private AdminModel? CompileAdmin(AdminConfig admin, ServerModel? server)
    {
        if (admin.TokenEnv is { } tokenEnv && !IsEnvironmentVariableName(tokenEnv.Value))
        {
            errors.Add(tokenEnv.Position, $"invalid 'token_env' '{tokenEnv.Value}': expected an environment variable name like \"FASTGATE_ADMIN_TOKEN\"");
        }
        if (admin.Listen is not { } listen)
        {
            errors.Add(admin.Position, "missing 'listen' in [admin]");
            return null;
        }
        if (ListenAddress(listen, "listen") is not { } endpoint)
        {
            return null;
        }
        if (server is not null && (server.Listen.Contains(endpoint) || server.Tls.Any(t => t.Listen.Equals(endpoint))))
        {
            errors.Add(listen.Position, $"admin listen address '{listen.Value}' is also a [server] listen address");
            return null;
        }
        return new AdminModel { Listen = endpoint, TokenEnv = admin.TokenEnv?.Value };
    }

    private static bool IsEnvironmentVariableName(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    /// <summary>A listener binds an address of this machine: an IP literal, never a name to resolve.</summary>
    private IPEndPoint? ListenAddress(ConfigValue<string> text, string key)
    {
        if (!AddressSyntax.TrySplit(text.Value, out _, out var ip, out var port, out var problem))
        {
            errors.Add(text.Position, $"invalid address '{text.Value}' for '{key}': {problem}; expected {AddressSyntax.ListenForms}");
            return null;
        }
        if (ip is null)
        {
            errors.Add(text.Position, $"invalid address '{text.Value}' for '{key}': a listen address is an IP address, not a host name; expected {AddressSyntax.ListenForms}");
            return null;
        }
        return new IPEndPoint(ip, port);
    }

    private LimitsModel CompileLimits(LimitsConfig? limits)
    {
        var defaults = new LimitsModel();
        if (limits is null)
        {
            return defaults;
        }
        var head = (int)InRange(limits.MaxRequestHead, "max_request_head", 1, int.MaxValue, defaults.MaxRequestHead);
        var target = (int)InRange(limits.MaxRequestTarget, "max_request_target", 1, int.MaxValue, Math.Min(defaults.MaxRequestTarget, head));
        if (limits.MaxRequestTarget is { } targetValue && target > head)
        {
            errors.Add(targetValue.Position, $"'max_request_target' ({target} bytes) must not exceed 'max_request_head' ({head} bytes)");
        }
        return new LimitsModel
        {
            MaxRequestHead = head,
            MaxRequestTarget = target,
            MaxRequestBody = InRange(limits.MaxRequestBody, "max_request_body", 0, long.MaxValue, defaults.MaxRequestBody),
            RequestHeadTimeout = limits.RequestHeadTimeout?.Value ?? defaults.RequestHeadTimeout,
            IdleTimeout = limits.IdleTimeout?.Value ?? defaults.IdleTimeout,
            // RFC 9113 §6.5.2 allows 0, which would refuse every stream; at least one is useful.
            H2MaxConcurrentStreams = (int)InRange(limits.H2MaxConcurrentStreams, "h2_max_concurrent_streams", 1, int.MaxValue, defaults.H2MaxConcurrentStreams),
            ShutdownTimeout = limits.ShutdownTimeout?.Value ?? defaults.ShutdownTimeout,
        };
    }

    /// <summary>The value, or <paramref name="fallback"/> when absent or out of range (reported).</summary>
    private long InRange(ConfigValue<long>? value, string key, long min, long max, long fallback)
    {
        if (value is null)
        {
            return fallback;
        }
        if (value.Value < min || value.Value > max)
        {
            var range = max == long.MaxValue || max == int.MaxValue ? $"at least {min}" : $"between {min} and {max}";
            errors.Add(value.Position, $"'{key}' must be {range}, not {value.Value}");
            return fallback;
        }
        return value.Value;
    }

    private UpstreamModel? CompileUpstream(UpstreamConfig upstream)
    {
        var before = errors.Count;
        var context = $"[upstreams.{upstream.Name}]";
        if (!RouteNames.IsValid(upstream.Name))
        {
            errors.Add(upstream.NamePosition, $"invalid upstream name '{upstream.Name}': {RouteNames.Rule}");
        }

        // Null while the balance mode is unknown: the keys that depend on it are not judged against a guess.
        BalanceMode? balance = BalanceMode.RoundRobin;
        if (upstream.Balance is { } balanceText)
        {
            var found = Array.FindIndex(s_balanceModes, mode => mode.Name == balanceText.Value);
            if (found < 0)
            {
                var names = s_balanceModes.Select(mode => mode.Name).ToArray();
                errors.Add(balanceText.Position, $"unknown balance '{balanceText.Value}'{NameSuggestion.Hint(balanceText.Value, names)}: expected one of {string.Join(", ", names)}");
                balance = null;
            }
            else
            {
                balance = s_balanceModes[found].Mode;
            }
        }

        var (hashKey, hashHeader) = HashKey(upstream.HashKey, balance);
        Protocol(upstream.Protocol);
        var endpoints = Endpoints(upstream, context, balance);
        var poolDefaults = new PoolModel();
        var pool = new PoolModel
        {
            MaxConnections = (int)InRange(upstream.Pool?.MaxConnections, "max_connections", 1, int.MaxValue, poolDefaults.MaxConnections),
            IdleTimeout = upstream.Pool?.IdleTimeout?.Value ?? poolDefaults.IdleTimeout,
        };
        var health = upstream.Health is { } healthConfig ? Health(healthConfig, context) : null;

        if (errors.Count > before)
        {
            return null;
        }
        var defaults = new UpstreamModel { Name = upstream.Name, Endpoints = endpoints, Pool = pool };
        return new UpstreamModel
        {
            Name = upstream.Name,
            Endpoints = endpoints,
            Balance = balance ?? BalanceMode.RoundRobin,
            HashKey = hashKey,
            HashHeader = hashHeader,
            Protocol = UpstreamProtocol.Http1,
            ConnectTimeout = upstream.ConnectTimeout?.Value ?? defaults.ConnectTimeout,
            MarkDownFor = upstream.MarkDownFor?.Value ?? defaults.MarkDownFor,
            Pool = pool,
            Health = health,
        };
    }

    private (HashKeyKind, string?) HashKey(ConfigValue<string>? hashKey, BalanceMode? balance)
    {
        if (hashKey is null || balance is null)
        {
            return (HashKeyKind.ClientIp, null);
        }
        if (balance != BalanceMode.Hash)
        {
            errors.Add(hashKey.KeyPosition, "'hash_key' only applies to balance = \"hash\"");
            return (HashKeyKind.ClientIp, null);
        }
        const string headerPrefix = "header:";
        if (hashKey.Value == "client_ip")
        {
            return (HashKeyKind.ClientIp, null);
        }
        if (hashKey.Value.StartsWith(headerPrefix, StringComparison.Ordinal) && HttpTokens.IsToken(hashKey.Value[headerPrefix.Length..]))
        {
            // Header names are case-insensitive (RFC 9110 §5.1); one case lets the balancer compare bytes.
            return (HashKeyKind.Header, hashKey.Value[headerPrefix.Length..].ToLowerInvariant());
        }
        errors.Add(hashKey.Position, $"invalid hash_key '{hashKey.Value}': expected \"client_ip\" or \"header:NAME\" like \"header:X-User-Id\"");
        return (HashKeyKind.ClientIp, null);
    }

    private void Protocol(ConfigValue<string>? protocol)
    {
        switch (protocol?.Value)
        {
            case null or "http1":
                return;
            case "h2c":
                errors.Add(protocol.Position, "protocol 'h2c' is not supported yet");
                return;
            default:
                errors.Add(protocol.Position, $"unknown protocol '{protocol.Value}'{NameSuggestion.Hint(protocol.Value, s_protocols)}: expected http1 or h2c");
                return;
        }
    }

    private List<EndpointModel> Endpoints(UpstreamConfig upstream, string context, BalanceMode? balance)
    {
        var endpoints = new List<EndpointModel>();
        if (upstream.Endpoints is not { } list)
        {
            errors.Add(upstream.Position, $"missing 'endpoints' in {context}");
            return endpoints;
        }
        foreach (var endpoint in list.Value)
        {
            var weight = 1;
            if (endpoint.Weight is { } weightValue)
            {
                if (balance is not (null or BalanceMode.Weighted))
                {
                    errors.Add(weightValue.KeyPosition, $"'weight' only applies to balance = \"weighted\" ({context})");
                }
                weight = (int)InRange(weightValue, "weight", 1, MaxWeight, 1);
            }
            if (EndpointAddress(endpoint.Address, context) is not { } address)
            {
                continue;
            }
            if (endpoints.Exists(existing => existing.Address.Equals(address)))
            {
                errors.Add(endpoint.Address.Position, $"endpoint '{endpoint.Address.Value}' is listed twice in {context}");
                continue;
            }
            endpoints.Add(new EndpointModel { Address = address, Authority = endpoint.Address.Value, Weight = weight });
        }
        return endpoints;
    }

    /// <summary>An IP literal as is; a host name resolved now, once per load, preferring IPv4.</summary>
    private IPEndPoint? EndpointAddress(ConfigValue<string> text, string context)
    {
        if (!AddressSyntax.TrySplit(text.Value, out var host, out var ip, out var port, out var problem))
        {
            errors.Add(text.Position, $"invalid endpoint '{text.Value}' in {context}: {problem}; expected {AddressSyntax.EndpointForms}");
            return null;
        }
        if (ip is null && (ip = Resolve(host)) is null)
        {
            errors.Add(text.Position, $"cannot resolve host '{host}' of endpoint '{text.Value}' in {context}");
            return null;
        }
        return new IPEndPoint(ip, port);
    }

    // NOTE: IPv4 first because "localhost" often resolves to ::1 too while test and demo backends
    // commonly bind 127.0.0.1 only. Resolution happens at load (and reload), not per connection.
    private IPAddress? Resolve(string host)
    {
        if (_resolved.TryGetValue(host, out var cached))
        {
            return cached;
        }
        IPAddress? chosen = null;
        try
        {
            var addresses = Dns.GetHostAddresses(host);
            chosen = Array.Find(addresses, a => a.AddressFamily == AddressFamily.InterNetwork)
                ?? Array.Find(addresses, a => a.AddressFamily == AddressFamily.InterNetworkV6);
        }
        catch (SocketException)
        {
            // Reported by the caller with the position of the endpoint.
        }
        _resolved[host] = chosen;
        return chosen;
    }

    private HealthModel? Health(HealthConfig health, string context)
    {
        var defaults = new HealthModel { Path = "/" };
        if (health.Path is not { } path)
        {
            errors.Add(health.Position, $"missing 'path' in {context[..^1]}.health]");
            return null;
        }
        if (!path.Value.StartsWith('/') || path.Value.Any(c => c <= ' ' || c >= '\u007f'))
        {
            errors.Add(path.Position, $"health 'path' must start with '/' and contain no spaces or control characters, not '{path.Value}'");
        }
        var interval = health.Interval?.Value ?? defaults.Interval;
        var timeout = health.Timeout?.Value ?? defaults.Timeout;
        if (timeout > interval)
        {
            var at = health.Timeout?.Position ?? health.Interval?.Position ?? health.Position;
            errors.Add(at, $"health 'timeout' ({DurationSyntax.Format(timeout)}) must not be longer than 'interval' ({DurationSyntax.Format(interval)})");
        }
        return new HealthModel
        {
            Path = path.Value,
            Interval = interval,
            Timeout = timeout,
            UnhealthyThreshold = (int)InRange(health.UnhealthyThreshold, "unhealthy_threshold", 1, MaxHealthThreshold, defaults.UnhealthyThreshold),
            HealthyThreshold = (int)InRange(health.HealthyThreshold, "healthy_threshold", 1, MaxHealthThreshold, defaults.HealthyThreshold),
        };
    }

    private (List<RouteModel>, Dictionary<RouteModel, SourcePosition>) CompileRoutes(Dictionary<string, UpstreamModel> upstreams)
    {
        var routes = new List<RouteModel>(config.Routes.Count);
        var matchPositions = new Dictionary<RouteModel, SourcePosition>();
        var names = new Dictionary<string, SourcePosition>(StringComparer.Ordinal);
        foreach (var route in config.Routes)
        {
            if (CompileRoute(route, upstreams, names) is { } model)
            {
                routes.Add(model);
                matchPositions.Add(model, route.Match!.Position);
            }
        }
        return (routes, matchPositions);
    }

    private RouteModel? CompileRoute(RouteConfig route, Dictionary<string, UpstreamModel> upstreams, Dictionary<string, SourcePosition> names)
    {
        var before = errors.Count;
        var name = RouteName(route, names);
        var (path, methods, host) = route.Match is { } match ? Match(match, route.Display) : (null, [], null);
        if (route.Match is null)
        {
            errors.Add(route.Position, $"missing 'match' in {route.Display}");
        }

        UpstreamModel? upstream = null;
        if (route.Upstream is { } upstreamName)
        {
            upstream = ReferencedUpstream(upstreamName, route.Display, upstreams);
        }
        else if (!route.HasUnsupportedAction && route.Aggregate is null && route.Batch is null)
        {
            errors.Add(route.Position, $"{route.Display} has no 'upstream' to send its requests to");
        }

        var action = CompositionAction(route);
        var aggregate = route.Aggregate is { } parts && path is not null ? Aggregate(route, parts, path, upstreams) : null;
        var batch = route.Batch is { } batchConfig ? Batch(route, batchConfig, methods) : null;

        RewriteTemplate? rewrite = null;
        if (route.Rewrite is { } rewriteText && path is not null
            && !RewriteTemplate.TryCreate(rewriteText.Value, path, out rewrite, out var rewriteError, out var rewriteOffset))
        {
            errors.Add(InString(rewriteText, rewriteOffset), $"invalid rewrite in {route.Display}: {rewriteError}");
        }
        var retries = (int)InRange(route.Retries, "retries", 0, MaxRetries, 0);
        var phases = RoutePhases(route, methods);

        // An upstream that failed on its own has been reported there; its routes add nothing more.
        if (errors.Count > before || name is null || path is null
            || (action == RouteAction.Proxy ? upstream is null : action == RouteAction.Aggregate ? aggregate is null : batch is null))
        {
            return null;
        }
        var defaults = new RouteModel { Name = name, Order = 0, Methods = methods, Path = path, Upstream = upstream };
        return new RouteModel
        {
            Name = name,
            Order = route.Index - 1,
            Host = host,
            Methods = batch is not null && methods.Count == 0 ? ["POST"] : methods,
            Path = path,
            Upstream = upstream,
            Aggregate = aggregate,
            Batch = batch,
            Rewrite = rewrite,
            Timeout = route.Timeout?.Value ?? defaults.Timeout,
            Retries = retries,
            PreserveHost = route.PreserveHost?.Value ?? defaults.PreserveHost,
            Auth = phases.Auth,
            Require = phases.Require,
            RateLimit = phases.RateLimit,
            IpFilter = phases.IpFilter,
            Cache = phases.Cache,
        };
    }

    private string? RouteName(RouteConfig route, Dictionary<string, SourcePosition> names)
    {
        if (route.Name is not { } name)
        {
            errors.Add(route.Position, $"missing 'name' in {route.Display}");
            return null;
        }
        if (!RouteNames.IsValid(name.Value))
        {
            errors.Add(name.Position, name.Value.Length == 0 ? "route name must not be empty" : $"invalid route name '{name.Value}': {RouteNames.Rule}");
            return null;
        }
        if (names.TryGetValue(name.Value, out var first))
        {
            errors.Add(name.Position, $"route name '{name.Value}' is already used by the route at line {first.Line}");
            return null;
        }
        names.Add(name.Value, name.Position);
        return name.Value;
    }

    private (PathTemplate?, IReadOnlyList<string>, string?) Match(MatchConfig match, string route)
    {
        PathTemplate? path = null;
        if (match.Path is not { } pathText)
        {
            errors.Add(match.Position, $"missing 'path' in the match of {route}");
        }
        else if (!PathTemplate.TryParse(pathText.Value, out path, out var pathError, out var pathOffset))
        {
            errors.Add(InString(pathText, pathOffset), $"invalid path template in {route}: {pathError}");
        }

        var methods = new List<string>();
        if (match.Methods is { } methodList)
        {
            foreach (var method in methodList.Value)
            {
                if (!HttpTokens.IsToken(method.Value))
                {
                    errors.Add(method.Position, $"invalid method '{method.Value}' in {route}: a method is a token like \"GET\"");
                    continue;
                }
                // Methods are case-sensitive on the wire (RFC 9110 §9.1) and the standard ones are upper-case;
                // the file may be written in any case.
                var upper = method.Value.ToUpperInvariant();
                if (methods.Contains(upper))
                {
                    errors.Add(method.Position, $"method '{upper}' is listed twice in {route}");
                    continue;
                }
                methods.Add(upper);
            }
        }

        string? host = null;
        if (match.Host is { } hostText)
        {
            var name = hostText.Value.StartsWith("*.", StringComparison.Ordinal) ? hostText.Value[2..] : hostText.Value;
            if (HostNames.IsValid(name))
            {
                // Host names are case-insensitive (RFC 3986 §3.2.2).
                host = hostText.Value.ToLowerInvariant();
            }
            else
            {
                errors.Add(hostText.Position, $"invalid host '{hostText.Value}' in {route}: expected a host name like \"api.example.com\" or a suffix like \"*.example.com\"");
            }
        }
        return (path, methods, host);
    }

    /// <summary>Where an offset into a string value is: past the value's opening quote.</summary>
    private static SourcePosition InString(ConfigValue<string> text, int offset) =>
        text.Position with { Column = text.Position.Column + 1 + offset };
}
