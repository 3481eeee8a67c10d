using System.Text;

namespace FastGate.Gateway.Traffic;

/// <summary>Why a response was or was not stored (metrics and the access log).</summary>
internal enum CacheStoreVerdict : byte
{
    Store,
    /// <summary>Not one of the status codes cacheable by default (RFC 9110 section 15.1).</summary>
    StatusNotCacheable,
    /// <summary>Cache-Control: no-store (RFC 9111 section 5.2.2.5).</summary>
    NoStore,
    /// <summary>Cache-Control: private: a shared cache must not store it (section 5.2.2.7).</summary>
    Private,
    /// <summary>
    /// Cache-Control: no-cache (section 5.2.2.4): storable, but every use needs revalidation. FastGate does
    /// not revalidate (no conditional requests yet), so such an entry could never be served: it is not
    /// stored, which behaves exactly like "store, always miss" without taking memory.
    /// </summary>
    NoCache,
    /// <summary>The request carried Authorization and the route does not allow caching those (section 3.5).</summary>
    Authorization,
    /// <summary>The response sets a cookie: one client's cookie must not be replayed to others.</summary>
    SetCookie,
    /// <summary>Vary: * (section 4.1: never matches a later request).</summary>
    VaryAll,
    /// <summary>The upstream varies on a header the route's `vary` does not key on.</summary>
    VaryNotKeyed,
    /// <summary>No positive freshness lifetime (max-age=0, or no ttl and no directive), or already stale.</summary>
    NotFresh,
    /// <summary>The body exceeds the cache's per-entry limit.</summary>
    TooLarge,
}

/// <summary>
/// A route's `cache = { ttl, vary, allow_authorization }`, compiled once: the default freshness lifetime
/// (upstream max-age and s-maxage override it) and the request headers the key varies on.
/// </summary>
internal sealed class CacheRoutePolicy
{
    public CacheRoutePolicy(TimeSpan ttl, IReadOnlyList<string> vary, bool allowAuthorization = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ttl, TimeSpan.Zero);
        Ttl = ttl;
        VaryNames = [.. vary.Select(name => Encoding.ASCII.GetBytes(name.Trim()))];
        AllowAuthorization = allowAuthorization;
    }

    public TimeSpan Ttl { get; }

    /// <summary>The header names whose values are part of the key, in order.</summary>
    public byte[][] VaryNames { get; }

    public bool AllowAuthorization { get; }

    /// <summary>
    /// Whether a request may be answered from (and fill) the cache: GET and HEAD only (RFC 9110 section
    /// 9.2.3 makes them the cacheable methods a gateway can key on without the body); no Authorization
    /// unless the route allows it; and not when the client asks for a fresh answer with Cache-Control
    /// no-cache or no-store (RFC 9111 sections 5.2.1.4 and 5.2.1.5).
    /// </summary>
    public bool ShouldUseCache(ReadOnlySpan<byte> method, bool hasAuthorization, ReadOnlySpan<byte> requestCacheControl = default)
    {
        if (!(method.SequenceEqual("GET"u8) || method.SequenceEqual("HEAD"u8)) || (hasAuthorization && !AllowAuthorization))
        {
            return false;
        }

        if (requestCacheControl.IsEmpty)
        {
            return true;
        }

        var directives = new CacheControl();
        directives.Add(requestCacheControl);
        return !directives.NoStore && !directives.NoCache;
    }

    /// <summary>Whether <paramref name="name"/> is one of the route's vary headers (case-insensitive).</summary>
    public bool IsKeyedOn(ReadOnlySpan<byte> name)
    {
        foreach (byte[] vary in VaryNames)
        {
            if (Ascii.EqualsIgnoreCase(vary, name))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The storage decision for a response head (RFC 9111 section 3) and its freshness lifetime:
    /// s-maxage, else max-age, else the route ttl (sections 4.2.1 and 5.2.2.10).
    /// </summary>
    public CacheStoreVerdict Evaluate(int status, in CacheControl directives, bool requestHadAuthorization, out TimeSpan lifetime)
    {
        lifetime = TimeSpan.Zero;
        if (!IsCacheableStatus(status))
        {
            return CacheStoreVerdict.StatusNotCacheable;
        }

        if (directives.NoStore)
        {
            return CacheStoreVerdict.NoStore;
        }

        if (directives.Private)
        {
            return CacheStoreVerdict.Private;
        }

        if (directives.NoCache)
        {
            return CacheStoreVerdict.NoCache;
        }

        if (requestHadAuthorization && !AllowAuthorization)
        {
            return CacheStoreVerdict.Authorization;
        }

        lifetime = directives.SharedMaxAge >= 0 ? TimeSpan.FromSeconds(directives.SharedMaxAge)
            : directives.MaxAge >= 0 ? TimeSpan.FromSeconds(directives.MaxAge)
            : Ttl;
        return lifetime > TimeSpan.Zero ? CacheStoreVerdict.Store : CacheStoreVerdict.NotFresh;
    }

    /// <summary>
    /// "Heuristically cacheable" status codes (RFC 9110 section 15.1), minus 206: ranges are not cached.
    /// </summary>
    public static bool IsCacheableStatus(int status) =>
        status is 200 or 203 or 204 or 300 or 301 or 308 or 404 or 405 or 410 or 414 or 501;
}
