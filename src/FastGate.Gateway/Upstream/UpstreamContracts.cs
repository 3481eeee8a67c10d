// CONTRACT STUBS (written by the lead). The upstream helper implements these and may split them into
// files, keeping names and signatures.
#pragma warning disable CA1822 // stub bodies; removed when implemented
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using FastGate.Gateway.Model;

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

/// <summary>One pooled TCP connection to an endpoint, with its pipes (allocated once per connection).</summary>
internal sealed class UpstreamConnection : IAsyncDisposable
{
    public UpstreamConnection(Socket socket, EndpointState endpoint)
    {
        Socket = socket;
        Endpoint = endpoint;
        var stream = new NetworkStream(socket, ownsSocket: true);
        Input = PipeReader.Create(stream);
        Output = PipeWriter.Create(stream);
    }

    public Socket Socket { get; }
    public EndpointState Endpoint { get; }
    public PipeReader Input { get; }
    public PipeWriter Output { get; }

    /// <summary>True when this lease came from the idle set (a stale socket may fail: safe to retry).</summary>
    public bool IsReused { get; set; }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

internal readonly record struct LeaseResult(UpstreamConnection? Connection, UpstreamFailure Failure);

/// <summary>Bounded pool of keep-alive connections to one endpoint.</summary>
internal sealed class ConnectionPool
{
    /// <summary>An idle connection that passes the reuse check, or a new one (connect timeout applies).</summary>
    public ValueTask<LeaseResult> LeaseAsync(CancellationToken cancellationToken) => new(new LeaseResult(null, UpstreamFailure.ConnectRefused));

    /// <summary>Only after a clean exchange: response read to its end, keep-alive allowed, nothing stray.</summary>
    public void Return(UpstreamConnection connection)
    {
    }

    /// <summary>Closes the connection and frees its slot.</summary>
    public void Discard(UpstreamConnection connection)
    {
    }
}

/// <summary>Runtime state of one endpoint: pool, requests in flight, availability.</summary>
internal sealed class EndpointState
{
    public EndpointState(EndpointModel model) => Model = model;

    public EndpointModel Model { get; }

    public ConnectionPool Pool { get; } = new();

    /// <summary>Requests in flight (least_requests, p2c).</summary>
    public int ActiveRequests => 0;

    /// <summary>Healthy by the active check and not marked down by a refused connection.</summary>
    public bool IsAvailable => true;

    public void OnRequestStart()
    {
    }

    public void OnRequestEnd()
    {
    }

    /// <summary>Skip this endpoint for the upstream's mark-down period (it refused a connection).</summary>
    public void MarkDown()
    {
    }
}

/// <summary>What the hash balancer hashes: the client IP bytes or a header value.</summary>
internal readonly ref struct BalanceContext
{
    public BalanceContext(ReadOnlySpan<byte> hashKey) => HashKey = hashKey;

    public ReadOnlySpan<byte> HashKey { get; }
}

/// <summary>Runtime state of one upstream: its endpoints and balancer.</summary>
internal sealed class UpstreamState
{
    public UpstreamState(UpstreamModel model) => Model = model;

    public UpstreamModel Model { get; }

    /// <summary>An available endpoint by the upstream's balance mode, never <paramref name="exclude"/>; null when none.</summary>
    public EndpointState? Pick(in BalanceContext context, EndpointState? exclude) => null;
}

/// <summary>
/// Runtime upstream states for a model. On reload, endpoints that did not change keep their pools and
/// health. Owns the active health checkers and the idle-connection sweep.
/// </summary>
internal sealed class UpstreamRegistry : IAsyncDisposable
{
    /// <summary>The state for an upstream of the current model.</summary>
    public UpstreamState Get(UpstreamModel model) => new(model);

    /// <summary>Adopts a new model (first load or reload).</summary>
    public void Apply(GatewayModel model)
    {
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
