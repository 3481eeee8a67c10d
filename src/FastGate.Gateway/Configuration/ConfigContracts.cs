// CONTRACT STUBS (written by the lead). The configuration helper implements these.
using FastGate.Gateway.Model;

namespace FastGate.Gateway.Configuration;

/// <summary>One problem in a route file, printed as <c>FILE:LINE:COL: message</c> (1-based line and column).</summary>
internal sealed record ConfigError(string File, int Line, int Column, string Message)
{
    public override string ToString() => $"{File}:{Line}:{Column}: {Message}";
}

internal sealed class ConfigLoadResult
{
    public GatewayModel? Model { get; init; }
    public required IReadOnlyList<ConfigError> Errors { get; init; }
}

internal static class GatewayConfigLoader
{
    /// <summary>Reads, validates and compiles a route file; every error at once.</summary>
    public static ConfigLoadResult LoadFile(string path) => LoadText(File.ReadAllText(path), path);

    /// <param name="fileName">the name used in error messages</param>
    public static ConfigLoadResult LoadText(string toml, string fileName) =>
        new() { Errors = [new ConfigError(fileName, 1, 1, "not implemented")] };
}
