using System.Net;

namespace FastGate.Gateway.Model;

// The traffic parts of the compiled configuration: rate limits, the Redis store they may share, and the
// response cache. Plain validated data for the runtime components.

/// <summary>What a rate limit counts requests by.</summary>
internal enum RateLimitKeyKind : byte
{
    ClientIp,
    /// <summary>One bucket for the whole route.</summary>
    Route,
    Claim,
    Header,
}

internal enum RateLimitStore : byte
{
    /// <summary>Buckets in this process.</summary>
    Local,
    /// <summary>Buckets shared by every gateway instance through <see cref="RedisModel"/>.</summary>
    Redis,
}

/// <summary>One <c>[rate_limits.NAME]</c> section: a token bucket of <see cref="Rate"/> tokens per <see cref="Per"/>.</summary>
internal sealed class RateLimitModel
{
    public required string Name { get; init; }
    public required int Rate { get; init; }
    public required TimeSpan Per { get; init; }
    /// <summary>Bucket capacity; defaults to <see cref="Rate"/>.</summary>
    public required int Burst { get; init; }
    public RateLimitKeyKind KeyKind { get; init; } = RateLimitKeyKind.ClientIp;
    /// <summary>The claim name (as written, claims are case-sensitive) or the header name (lower-case).</summary>
    public string? KeyName { get; init; }
    public RateLimitStore Store { get; init; } = RateLimitStore.Local;
    /// <summary>Whether requests pass (true) or are refused (false) while the Redis store is unreachable.</summary>
    public bool FailOpen { get; init; } = true;
}

/// <summary>The <c>[redis]</c> section.</summary>
internal sealed class RedisModel
{
    /// <summary>Resolved at load, like upstream endpoints.</summary>
    public required IPEndPoint Address { get; init; }
    /// <summary>"host:port" as written in the file.</summary>
    public required string Authority { get; init; }
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromMilliseconds(250);
    public string KeyPrefix { get; init; } = "fastgate:";
}

/// <summary>The <c>[cache]</c> section: bounds of the response cache shared by all routes.</summary>
internal sealed class CacheSettingsModel
{
    public long MaxBytes { get; init; } = 64L * 1024 * 1024;
}

/// <summary>A route's <c>cache</c>: GET and HEAD answers kept for <see cref="Ttl"/>.</summary>
internal sealed class RouteCacheModel
{
    public required TimeSpan Ttl { get; init; }
    /// <summary>Request header names (lower-case) that are part of the cache key.</summary>
    public IReadOnlyList<string> Vary { get; init; } = [];
    /// <summary>Whether answers to requests carrying Authorization may be stored.</summary>
    public bool AllowAuthorization { get; init; }
}
