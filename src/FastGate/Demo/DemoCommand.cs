using System.Reflection;
using FastGate.Gateway.Configuration;
using FastGate.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FastGate.Demo;

/// <summary>
/// <c>fastgate demo</c>: two small services (users, with two instances, and orders) on loopback
/// ports the OS picks, and the gateway in front of them on an embedded route file.
/// </summary>
internal static class DemoCommand
{
    public static async Task<int> RunAsync(int port, TextWriter stdout, TextWriter stderr)
    {
        await using var usersA = await StartServiceAsync(app => MapUsers(app, "users-a")).ConfigureAwait(false);
        await using var usersB = await StartServiceAsync(app => MapUsers(app, "users-b")).ConfigureAwait(false);
        await using var orders = await StartServiceAsync(MapOrders).ConfigureAwait(false);

        var toml = LoadRouteFileTemplate()
            .Replace("{port}", port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{admin}", (port + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{users_a}", PortOf(usersA), StringComparison.Ordinal)
            .Replace("{users_b}", PortOf(usersB), StringComparison.Ordinal)
            .Replace("{orders}", PortOf(orders), StringComparison.Ordinal);
        var result = GatewayConfigLoader.LoadText(toml, "demo.toml");
        if (result.Model is null)
        {
            foreach (var error in result.Errors)
            {
                await stderr.WriteLineAsync(error.ToString()).ConfigureAwait(false);
            }

            return 1;
        }

        await using var gateway = GatewayHost.Create(result.Model);
        try
        {
            await gateway.StartAsync().ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            await stderr.WriteLineAsync($"fastgate demo: cannot listen on 127.0.0.1:{port} ({ex.Message}); try --port N").ConfigureAwait(false);
            return 1;
        }

        string g = $"http://127.0.0.1:{port}";
        await stdout.WriteLineAsync($$"""
            FastGate demo: the gateway listens on {{g}}, the admin API on http://127.0.0.1:{{port + 1}}.
            Behind it: users (two instances, round robin) and orders. Try:

              curl -i {{g}}/api/users/42                      # proxied to /users/42, alternating instances
              curl -i {{g}}/api/users                         # the list
              curl -i -X POST {{g}}/api/users -H 'Content-Type: application/json' -d '{"name":"Ada"}'
              curl -i {{g}}/api/orders/7                      # proxied to the orders service
              curl -i {{g}}/api/orders/slow                   # the service takes 3 s, the route allows 1 s: 504
              curl -s {{g}}/api/profile/42                    # aggregate: user + order merged, the slow part null
              curl -s {{g}}/api/batch -d '[{"method":"GET","path":"/api/users/1"},{"method":"GET","path":"/nowhere"}]'
              curl -i {{g}}/nowhere                           # no route: 404 problem+json
              curl -i -X DELETE {{g}}/api/users/42            # method not allowed: 405
              curl -i '{{g}}/api/users/..%2F..%2Fadmin'       # stays inside the route: never escapes
              curl -s http://127.0.0.1:{{port + 1}}/metrics    # Prometheus metrics
              curl -s http://127.0.0.1:{{port + 1}}/upstreams  # endpoints and their state

            Ctrl-C stops the demo.
            """).ConfigureAwait(false);
        await gateway.WaitForShutdownAsync().ConfigureAwait(false);
        return 0;
    }

    private static string LoadRouteFileTemplate()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("FastGate.Demo.demo.toml")
            ?? throw new InvalidOperationException("the demo route file is not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static string PortOf(WebApplication app)
    {
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Uri(address).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<WebApplication> StartServiceAsync(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        map(app);
        await app.StartAsync().ConfigureAwait(false);
        return app;
    }

    private static void MapUsers(WebApplication app, string instance)
    {
        app.MapGet("/healthz", () => "ok");
        app.MapGet("/users", () => Results.Json(new[]
        {
            new { id = 1, name = "Ada Lovelace" },
            new { id = 2, name = "Alan Turing" },
        }));
        app.MapGet("/users/{id}", (string id, HttpRequest request) => Results.Json(new
        {
            id,
            name = $"User {id}",
            served_by = instance,
            forwarded_for = request.Headers["X-Forwarded-For"].ToString(),
            request_id = request.Headers["X-Request-Id"].ToString(),
        }));
        app.MapPost("/users", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            var body = await reader.ReadToEndAsync().ConfigureAwait(false);
            return Results.Json(new { created = true, served_by = instance, received = body }, statusCode: 201);
        });
    }

    private static void MapOrders(WebApplication app)
    {
        app.MapGet("/healthz", () => "ok");
        app.MapGet("/orders/slow", async () =>
        {
            await Task.Delay(3000).ConfigureAwait(false);
            return Results.Json(new { late = true });
        });
        app.MapGet("/orders/{id}", (string id) => Results.Json(new { id, item = "tea", quantity = 2 }));
    }
}
