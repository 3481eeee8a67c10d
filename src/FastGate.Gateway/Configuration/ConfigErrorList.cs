namespace FastGate.Gateway.Configuration;

/// <summary>Collects every problem of one route file; <see cref="Sorted"/> orders them by position.</summary>
internal sealed class ConfigErrorList(string file)
{
    private readonly List<ConfigError> _errors = [];

    public string File { get; } = file;

    public int Count => _errors.Count;

    public void Add(SourcePosition position, string message) =>
        _errors.Add(new ConfigError(File, position.Line, position.Column, message));

    /// <summary>By line, then column; errors at the same position keep the order they were found in.</summary>
    public IReadOnlyList<ConfigError> Sorted()
    {
        var sorted = new List<ConfigError>(_errors.Count);
        foreach (var error in _errors)
        {
            if (!sorted.Contains(error))
            {
                sorted.Add(error);
            }
        }
        // List.Sort is unstable; the index breaks ties so the discovery order stays.
        var indexed = sorted.Select((error, index) => (error, index)).ToList();
        indexed.Sort((a, b) =>
        {
            var byPosition = new SourcePosition(a.error.Line, a.error.Column).CompareTo(new SourcePosition(b.error.Line, b.error.Column));
            return byPosition != 0 ? byPosition : a.index.CompareTo(b.index);
        });
        return indexed.ConvertAll(item => item.error);
    }
}
