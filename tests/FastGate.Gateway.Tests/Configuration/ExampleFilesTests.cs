using FastGate.Gateway.Configuration;

namespace FastGate.Gateway.Tests.Configuration;

public class ExampleFilesTests
{
    public static TheoryData<string> ExampleFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(RepositoryRoot(), "examples"), "*.toml").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }
        return data;
    }

    [Fact]
    public void There_are_examples()
    {
        Assert.Contains("basic.toml", ExampleFiles());
        Assert.Contains("loadbalancing.toml", ExampleFiles());
        Assert.Contains("security.toml", ExampleFiles());
        Assert.Contains("composition.toml", ExampleFiles());
    }

    [Theory]
    [MemberData(nameof(ExampleFiles))]
    public void Example_loads_without_errors(string file)
    {
        var path = Path.Combine(RepositoryRoot(), "examples", file);
        var result = GatewayConfigLoader.LoadFile(path);
        Assert.Equal([], result.Errors.Select(error => error.ToString()));
        Assert.NotNull(result.Model);
        Assert.Equal(path, result.Model.SourcePath);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "FastGate.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException($"no FastGate.sln above {AppContext.BaseDirectory}");
    }
}
