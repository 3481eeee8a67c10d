using System.Security.Cryptography;
using System.Text;
using FastGate.Gateway.Pipeline;
using FastGate.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace FastGate.Admin;

/// <summary>
/// The admin API on its own listener (DESIGN.md: Admin API). It is off the request path, so plain
/// ASP.NET endpoints serve it.
/// </summary>
internal static class AdminApi
{
    public static void Map(IEndpointRouteBuilder app, GatewayRuntime runtime)
    {
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", () => runtime.IsStopping
            ? Results.Text("stopping\n", statusCode: StatusCodes.Status503ServiceUnavailable)
            : Results.Text("ready\n"));
        app.MapGet("/metrics", () => Results.Text(runtime.Metrics.Format(), "text/plain; version=0.0.4"));
        app.MapGet("/routes", () => Results.Json(runtime.Model.Routes.Select(r => new
        {
            name = r.Name,
            host = r.Host,
            path = r.Path.Text,
            methods = r.Methods,
            action = r.Action.ToString().ToLowerInvariant(),
            upstream = r.Upstream?.Name,
            parts = r.Aggregate?.Parts.Select(p => new { key = p.Key, upstream = p.Upstream.Name, path = p.Path.Text, required = p.Required }),
            rewrite = r.Rewrite?.Text,
            timeout_ms = (long)r.Timeout.TotalMilliseconds,
            retries = r.Retries,
        })));
        app.MapGet("/upstreams", () => Results.Json(runtime.Model.Upstreams.Values.Select(u =>
        {
            var state = runtime.Upstreams.Get(u);
            return new
            {
                name = u.Name,
                balance = u.Balance.ToString(),
                endpoints = state.Endpoints.Select(e => new
                {
                    address = e.Model.Authority,
                    available = e.IsAvailable,
                    active_requests = e.ActiveRequests,
                    connections_opened = e.ConnectionsOpened,
                }),
            };
        })));
        app.MapPost("/reload", async (HttpContext context, ILoggerFactory loggers) =>
        {
            if (!IsAuthorized(context, runtime))
            {
                return Results.Problem(statusCode: 401, title: "Unauthorized", detail: "The admin bearer token is missing or wrong.");
            }

            var errors = await GatewayHost.ReloadAsync(runtime, loggers.CreateLogger("FastGate.Reload")).ConfigureAwait(false);
            return errors.Count == 0
                ? Results.Json(new { reloaded = true, routes = runtime.Model.Routes.Count })
                : Results.Json(new { reloaded = false, errors = errors.Select(e => e.ToString()) }, statusCode: 400);
        });
    }

    private static bool IsAuthorized(HttpContext context, GatewayRuntime runtime)
    {
        var variable = runtime.Model.Admin?.TokenEnv;
        var expected = variable is null ? null : Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrEmpty(expected))
        {
            // No token configured: mutating calls are refused rather than left open.
            return false;
        }

        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[7..]), Encoding.UTF8.GetBytes(expected));
    }
}
