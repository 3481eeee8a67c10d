using System.Text;
using FastGate.Gateway.Model;
using FastGate.Gateway.Routing;

namespace FastGate.Gateway.Tests.Routing;

internal static class RoutingTestData
{
    public static readonly UpstreamModel Upstream = new() { Name = "dummy", Endpoints = [], Pool = new PoolModel() };

    public static PathTemplate Template(string text)
    {
        Assert.True(PathTemplate.TryParse(text, out PathTemplate? template, out string? error, out int offset), $"{text}: {error} at {offset}");
        return template;
    }

    public static RouteModel Route(string name, string path, string? host = null, string[]? methods = null, int order = 0) => new()
    {
        Name = name,
        Order = order,
        Host = host,
        Methods = methods ?? [],
        Path = Template(path),
        Upstream = Upstream,
    };

    /// <summary>Builds a table and checks that it has no conflicts; routes get their list position as Order.</summary>
    public static RouteTable Table(params RouteModel[] routes)
    {
        RouteTable table = RouteTable.Build(routes, out IReadOnlyList<RouteConflict> conflicts);
        Assert.Empty(conflicts);
        return table;
    }

    public static (RouteMatchStatus Status, string? Name, RouteValues Values) Match(RouteTable table, string path, string method = "GET", string host = "example.com")
    {
        RouteValues values = default;
        RouteMatchStatus status = table.Match(Encoding.ASCII.GetBytes(host), Encoding.ASCII.GetBytes(method), Encoding.ASCII.GetBytes(path), ref values, out RouteModel? route);
        Assert.Equal(status == RouteMatchStatus.Matched, route is not null);
        return (status, route?.Name, values);
    }

    /// <summary>The captured values as strings, in template order.</summary>
    public static string[] Values(in RouteValues values, string path)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(path);
        var result = new string[values.Count];
        for (int i = 0; i < values.Count; i++)
        {
            result[i] = Encoding.ASCII.GetString(values.GetValue(bytes, i));
        }

        return result;
    }
}
