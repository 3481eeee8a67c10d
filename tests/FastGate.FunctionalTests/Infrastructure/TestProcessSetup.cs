using System.Runtime.CompilerServices;

namespace FastGate.FunctionalTests.Infrastructure;

internal static class TestProcessSetup
{
    /// <summary>
    /// Many tests drive the gateway with blocking raw sockets (<see cref="RawConnection"/>), some of them
    /// several at once from thread-pool threads, while the gateway and its backends run on the same
    /// pool in this process. On a two-core machine the pool starts with two threads and adds about one
    /// per half second, so eight blocked clients starved the gateway for seconds (an upstream connect
    /// that had succeeded was reported as a connect timeout). Enough threads up front keep the timing
    /// of the test process, not of the gateway, out of the results.
    /// </summary>
    [ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "Test process setup, before any test runs.")]
    internal static void Initialize()
    {
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), Math.Max(io, 32));
    }
}
