using FastGate.Gateway.Pipeline;

namespace FastGate.Gateway.Server;

/// <summary>
/// The objects an HTTP/1.1 connection needs only while it handles a request: the parsed head, the
/// upstream's response head, the request phases, the forwarder, the cache step and the request id.
/// A connection rents them when a head begins and returns them when its answer is done, so a
/// keep-alive connection waiting for its next request holds none of them (about 740 B of every idle
/// connection before, perf-results/2026-11-26_idle-connections.md), as nginx frees a request's pool
/// between the requests of a connection.
/// </summary>
/// <remarks>
/// The pool is per thread: over epoll a connection runs on one loop thread from accept to close, so
/// a request rents and returns on that thread without any interlocked operation. Over the sockets
/// transport continuations move between threads; each thread's stack is bounded, so what one thread
/// returns in excess is dropped, never hoarded. States remember the runtime they were made for
/// (tests run several gateways in one process), and a state of another runtime is not reused.
/// </remarks>
internal sealed class Http1RequestState
{
    /// <summary>States kept per thread: enough for every request in flight on a loop at the load
    /// scenarios' concurrency, small enough that 10,000 idle connections leave little behind.</summary>
    private const int PoolSizePerThread = 256;

    [ThreadStatic]
    private static Http1RequestState[]? t_pool;

    [ThreadStatic]
    private static int t_pooled;

    private Http1RequestState(GatewayRuntime runtime)
    {
        Runtime = runtime;
        Phases = new RequestPhases(runtime);
        Forwarder = new UpstreamForwarder(runtime);
    }

    public GatewayRuntime Runtime { get; }

    public RequestHead Request { get; } = new();

    public Upstream.ResponseHead Response { get; } = new();

    public RequestPhases Phases { get; }

    public UpstreamForwarder Forwarder { get; }

    public RequestCache Cache { get; } = new();

    /// <summary>A request to proxy: the model it started with, its route and captured values (set by the
    /// connection between the request's admission and its forward; the next request overwrites them).</summary>
    public Model.GatewayModel? ProxyModel { get; set; }

    public Model.RouteModel? ProxyRoute { get; set; }

    public Routing.RouteValues ProxyValues;

    /// <summary>The request's X-Request-Id: the client's when it is sane, else one made here (128 bytes at most).</summary>
    public byte[] RequestId { get; } = new byte[128];

    /// <summary>A state for one request of <paramref name="runtime"/>, from this thread's pool when it has one.</summary>
    public static Http1RequestState Rent(GatewayRuntime runtime)
    {
        var pool = t_pool;
        while (pool is not null && t_pooled > 0)
        {
            int last = --t_pooled;
            var state = pool[last];
            pool[last] = null!;
            if (ReferenceEquals(state.Runtime, runtime))
            {
                return state;
            }

            state.Drop();
        }

        return new Http1RequestState(runtime);
    }

    /// <summary>
    /// Takes back a state whose request is done. On an epoll loop thread a pooled state keeps its head
    /// buffers of the initial size for the next request (they are the pool's memory, not an idle
    /// connection's, and a rent and return of each per request cost time); on other threads, which
    /// the sockets transport's requests hop between, every thread's pool would keep its own, so the
    /// buffers go back. A state dropped because this thread's pool is full gives them back too.
    /// </summary>
    public static void Return(Http1RequestState state)
    {
        // A pooled state must not keep a reloaded-away model alive.
        state.ProxyModel = null;
        state.ProxyRoute = null;
        var pool = t_pool ??= new Http1RequestState[PoolSizePerThread];
        if (t_pooled < pool.Length)
        {
            if (Transport.EpollLoop.Current is not null)
            {
                state.Request.Recycle();
                state.Response.Recycle();
            }
            else
            {
                state.Request.Release();
                state.Response.Release();
            }

            pool[t_pooled++] = state;
            return;
        }

        state.Drop();
    }

    private void Drop()
    {
        Request.Release();
        Response.Release();
        Forwarder.Dispose();
    }
}
