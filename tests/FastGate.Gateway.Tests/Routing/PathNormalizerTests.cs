using System.Text;
using FastGate.Gateway.Routing;

namespace FastGate.Gateway.Tests.Routing;

public class PathNormalizerTests
{
    private static string? Normalize(string raw)
    {
        byte[] input = Encoding.Latin1.GetBytes(raw);
        var destination = new byte[input.Length];
        if (!PathNormalizer.TryNormalize(input, destination, out int written))
        {
            return null;
        }

        Assert.InRange(written, 1, input.Length);
        return Encoding.Latin1.GetString(destination, 0, written);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/api/users/42")]
    [InlineData("/api/users/")]
    [InlineData("/file.txt")]
    [InlineData("/a/.hidden/b..c/...")]
    [InlineData("/a//b")]
    [InlineData("//")]
    [InlineData("/a:b@c!$&'()*+,;=")]
    public void Clean_paths_are_copied_as_they_are(string path) => Assert.Equal(path, Normalize(path));

    [Theory]
    [InlineData("/%41%42%43", "/ABC")]
    [InlineData("/%61%7a%30%39", "/az09")]
    [InlineData("/%2D%2e%5F%7E", "/-._~")]
    [InlineData("/a%20b", "/a%20b")]
    [InlineData("/a%2fb", "/a%2Fb")]
    [InlineData("/a%5cb", "/a%5Cb")]
    [InlineData("/%c3%a9", "/%C3%A9")]
    [InlineData("/%25", "/%25")]
    [InlineData("/%2541", "/%2541")]
    [InlineData("/%3a%3A", "/%3A%3A")]
    [InlineData("/long-run-%7e-tail/x%2e", "/long-run-~-tail/x.")]
    [InlineData("/a%41", "/aA")]
    public void Decodes_unreserved_and_uppercases_other_percent_encodings(string raw, string expected) =>
        Assert.Equal(expected, Normalize(raw));

    [Theory]
    [InlineData("/%")]
    [InlineData("/%4")]
    [InlineData("/%4/")]
    [InlineData("/%G0")]
    [InlineData("/%0G")]
    [InlineData("/a%%41")]
    [InlineData("/%00")]
    [InlineData("/a\0b")]
    [InlineData("/x%41/y\0")]
    [InlineData("/x%41/y\\")]
    [InlineData("/a\\..\\admin")]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("*")]
    public void Rejects_invalid_input(string raw) => Assert.Null(Normalize(raw));

    [Theory]
    [InlineData("/a/./b", "/a/b")]
    [InlineData("/a/.", "/a/")]
    [InlineData("/./a", "/a")]
    [InlineData("/.", "/")]
    [InlineData("/a/b/../c", "/a/c")]
    [InlineData("/a/b/..", "/a/")]
    [InlineData("/a/..", "/")]
    [InlineData("/a/b/../../c", "/c")]
    [InlineData("/a//..", "/a/")]
    [InlineData("/a/%2e/b", "/a/b")]
    [InlineData("/a/b/%2E%2e/c", "/a/c")]
    [InlineData("/a/./../b/./c/.", "/b/c/")]
    public void Removes_dot_segments(string raw, string expected) => Assert.Equal(expected, Normalize(raw));

    [Theory]
    [InlineData("/api/../admin", "/admin")]
    [InlineData("/api/%2e%2e/admin", "/admin")]
    [InlineData("/api/.%2E/admin", "/admin")]
    [InlineData("/api/%2E./admin", "/admin")]
    [InlineData("/api/%2F..", "/api/%2F..")]
    [InlineData("/api/..%2Fadmin", "/api/..%2Fadmin")]
    [InlineData("/api/..%2fadmin", "/api/..%2Fadmin")]
    [InlineData("/api/a%2F..%2Fadmin", "/api/a%2F..%2Fadmin")]
    [InlineData("/api/..%5Cadmin", "/api/..%5Cadmin")]
    public void Prefix_escape_attempts_leave_the_prefix_visibly_or_stay_one_segment(string raw, string expected) =>
        Assert.Equal(expected, Normalize(raw));

    [Theory]
    [InlineData("/..")]
    [InlineData("/../a")]
    [InlineData("/%2e%2e")]
    [InlineData("/.%2e/etc/passwd")]
    [InlineData("/a/../..")]
    [InlineData("/a/b/../../..")]
    [InlineData("/./..")]
    [InlineData("/api/../../admin")]
    public void Rejects_climbing_above_the_root(string raw) => Assert.Null(Normalize(raw));

    [Theory]
    [InlineData("/api/%7euser/./docs/../%2e%2E/x%2fy", "/api/x%2Fy")]
    [InlineData("/clean/path", "/clean/path")]
    public void Normalizes_in_place(string raw, string expected)
    {
        byte[] buffer = Encoding.ASCII.GetBytes(raw);
        Assert.True(PathNormalizer.TryNormalize(buffer, buffer, out int written));
        Assert.Equal(expected, Encoding.ASCII.GetString(buffer, 0, written));
    }

    [Fact]
    public void Rejects_a_destination_shorter_than_the_input()
    {
        Assert.False(PathNormalizer.TryNormalize("/a/b"u8, new byte[3], out int written));
        Assert.Equal(0, written);
    }

    [Fact]
    public void Normalized_paths_route_as_their_prefix_shows()
    {
        // The route "/api/{*rest}" must never see a path that leaves "/api".
        RouteTable table = RoutingTestData.Table(RoutingTestData.Route("api", "/api/{*rest}"), RoutingTestData.Route("admin", "/admin"));
        Assert.Equal("admin", RoutingTestData.Match(table, Normalize("/api/%2e%2e/admin")!).Name);
        Assert.Equal("api", RoutingTestData.Match(table, Normalize("/api/..%2Fadmin")!).Name);
    }
}
