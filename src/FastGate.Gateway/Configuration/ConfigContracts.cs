using FastGate.Gateway.Model;

namespace FastGate.Gateway.Configuration;

/// <summary>One problem in a route file, printed as <c>FILE:LINE:COL: message</c> (1-based line and column).</summary>
internal sealed record ConfigError(string File, int Line, int Column, string Message)
{
    public override string ToString() => $"{File}:{Line}:{Column}: {Message}";
}

internal sealed class ConfigLoadResult
{
    /// <summary>The compiled configuration; null when there is any error.</summary>
    public GatewayModel? Model { get; init; }

    /// <summary>Every problem found, ordered by position.</summary>
    public required IReadOnlyList<ConfigError> Errors { get; init; }
}

/// <summary>Route file -> TOML tree (Tomlyn) -> <see cref="GatewayConfig"/> -> <see cref="GatewayModel"/>.</summary>
internal static class GatewayConfigLoader
{
    /// <summary>Reads, validates and compiles a route file; every error at once.</summary>
    public static ConfigLoadResult LoadFile(string path)
    {
        string toml;
        try
        {
            toml = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return new ConfigLoadResult { Errors = [new ConfigError(path, 1, 1, $"cannot read the route file: {e.Message}")] };
        }
        return Load(toml, path, Path.GetDirectoryName(Path.GetFullPath(path)) ?? Directory.GetCurrentDirectory());
    }

    /// <param name="fileName">the name used in error messages</param>
    public static ConfigLoadResult LoadText(string toml, string fileName) =>
        Load(toml, fileName, Directory.GetCurrentDirectory());

    /// <param name="baseDirectory">what relative paths in the file resolve against</param>
    internal static ConfigLoadResult Load(string toml, string fileName, string baseDirectory)
    {
        var errors = new ConfigErrorList(fileName);
        GatewayModel? model = null;
        if (TomlTreeBuilder.Parse(toml, errors) is { } root)
        {
            var config = GatewayConfigBinder.Bind(root, baseDirectory, errors);
            model = new GatewayModelCompiler(config, errors).Compile();
        }
        return new ConfigLoadResult { Model = errors.Count == 0 ? model : null, Errors = errors.Sorted() };
    }
}
