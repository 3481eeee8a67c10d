using BenchmarkDotNet.Attributes;
using FastGate.Gateway.Model;
using FastGate.Gateway.Routing;

namespace FastGate.Benchmarks.Routing;

/// <summary>
/// RouteTable.Match over realistic API tables: per resource a collection, an item, a nested item, a literal
/// action and a catch-all for files. The probed resource is in the middle of the table.
/// </summary>
[MemoryDiagnoser]
public class RouteTableBenchmarks
{
    private static readonly UpstreamModel Upstream = new() { Name = "bench", Endpoints = [], Pool = new PoolModel() };

    private RouteTable _table = null!;
    private byte[] _literal = [];
    private byte[] _parameter = [];
    private byte[] _catchAll = [];
    private byte[] _miss = [];
    private byte[] _backtrackingMiss = [];

    [Params(10, 100, 1000)]
    public int Routes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var routes = new List<RouteModel>(Routes);
        for (int i = 0; i < Routes; i++)
        {
            int resource = i / 5;
            string template = (i % 5) switch
            {
                0 => $"/api/v1/res{resource}",
                1 => $"/api/v1/res{resource}/{{id}}",
                2 => $"/api/v1/res{resource}/{{id}}/items/{{item}}",
                3 => $"/api/v1/res{resource}/search",
                _ => $"/files/res{resource}/{{*path}}",
            };
            if (!PathTemplate.TryParse(template, out PathTemplate? path, out string? error, out _))
            {
                throw new InvalidOperationException(error);
            }

            routes.Add(new RouteModel { Name = $"r{i}", Order = i, Methods = i % 2 == 0 ? [] : ["GET", "POST"], Path = path, Upstream = Upstream });
        }

        _table = RouteTable.Build(routes, out _);
        int probe = Routes / 5 / 2;
        _literal = System.Text.Encoding.ASCII.GetBytes($"/api/v1/res{probe}/search");
        _parameter = System.Text.Encoding.ASCII.GetBytes($"/api/v1/res{probe}/12345/items/678");
        _catchAll = System.Text.Encoding.ASCII.GetBytes($"/files/res{probe}/2024/img/logo.png");
        _miss = System.Text.Encoding.ASCII.GetBytes("/api/v2/users/12345");
        _backtrackingMiss = System.Text.Encoding.ASCII.GetBytes($"/api/v1/res{probe}/12345/items");
    }

    [Benchmark(Baseline = true)]
    public int LiteralHit() => Match(_literal);

    [Benchmark]
    public int ParameterHit() => Match(_parameter);

    [Benchmark]
    public int CatchAllHit() => Match(_catchAll);

    [Benchmark]
    public int Miss() => Match(_miss);

    /// <summary>Walks down the literal and the parameter branch before it gives up.</summary>
    [Benchmark]
    public int BacktrackingMiss() => Match(_backtrackingMiss);

    private int Match(byte[] path)
    {
        RouteValues values = default;
        return (int)_table.Match("api.example.com:8080"u8, "GET"u8, path, ref values, out _) + values.Count;
    }
}
