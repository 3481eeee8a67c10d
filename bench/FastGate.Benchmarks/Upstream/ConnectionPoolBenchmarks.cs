using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using FastGate.Gateway.Model;
using FastGate.Gateway.Upstream;

namespace FastGate.Benchmarks.Upstream;

/// <summary>
/// The keep-alive steady state: lease a warm idle connection (with its reuse check: age and a zero-timeout
/// poll of the socket) and return it. A real loopback socket, so the poll is a real system call.
/// </summary>
[MemoryDiagnoser]
public class ConnectionPoolBenchmarks
{
    private TcpListener _listener = null!;
    private Socket _accepted = null!;
    private EndpointState _endpoint = null!;

    [GlobalSetup]
    public void Setup()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        var address = (IPEndPoint)_listener.LocalEndpoint;
        var model = new EndpointModel { Address = address, Authority = address.ToString() };
        _endpoint = new EndpointState(model, new UpstreamModel { Name = "bench", Endpoints = [model], Pool = new PoolModel() });
        var accept = _listener.AcceptSocketAsync();
        var lease = _endpoint.Pool.LeaseAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
        _accepted = accept.GetAwaiter().GetResult();
        _endpoint.Pool.Return(lease.Connection!);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _endpoint.Pool.Close();
        _accepted.Dispose();
        _listener.Stop();
    }

    [Benchmark(Baseline = true)]
    public bool LeaseAndReturnIdle()
    {
        var lease = _endpoint.Pool.LeaseAsync(CancellationToken.None);
        if (!lease.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("a warm idle connection must lease synchronously");
        }

        var connection = lease.Result.Connection!;
        _endpoint.Pool.Return(connection);
        return connection.IsReused;
    }
}
