using System.Text;

namespace FastGate.Gateway.Observability;

/// <summary>
/// Counters on the hot path are plain Interlocked increments; formatting happens only when
/// <c>/metrics</c> is scraped.
/// </summary>
internal sealed class GatewayMetrics
{
    private long _requests;
    private long _connectionsAccepted;
    private long _activeConnections;
    private long _badRequests;
    private readonly long[] _responsesByClass = new long[6];
    private readonly long[] _authenticationFailures = new long[Enum.GetValues<Security.JwtValidationResult>().Length];
    private long _missingCredentials;
    private long _authorizationFailures;
    private long _rateLimited;
    private readonly long[] _upstreamFailures = new long[Enum.GetValues<Upstream.UpstreamFailure>().Length];

    public long Requests => Interlocked.Read(ref _requests);

    public long ActiveConnections => Interlocked.Read(ref _activeConnections);

    public void OnConnectionOpened()
    {
        Interlocked.Increment(ref _connectionsAccepted);
        Interlocked.Increment(ref _activeConnections);
    }

    public void OnConnectionClosed() => Interlocked.Decrement(ref _activeConnections);

    public void OnRequest() => Interlocked.Increment(ref _requests);

    public void OnBadRequest() => Interlocked.Increment(ref _badRequests);

    public void OnResponse(int statusCode)
    {
        int statusClass = statusCode / 100;
        Interlocked.Increment(ref _responsesByClass[statusClass is >= 1 and <= 5 ? statusClass : 0]);
    }

    public void OnAuthenticationFailure(Security.JwtValidationResult result, bool missing)
    {
        if (missing)
        {
            Interlocked.Increment(ref _missingCredentials);
        }
        else
        {
            Interlocked.Increment(ref _authenticationFailures[(int)result]);
        }
    }

    public void OnAuthorizationFailure() => Interlocked.Increment(ref _authorizationFailures);

    public void OnRateLimited() => Interlocked.Increment(ref _rateLimited);

    public void OnUpstreamFailure(Upstream.UpstreamFailure failure) => Interlocked.Increment(ref _upstreamFailures[(int)failure]);

    /// <summary>Prometheus text exposition format 0.0.4.</summary>
    public string Format()
    {
        var text = new StringBuilder(2048);
        Counter(text, "fastgate_requests_total", "Requests received.", Requests);
        Counter(text, "fastgate_connections_accepted_total", "Client connections accepted.", Interlocked.Read(ref _connectionsAccepted));
        Gauge(text, "fastgate_connections_active", "Client connections open.", ActiveConnections);
        Counter(text, "fastgate_bad_requests_total", "Malformed requests refused.", Interlocked.Read(ref _badRequests));
        text.Append("# HELP fastgate_responses_total Responses sent, by status class.\n# TYPE fastgate_responses_total counter\n");
        for (int i = 1; i <= 5; i++)
        {
            text.Append("fastgate_responses_total{class=\"").Append(i).Append("xx\"} ").Append(Interlocked.Read(ref _responsesByClass[i])).Append('\n');
        }

        text.Append("# HELP fastgate_upstream_failures_total Failed upstream exchanges, by step.\n# TYPE fastgate_upstream_failures_total counter\n");
        foreach (var failure in Enum.GetValues<Upstream.UpstreamFailure>())
        {
            if (failure != Upstream.UpstreamFailure.None)
            {
                text.Append("fastgate_upstream_failures_total{kind=\"").Append(failure).Append("\"} ").Append(Interlocked.Read(ref _upstreamFailures[(int)failure])).Append('\n');
            }
        }

        text.Append("# HELP fastgate_authentication_failures_total Requests refused with 401, by reason.\n# TYPE fastgate_authentication_failures_total counter\n");
        text.Append("fastgate_authentication_failures_total{reason=\"MissingCredentials\"} ").Append(Interlocked.Read(ref _missingCredentials)).Append('\n');
        foreach (var result in Enum.GetValues<Security.JwtValidationResult>())
        {
            if (result != Security.JwtValidationResult.Valid)
            {
                text.Append("fastgate_authentication_failures_total{reason=\"").Append(result).Append("\"} ").Append(Interlocked.Read(ref _authenticationFailures[(int)result])).Append('\n');
            }
        }

        Counter(text, "fastgate_authorization_failures_total", "Requests refused with 403 for missing scopes, roles or claims.", Interlocked.Read(ref _authorizationFailures));
        Counter(text, "fastgate_rate_limited_total", "Requests refused with 429.", Interlocked.Read(ref _rateLimited));
        Counter(text, "fastgate_allocated_bytes_total", "Bytes allocated by the process (GC.GetTotalAllocatedBytes).", GC.GetTotalAllocatedBytes(precise: false));
        text.Append("# HELP fastgate_gc_collections_total Garbage collections, by generation.\n# TYPE fastgate_gc_collections_total counter\n");
        for (int generation = 0; generation <= 2; generation++)
        {
            text.Append("fastgate_gc_collections_total{generation=\"").Append(generation).Append("\"} ").Append(GC.CollectionCount(generation)).Append('\n');
        }

        Gauge(text, "fastgate_gc_heap_bytes", "Bytes in the managed heap.", GC.GetTotalMemory(forceFullCollection: false));
        return text.ToString();
    }

    private static void Counter(StringBuilder text, string name, string help, long value) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(" counter\n").Append(name).Append(' ').Append(value).Append('\n');

    private static void Gauge(StringBuilder text, string name, string help, long value) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(" gauge\n").Append(name).Append(' ').Append(value).Append('\n');
}
