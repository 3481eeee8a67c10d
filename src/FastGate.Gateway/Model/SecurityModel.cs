using System.Net;

namespace FastGate.Gateway.Model;

// The security parts of the compiled configuration: who the caller is ([auth.NAME]), what a route asks of
// them (require) and which networks may call at all ([ip_filters.NAME]). Plain validated data; the
// validators and filters of the runtime are built from it.

/// <summary>One <c>[auth.NAME]</c> section: a JWT policy (RFC 7519, RFC 8725).</summary>
internal sealed class AuthModel
{
    public required string Name { get; init; }
    /// <summary>Compared exactly with the token's <c>iss</c>.</summary>
    public required string Issuer { get; init; }
    /// <summary>At least one; the token's <c>aud</c> must contain one of them.</summary>
    public required IReadOnlyList<string> Audiences { get; init; }
    /// <summary>The allow-list of <c>alg</c> values, upper-case ("RS256"); never "none", never empty.</summary>
    public required IReadOnlyList<string> Algorithms { get; init; }
    // Exactly one of the four key sources is set. HMAC algorithms come only with SecretEnv/SecretFile,
    // RS/PS/ES only with JwksFile/JwksUrl, so a public key is never used as an HMAC secret.
    /// <summary>Absolute path of a JWKS document (RFC 7517).</summary>
    public string? JwksFile { get; init; }
    /// <summary>Absolute http or https URL of a JWKS document, fetched every <see cref="JwksRefresh"/>.</summary>
    public Uri? JwksUrl { get; init; }
    /// <summary>Name of the environment variable holding the HMAC secret; checked to be set at load.</summary>
    public string? SecretEnv { get; init; }
    /// <summary>Absolute path of the file holding the HMAC secret.</summary>
    public string? SecretFile { get; init; }
    /// <summary>Leeway for <c>exp</c>, <c>nbf</c> and <c>iat</c>; at most five minutes.</summary>
    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan JwksRefresh { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Claims copied into upstream request headers (header names as written in the file).</summary>
    public IReadOnlyList<(string Claim, string Header)> ForwardClaims { get; init; } = [];
}

/// <summary>A route's <c>require</c>: what an authenticated caller must also have (403 otherwise).</summary>
internal sealed class RequireModel
{
    /// <summary>All of them, from <c>scope</c> (space-separated) or <c>scp</c>.</summary>
    public IReadOnlyList<string> Scopes { get; init; } = [];
    /// <summary>Any one of them, from <c>roles</c>.</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];
    /// <summary>Each claim must equal one of its values.</summary>
    public IReadOnlyList<(string Name, IReadOnlyList<string> Values)> Claims { get; init; } = [];
}

/// <summary>One <c>[ip_filters.NAME]</c> section over the client IP.</summary>
internal sealed class IpFilterModel
{
    public required string Name { get; init; }
    /// <summary>When not empty, only these networks pass.</summary>
    public IReadOnlyList<IPNetwork> Allow { get; init; } = [];
    public IReadOnlyList<IPNetwork> Deny { get; init; } = [];
}
