namespace FastGate.Gateway.Configuration;

/// <summary>A value as the file wrote it, with the position of its key and of the value itself.</summary>
internal sealed record ConfigValue<T>(T Value, SourcePosition KeyPosition, SourcePosition Position);

/// <summary>
/// Reads the keys of one table with their types, and reports what is left: unknown keys (with the closest
/// known one), keys of features a later version implements, and keys never accepted.
/// </summary>
internal sealed class TableReader(TomlTableNode table, string context, ConfigErrorList errors)
{
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    public TomlTableNode Table { get; } = table;

    /// <summary>Where the table is, for messages: "[server]", "route 'users'".</summary>
    public string Context { get; } = context;

    public ConfigErrorList Errors { get; } = errors;

    /// <summary>Declares <paramref name="key"/> known and returns its entry, if present.</summary>
    public TomlEntry? Entry(string key)
    {
        _known.Add(key);
        return Table.Find(key);
    }

    public ConfigValue<string>? String(string key) =>
        Entry(key) is { } entry ? AsString(entry) : null;

    public ConfigValue<long>? Integer(string key)
    {
        if (Entry(key) is not { } entry)
        {
            return null;
        }
        if (entry.Value is TomlIntegerNode integer)
        {
            return new ConfigValue<long>(integer.Value, entry.KeyPosition, integer.Position);
        }
        WrongType(entry, "an integer");
        return null;
    }

    public ConfigValue<bool>? Boolean(string key)
    {
        if (Entry(key) is not { } entry)
        {
            return null;
        }
        if (entry.Value is TomlBooleanNode boolean)
        {
            return new ConfigValue<bool>(boolean.Value, entry.KeyPosition, boolean.Position);
        }
        WrongType(entry, "a boolean (true or false)");
        return null;
    }

    public ConfigValue<TimeSpan>? Duration(string key)
    {
        if (Entry(key) is not { } entry)
        {
            return null;
        }
        if (entry.Value is not TomlStringNode text)
        {
            WrongType(entry, "a duration string like \"5s\"");
            return null;
        }
        if (!DurationSyntax.TryParse(text.Value, out var duration))
        {
            Errors.Add(text.Position, $"invalid duration '{text.Value}' for '{key}': expected {DurationSyntax.Forms}");
            return null;
        }
        return new ConfigValue<TimeSpan>(duration, entry.KeyPosition, text.Position);
    }

    public ConfigValue<long>? Size(string key)
    {
        if (Entry(key) is not { } entry)
        {
            return null;
        }
        switch (entry.Value)
        {
            case TomlIntegerNode integer when integer.Value >= 0:
                return new ConfigValue<long>(integer.Value, entry.KeyPosition, integer.Position);
            case TomlStringNode text when SizeSyntax.TryParse(text.Value, out var bytes):
                return new ConfigValue<long>(bytes, entry.KeyPosition, text.Position);
            case TomlIntegerNode or TomlStringNode:
                var written = entry.Value is TomlStringNode s ? s.Value : ((TomlIntegerNode)entry.Value).Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
                Errors.Add(entry.Value.Position, $"invalid size '{written}' for '{key}': expected {SizeSyntax.Forms}");
                return null;
            default:
                WrongType(entry, "a size (an integer of bytes or a string like \"16KiB\")");
                return null;
        }
    }

    /// <summary>An array whose items are all strings; a wrong item is reported and left out.</summary>
    /// <param name="emptyMessage">the error for an empty array, or null when empty is fine</param>
    public ConfigValue<IReadOnlyList<ConfigValue<string>>>? StringArray(string key, string? emptyMessage = null)
    {
        if (Entry(key) is not { } entry)
        {
            return null;
        }
        if (entry.Value is not TomlArrayNode { IsTableArray: false } array)
        {
            WrongType(entry, "an array of strings");
            return null;
        }
        if (array.Items.Count == 0 && emptyMessage is not null)
        {
            Errors.Add(array.Position, emptyMessage);
        }
        var items = new List<ConfigValue<string>>(array.Items.Count);
        foreach (var item in array.Items)
        {
            if (item is TomlStringNode text)
            {
                items.Add(new ConfigValue<string>(text.Value, entry.KeyPosition, text.Position));
            }
            else
            {
                Errors.Add(item.Position, $"each item of '{key}' must be a string, not {item.TypeName}");
            }
        }
        return new ConfigValue<IReadOnlyList<ConfigValue<string>>>(items, entry.KeyPosition, array.Position);
    }

    /// <summary>A sub-table, as a <c>[a.b]</c> section, a dotted key or an inline table.</summary>
    public TomlTableNode? SubTable(string key, out TomlEntry entry)
    {
        entry = default;
        if (Entry(key) is not { } found)
        {
            return null;
        }
        entry = found;
        if (found.Value is TomlTableNode table)
        {
            return table;
        }
        WrongType(found, "a table");
        return null;
    }

    /// <summary>A key that is an error whenever present, never ignored: a feature of a later version, or a form never accepted.</summary>
    public void Reject(string key, string message)
    {
        if (Entry(key) is { } entry)
        {
            Errors.Add(entry.KeyPosition, message);
        }
    }

    public ConfigValue<string>? AsString(TomlEntry entry)
    {
        if (entry.Value is TomlStringNode text)
        {
            return new ConfigValue<string>(text.Value, entry.KeyPosition, text.Position);
        }
        WrongType(entry, "a string");
        return null;
    }

    /// <summary>Reports every key not declared through this reader; call after reading all known keys.</summary>
    public void ReportUnknownKeys()
    {
        foreach (var entry in Table.Entries)
        {
            if (!_known.Contains(entry.Key))
            {
                Errors.Add(entry.KeyPosition, $"unknown key '{entry.Key}' in {Context}{NameSuggestion.Hint(entry.Key, _known)}");
            }
        }
    }

    public void WrongType(TomlEntry entry, string expected) =>
        Errors.Add(entry.Value.Position, $"'{entry.Key}' must be {expected}, not {entry.Value.TypeName}");
}
