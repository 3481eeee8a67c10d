namespace FastGate.Gateway.Configuration;

// The security and traffic sections and route keys.
internal static partial class GatewayConfigBinder
{
    /// <summary>The items of a <c>[section.NAME]</c> table, each bound by <paramref name="bind"/>.</summary>
    private static List<T> BindNamed<T>(TableReader root, string section, string what, Func<TomlEntry, TomlTableNode, ConfigErrorList, T> bind)
    {
        if (root.SubTable(section, out _) is not { } table)
        {
            return [];
        }
        var items = new List<T>(table.Entries.Count);
        foreach (var entry in table.Entries)
        {
            if (entry.Value is TomlTableNode item)
            {
                items.Add(bind(entry, item, root.Errors));
            }
            else
            {
                root.Errors.Add(entry.Value.Position, $"{what} '{entry.Key}' must be a table, not {entry.Value.TypeName}");
            }
        }
        return items;
    }

    private static AuthConfig BindAuth(TomlEntry entry, TomlTableNode table, ConfigErrorList errors)
    {
        var reader = new TableReader(table, $"[auth.{entry.Key}]", errors);
        // RFC 8725 §3.5: a secret in a file that is shared, versioned and logged is no secret.
        reader.Reject("secret", "secrets are never read from the route file; use secret_env or secret_file");
        var config = new AuthConfig
        {
            Name = entry.Key,
            NamePosition = entry.KeyPosition,
            Position = table.Position,
            Type = reader.String("type"),
            Issuer = reader.String("issuer"),
            Audiences = reader.StringArray("audiences", $"'audiences' of {reader.Context} needs at least one audience"),
            Algorithms = reader.StringArray("algorithms", $"'algorithms' of {reader.Context} needs at least one algorithm"),
            JwksFile = reader.String("jwks_file"),
            JwksUrl = reader.String("jwks_url"),
            SecretEnv = reader.String("secret_env"),
            SecretFile = reader.String("secret_file"),
            ClockSkew = reader.Duration("clock_skew"),
            JwksRefresh = reader.Duration("jwks_refresh"),
            ForwardClaims = reader.SubTable("forward_claims", out _) is { } claims ? BindForwardClaims(reader, claims) : [],
        };
        reader.ReportUnknownKeys();
        return config;
    }

    private static List<(ConfigValue<string>, ConfigValue<string>)> BindForwardClaims(TableReader auth, TomlTableNode table)
    {
        var claims = new List<(ConfigValue<string>, ConfigValue<string>)>(table.Entries.Count);
        foreach (var entry in table.Entries)
        {
            if (entry.Value is TomlStringNode header)
            {
                claims.Add((new ConfigValue<string>(entry.Key, entry.KeyPosition, entry.KeyPosition), new ConfigValue<string>(header.Value, entry.KeyPosition, header.Position)));
            }
            else
            {
                auth.Errors.Add(entry.Value.Position, $"each value of 'forward_claims' in {auth.Context} must be a header name string, not {entry.Value.TypeName}");
            }
        }
        return claims;
    }

    private static RateLimitConfig BindRateLimit(TomlEntry entry, TomlTableNode table, ConfigErrorList errors)
    {
        var reader = new TableReader(table, $"[rate_limits.{entry.Key}]", errors);
        var config = new RateLimitConfig
        {
            Name = entry.Key,
            NamePosition = entry.KeyPosition,
            Position = table.Position,
            Rate = reader.Integer("rate"),
            Per = reader.Duration("per"),
            Burst = reader.Integer("burst"),
            Key = reader.String("key"),
            Store = reader.String("store"),
            OnStoreFailure = reader.String("on_store_failure"),
        };
        reader.ReportUnknownKeys();
        return config;
    }

    private static IpFilterConfig BindIpFilter(TomlEntry entry, TomlTableNode table, ConfigErrorList errors)
    {
        var reader = new TableReader(table, $"[ip_filters.{entry.Key}]", errors);
        var config = new IpFilterConfig
        {
            Name = entry.Key,
            NamePosition = entry.KeyPosition,
            Position = table.Position,
            Allow = reader.StringArray("allow"),
            Deny = reader.StringArray("deny"),
        };
        reader.ReportUnknownKeys();
        return config;
    }

    private static RedisConfig BindRedis(TomlTableNode table, ConfigErrorList errors)
    {
        var reader = new TableReader(table, "[redis]", errors);
        var config = new RedisConfig
        {
            Position = table.Position,
            Address = reader.String("address"),
            ConnectTimeout = reader.Duration("connect_timeout"),
            KeyPrefix = reader.String("key_prefix"),
        };
        reader.ReportUnknownKeys();
        return config;
    }

    private static CacheSettingsConfig BindCacheSettings(TomlTableNode table, ConfigErrorList errors)
    {
        var reader = new TableReader(table, "[cache]", errors);
        var config = new CacheSettingsConfig { MaxBytes = reader.Size("max_bytes") };
        reader.ReportUnknownKeys();
        return config;
    }

    private static RequireConfig BindRequire(TomlTableNode table, TomlEntry entry, string route, ConfigErrorList errors)
    {
        var reader = new TableReader(table, $"the require of {route}", errors);
        var config = new RequireConfig
        {
            Position = entry.KeyPosition,
            Scopes = reader.StringArray("scopes"),
            Roles = reader.StringArray("roles"),
            Claims = reader.SubTable("claims", out _) is { } claims ? BindRequiredClaims(reader, claims) : [],
        };
        reader.ReportUnknownKeys();
        return config;
    }

    /// <summary><c>claims = { name = "value" }</c> or <c>{ name = ["v1", "v2"] }</c>.</summary>
    private static List<(ConfigValue<string>, IReadOnlyList<ConfigValue<string>>)> BindRequiredClaims(TableReader require, TomlTableNode table)
    {
        const string expected = "a string or a non-empty array of strings";
        var claims = new List<(ConfigValue<string>, IReadOnlyList<ConfigValue<string>>)>(table.Entries.Count);
        foreach (var entry in table.Entries)
        {
            var name = new ConfigValue<string>(entry.Key, entry.KeyPosition, entry.KeyPosition);
            switch (entry.Value)
            {
                case TomlStringNode text:
                    claims.Add((name, [new ConfigValue<string>(text.Value, entry.KeyPosition, text.Position)]));
                    break;
                case TomlArrayNode { IsTableArray: false, Items.Count: > 0 } array:
                    var values = new List<ConfigValue<string>>(array.Items.Count);
                    foreach (var item in array.Items)
                    {
                        if (item is TomlStringNode value)
                        {
                            values.Add(new ConfigValue<string>(value.Value, entry.KeyPosition, value.Position));
                        }
                        else
                        {
                            require.Errors.Add(item.Position, $"each value of claim '{entry.Key}' in {require.Context} must be a string, not {item.TypeName}");
                        }
                    }
                    claims.Add((name, values));
                    break;
                case TomlArrayNode { IsTableArray: false } empty:
                    require.Errors.Add(empty.Position, $"claim '{entry.Key}' in {require.Context} must be {expected}: no value could ever match");
                    break;
                default:
                    require.Errors.Add(entry.Value.Position, $"claim '{entry.Key}' in {require.Context} must be {expected}, not {entry.Value.TypeName}");
                    break;
            }
        }
        return claims;
    }

    private static RouteCacheConfig BindRouteCache(TomlTableNode table, TomlEntry entry, string route, ConfigErrorList errors)
    {
        var reader = new TableReader(table, $"the cache of {route}", errors);
        var config = new RouteCacheConfig
        {
            Position = entry.KeyPosition,
            Ttl = reader.Duration("ttl"),
            Vary = reader.StringArray("vary"),
            AllowAuthorization = reader.Boolean("allow_authorization"),
        };
        reader.ReportUnknownKeys();
        return config;
    }
}
