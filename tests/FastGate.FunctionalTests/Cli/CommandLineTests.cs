using System.Diagnostics;
using System.Net.Sockets;
using FastGate.Cli;
using FastGate.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FastGate.FunctionalTests.Cli;

public sealed class CommandLineTests
{
    private static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int exit = await CommandLine.RunAsync(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private static string TempFile(string text)
    {
        var path = Path.Combine(Path.GetTempPath(), $"fastgate-{Guid.NewGuid():N}.toml");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task Validate_accepts_a_good_file()
    {
        var path = TempFile("""
            [upstreams.a]
            endpoints = ["127.0.0.1:9001"]

            [[routes]]
            name = "r"
            match = { path = "/x/{id}" }
            upstream = "a"
            """);

        var (exit, stdout, stderr) = await RunAsync("validate", "--config", path);

        Assert.Equal(0, exit);
        Assert.Equal($"{path}: ok (1 routes, 1 upstreams)", stdout.Trim());
        Assert.Equal("", stderr);
    }

    [Fact]
    public async Task Validate_reports_every_error_with_its_position_and_exits_1()
    {
        var path = TempFile("""
            [upstreams.orders]
            endpoints = ["127.0.0.1:9001"]
            balanse = "p2c"

            [[routes]]
            name = "r"
            match = { path = "/x/{id" }
            upstream = "order"
            """);

        var (exit, _, stderr) = await RunAsync("validate", "--config", path);

        Assert.Equal(1, exit);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.StartsWith($"{path}:3:1: unknown key 'balanse' in [upstreams.orders] (did you mean 'balance'?)", lines[0], StringComparison.Ordinal);
        Assert.StartsWith($"{path}:7:", lines[1], StringComparison.Ordinal);
        Assert.Equal($"{path}:8:12: route 'r' names upstream 'order' which is not defined (did you mean 'orders'?)", lines[2]);
        Assert.Equal($"{path}: 3 error(s)", lines[3]);
    }

    [Theory]
    [InlineData("run")]
    [InlineData("validate")]
    [InlineData("frobnicate")]
    public async Task Bad_usage_exits_2(string verb)
    {
        var (exit, _, stderr) = await RunAsync(verb);

        Assert.Equal(2, exit);
        Assert.Contains("usage:", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_drains_in_flight_requests_and_exits_0()
    {
        await using var backend = await TestBackend.StartAsync(app =>
        {
            app.MapGet("/slow", async () =>
            {
                await Task.Delay(1500);
                return Results.Text("done");
            });
            app.MapGet("/fast", () => Results.Text("fast"));
        });
        int port = TestGateway.FreePort();
        var path = TempFile($$"""
            [server]
            listen = ["127.0.0.1:{{port}}"]

            [upstreams.slow]
            endpoints = ["{{backend.Address}}"]

            [[routes]]
            name = "all"
            match = { path = "/{*rest}" }
            upstream = "slow"
            timeout = "10s"
            """);
        var gatewayDll = Path.Combine(AppContext.BaseDirectory, "fastgate.dll");
        using var process = Process.Start(new ProcessStartInfo("dotnet", ["exec", gatewayDll, "run", "--config", path])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        try
        {
            await WaitForListenerAsync(port);
            using var connection = RawConnection.Open(port);
            using var idle = RawConnection.Open(port);
            using var keptAlive = RawConnection.Open(port);
            keptAlive.Send("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.Equal("fast", keptAlive.ReadResponse().BodyText);
            connection.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
            await Task.Delay(400);

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            var response = connection.ReadResponse();
            Assert.Equal(200, response.Status);
            Assert.Equal("done", response.BodyText);
            Assert.Equal("close", response.Header("Connection"));
            Assert.True(idle.IsClosedByPeer(), "a connection that has not sent a byte is closed by the drain");
            Assert.True(keptAlive.IsClosedByPeer(), "an idle keep-alive connection is closed by the drain");
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await process.WaitForExitAsync(exit.Token);
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }

    private static async Task WaitForListenerAsync(int port)
    {
        for (int i = 0; i < 200; i++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        throw new TimeoutException("the gateway did not start listening");
    }
}
