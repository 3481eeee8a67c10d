namespace FastGate.Gateway.Configuration;

// The first tier of the security and traffic sections ([auth.*], [rate_limits.*], [redis],
// [ip_filters.*], [cache]) and of the route keys that use them. Same rules as GatewayConfig.cs.

internal sealed class AuthConfig
{
    public required string Name { get; init; }

    public required SourcePosition NamePosition { get; init; }

    public required SourcePosition Position { get; init; }

    public ConfigValue<string>? Type { get; init; }

    public ConfigValue<string>? Issuer { get; init; }

    public ConfigValue<IReadOnlyList<ConfigValue<string>>>? Audiences { get; init; }

    public ConfigValue<IReadOnlyList<ConfigValue<string>>>? Algorithms { get; init; }

    public ConfigValue<string>? JwksFile { get; init; }

    public ConfigValue<string>? JwksUrl { get; init; }

    public ConfigValue<string>? SecretEnv { get; init; }

    public ConfigValue<string>? SecretFile { get; init; }

    public ConfigValue<TimeSpan>? ClockSkew { get; init; }

    public ConfigValue<TimeSpan>? JwksRefresh { get; init; }

    /// <summary>Claim name (a key of the table, at its position) -> header name.</summary>
    public IReadOnlyList<(ConfigValue<string> Claim, ConfigValue<string> Header)> ForwardClaims { get; init; } = [];
}

internal sealed class RateLimitConfig
{
    public required string Name { get; init; }

    public required SourcePosition NamePosition { get; init; }

    public required SourcePosition Position { get; init; }

    public ConfigValue<long>? Rate { get; init; }

    public ConfigValue<TimeSpan>? Per { get; init; }

    public ConfigValue<long>? Burst { get; init; }

    public ConfigValue<string>? Key { get; init; }

    public ConfigValue<string>? Store { get; init; }

    public ConfigValue<string>? OnStoreFailure { get; init; }
}

internal sealed class RedisConfig
{
    public required SourcePosition Position { get; init; }

    public ConfigValue<string>? Address { get; init; }

    public ConfigValue<TimeSpan>? ConnectTimeout { get; init; }

    public ConfigValue<string>? KeyPrefix { get; init; }
}

internal sealed class IpFilterConfig
{
    public required string Name { get; init; }

    public required SourcePosition NamePosition { get; init; }

    public required SourcePosition Position { get; init; }

    public ConfigValue<IReadOnlyList<ConfigValue<string>>>? Allow { get; init; }

    public ConfigValue<IReadOnlyList<ConfigValue<string>>>? Deny { get; init; }
}

internal sealed class CacheSettingsConfig
{
    public ConfigValue<long>? MaxBytes { get; init; }
}

/// <summary>A route's <c>require</c> table.</summary>
internal sealed class RequireConfig
{
    /// <summary>Position of the <c>require</c> key.</summary>
    public required SourcePosition Position { get; init; }

    public ConfigValue<IReadOnlyList<ConfigValue<string>>>? Scopes { get; init; }

    public ConfigValue<IReadOnlyList<ConfigValue<string>>>? Roles { get; init; }

    /// <summary>Each claim with the position of its name and its accepted values.</summary>
    public IReadOnlyList<(ConfigValue<string> Name, IReadOnlyList<ConfigValue<string>> Values)> Claims { get; init; } = [];
}

/// <summary>A route's <c>cache</c> table.</summary>
internal sealed class RouteCacheConfig
{
    /// <summary>Position of the <c>cache</c> key.</summary>
    public required SourcePosition Position { get; init; }

    public ConfigValue<TimeSpan>? Ttl { get; init; }

    public ConfigValue<IReadOnlyList<ConfigValue<string>>>? Vary { get; init; }

    public ConfigValue<bool>? AllowAuthorization { get; init; }
}
