using FastGate.Gateway.Model;
using FastGate.Gateway.Routing;
using static FastGate.Gateway.Tests.Routing.RoutingTestData;

namespace FastGate.Gateway.Tests.Routing;

public class RouteTableAllocationTests
{
    [Fact]
    public void Match_normalize_and_rewrite_allocate_nothing_after_warm_up()
    {
        RouteModel[] routes = [.. Enumerable.Range(0, 50).Select(i => Route($"r{i}", $"/api/v1/res{i}/{{id}}", order: i)),
            Route("files", "/files/{*rest}", host: "*.example.com", methods: ["GET"]),
            Route("post", "/api/v1/res0/{id}/items", methods: ["POST"])];
        RouteTable table = Table(routes);
        Assert.True(RewriteTemplate.TryCreate("/x/{id}?q={id}", routes[7].Path, out RewriteTemplate? rewrite, out _, out _));
        byte[] destination = new byte[128];
        long checksum = 0;

        void Run(int iterations)
        {
            for (int i = 0; i < iterations; i++)
            {
                RouteValues values = default;
                checksum += (int)table.Match("api.example.com:8080"u8, "GET"u8, "/api/v1/res7/123"u8, ref values, out RouteModel? route);
                checksum += rewrite.Write(destination, "/api/v1/res7/123"u8, values);
                checksum += (int)table.Match("a.example.com"u8, "GET"u8, "/files/a/b/c"u8, ref values, out route);
                checksum += (int)table.Match("a.example.com"u8, "GET"u8, "/api/v1/res0/1/items"u8, ref values, out route);
                checksum += table.WriteAllowedMethods("a.example.com"u8, "/api/v1/res0/1/items"u8, destination);
                checksum += (int)table.Match("a.example.com"u8, "GET"u8, "/nothing/here"u8, ref values, out route);
                PathNormalizer.TryNormalize("/api/v1/res7/123"u8, destination, out int written);
                PathNormalizer.TryNormalize("/api/%76%31/./x/../res7"u8, destination, out written);
                checksum += written;
            }
        }

        Run(1_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(10_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.NotEqual(0, checksum);
    }
}
