using BenchmarkDotNet.Attributes;
using FastGate.Gateway.Routing;

namespace FastGate.Benchmarks.Routing;

[MemoryDiagnoser]
public class PathNormalizerBenchmarks
{
    private static readonly byte[] Clean = "/api/v1/users/12345/orders/2024-11-26/items.json"u8.ToArray();
    private static readonly byte[] Encoded = "/api/v1/users/%31%32%33/orders/a%2fb%20c/items.json"u8.ToArray();
    private static readonly byte[] DotSegments = "/api/v1/./users/12345/../12345/orders/2024-11-26/items.json"u8.ToArray();
    private readonly byte[] _destination = new byte[256];

    /// <summary>No '%' and no "/.": a scan and a copy.</summary>
    [Benchmark(Baseline = true)]
    public int CleanPath() => Normalize(Clean);

    [Benchmark]
    public int PercentEncoded() => Normalize(Encoded);

    [Benchmark]
    public int WithDotSegments() => Normalize(DotSegments);

    private int Normalize(byte[] path) => PathNormalizer.TryNormalize(path, _destination, out int written) ? written : -1;
}
