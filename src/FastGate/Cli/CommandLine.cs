using FastGate.Demo;
using FastGate.Gateway.Configuration;
using FastGate.Server;

namespace FastGate.Cli;

/// <summary>
/// <c>fastgate run --config FILE</c>, <c>fastgate validate --config FILE</c>, <c>fastgate demo</c>.
/// Exit codes: 0 ok, 1 bad configuration, 2 bad usage.
/// </summary>
internal static class CommandLine
{
    public const int Ok = 0;
    public const int BadConfiguration = 1;
    public const int BadUsage = 2;

    private const string Usage = """
        usage:
          fastgate run --config FILE       run the gateway on a route file
          fastgate --config FILE           the same
          fastgate validate --config FILE  check a route file; print every error as FILE:LINE:COL: message
          fastgate demo [--port N]         run the gateway in front of two built-in demo services
          fastgate --help | --version
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0)
        {
            await stderr.WriteLineAsync(Usage).ConfigureAwait(false);
            return BadUsage;
        }

        string verb = args[0].StartsWith('-') ? "run" : args[0];
        var options = args[0].StartsWith('-') ? args : args[1..];
        if (verb is "help" || options.Contains("--help") || options.Contains("-h"))
        {
            await stdout.WriteLineAsync(Usage).ConfigureAwait(false);
            return Ok;
        }

        if (options.Contains("--version"))
        {
            await stdout.WriteLineAsync("fastgate " + typeof(CommandLine).Assembly.GetName().Version).ConfigureAwait(false);
            return Ok;
        }

        switch (verb)
        {
            case "run":
            case "validate":
            {
                if (!TryGetOption(options, "--config", out var path, out var problem))
                {
                    await stderr.WriteLineAsync($"fastgate {verb}: {problem}\n{Usage}").ConfigureAwait(false);
                    return BadUsage;
                }

                if (!File.Exists(path))
                {
                    await stderr.WriteLineAsync($"{path}: no such file").ConfigureAwait(false);
                    return BadConfiguration;
                }

                var result = GatewayConfigLoader.LoadFile(path);
                foreach (var error in result.Errors)
                {
                    await stderr.WriteLineAsync(error.ToString()).ConfigureAwait(false);
                }

                if (result.Model is null)
                {
                    await stderr.WriteLineAsync($"{path}: {result.Errors.Count} error(s)").ConfigureAwait(false);
                    return BadConfiguration;
                }

                if (verb == "validate")
                {
                    await stdout.WriteLineAsync($"{path}: ok ({result.Model.Routes.Count} routes, {result.Model.Upstreams.Count} upstreams)").ConfigureAwait(false);
                    return Ok;
                }

                await using var host = GatewayHost.Create(result.Model);
                await host.StartAsync().ConfigureAwait(false);
                await stdout.WriteLineAsync($"fastgate: listening on {string.Join(", ", result.Model.Server.Listen)}").ConfigureAwait(false);
                await host.WaitForShutdownAsync().ConfigureAwait(false);
                return Ok;
            }

            case "demo":
            {
                int port = 8080;
                if (TryGetOption(options, "--port", out var text, out _) && (!int.TryParse(text, out port) || port is < 1 or > 65535))
                {
                    await stderr.WriteLineAsync("fastgate demo: --port takes a number from 1 to 65535").ConfigureAwait(false);
                    return BadUsage;
                }

                return await DemoCommand.RunAsync(port, stdout, stderr).ConfigureAwait(false);
            }

            default:
                await stderr.WriteLineAsync($"fastgate: unknown command '{verb}'\n{Usage}").ConfigureAwait(false);
                return BadUsage;
        }
    }

    private static bool TryGetOption(string[] options, string name, out string value, out string problem)
    {
        for (int i = 0; i < options.Length; i++)
        {
            if (options[i] == name)
            {
                if (i + 1 < options.Length)
                {
                    value = options[i + 1];
                    problem = "";
                    return true;
                }

                break;
            }

            if (options[i].StartsWith(name + "=", StringComparison.Ordinal))
            {
                value = options[i][(name.Length + 1)..];
                problem = "";
                return true;
            }
        }

        value = "";
        problem = $"{name} is required";
        return false;
    }
}
