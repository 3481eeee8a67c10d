using FastGate.Gateway.Configuration;

namespace FastGate.Gateway.Tests.Configuration;

internal static class ConfigTestFiles
{
    public const string FileName = "routes.toml";

    /// <summary>Every error of <paramref name="toml"/> as printed by <c>fastgate validate</c>.</summary>
    public static string[] Errors(string toml)
    {
        var result = GatewayConfigLoader.LoadText(toml, FileName);
        var errors = result.Errors.Select(error => error.ToString()).ToArray();
        Assert.Equal(errors.Length == 0, result.Model is not null);
        return errors;
    }

    /// <summary>The single error of <paramref name="toml"/>.</summary>
    public static string Error(string toml) => Assert.Single(Errors(toml));

    /// <summary>A valid upstream and route, to put an error of another section in an otherwise good file.</summary>
    public const string ValidUpstreamAndRoute = """
        [upstreams.users]
        endpoints = ["127.0.0.1:9001"]

        [[routes]]
        name = "users"
        match = { path = "/users/{id}" }
        upstream = "users"
        """;
}
