namespace FastGate.Gateway.Upstream;

/// <summary>Which step of an upstream exchange failed; drives retries and the 502/503/504 mapping.</summary>
internal enum UpstreamFailure : byte
{
    None,
    /// <summary>Connection refused or reset while connecting.</summary>
    ConnectRefused,
    ConnectTimeout,
    /// <summary>The pool is at max_connections and none came free in time.</summary>
    PoolExhausted,
    /// <summary>No endpoint is healthy (503).</summary>
    NoHealthyEndpoint,
    /// <summary>The connection failed while the request was written.</summary>
    RequestWriteFailed,
    /// <summary>The upstream closed or reset before a complete response head.</summary>
    ResponseHeadFailed,
    /// <summary>The upstream's answer is malformed (502).</summary>
    MalformedResponse,
    /// <summary>The route timeout passed (504).</summary>
    Timeout,
    /// <summary>The response body was cut short.</summary>
    ResponseBodyFailed,
}
