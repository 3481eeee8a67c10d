using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace FastGate.Gateway.Configuration;

/// <summary>A 1-based line and column in the route file.</summary>
internal readonly record struct SourcePosition(int Line, int Column) : IComparable<SourcePosition>
{
    public int CompareTo(SourcePosition other) =>
        Line != other.Line ? Line.CompareTo(other.Line) : Column.CompareTo(other.Column);

    public static SourcePosition From(SourceSpan span) => new(span.Start.Line + 1, span.Start.Column + 1);
}

// A plain tree over Tomlyn's syntax tree: tables merged from headers, dotted keys and inline tables, each
// key and value with its position. Tomlyn's syntax tree keeps the file's layout ([a.b] headers, dotted
// keys, [[x]] arrays) while validation wants the logical document, with positions kept.

internal abstract class TomlNode(SourcePosition position)
{
    public SourcePosition Position { get; } = position;

    /// <summary>The TOML type name used in messages ("a string", "an integer").</summary>
    public abstract string TypeName { get; }
}

internal sealed class TomlStringNode(SourcePosition position, string value) : TomlNode(position)
{
    public string Value { get; } = value;

    public override string TypeName => "a string";
}

internal sealed class TomlIntegerNode(SourcePosition position, long value) : TomlNode(position)
{
    public long Value { get; } = value;

    public override string TypeName => "an integer";
}

internal sealed class TomlBooleanNode(SourcePosition position, bool value) : TomlNode(position)
{
    public bool Value { get; } = value;

    public override string TypeName => "a boolean";
}

/// <summary>A float or date-time: no key of the route file takes one, so only its type is kept.</summary>
internal sealed class TomlOtherNode(SourcePosition position, string typeName) : TomlNode(position)
{
    public override string TypeName { get; } = typeName;
}

internal sealed class TomlArrayNode(SourcePosition position, bool isTableArray) : TomlNode(position)
{
    public List<TomlNode> Items { get; } = [];

    /// <summary>Made of <c>[[name]]</c> sections rather than written as <c>[ ... ]</c>.</summary>
    public bool IsTableArray { get; } = isTableArray;

    public override string TypeName => IsTableArray ? "an array of tables" : "an array";
}

internal readonly record struct TomlEntry(string Key, SourcePosition KeyPosition, TomlNode Value);

internal sealed class TomlTableNode(SourcePosition position) : TomlNode(position)
{
    /// <summary>Entries in the order they first appear in the file.</summary>
    public List<TomlEntry> Entries { get; } = [];

    public override string TypeName => "a table";

    public TomlEntry? Find(string key)
    {
        foreach (var entry in Entries)
        {
            if (entry.Key == key)
            {
                return entry;
            }
        }
        return null;
    }
}

internal static class TomlTreeBuilder
{
    /// <summary>
    /// Parses <paramref name="toml"/>. On a syntax or structure error (duplicate key, table defined twice)
    /// returns null and adds Tomlyn's diagnostics to <paramref name="errors"/>: a broken tree is not validated further.
    /// </summary>
    public static TomlTableNode? Parse(string toml, ConfigErrorList errors)
    {
        var document = SyntaxParser.Parse(toml, errors.File, validate: true);
        if (document.HasErrors)
        {
            ReportDiagnostics(document.Diagnostics, errors);
            return null;
        }

        var root = new TomlTableNode(new SourcePosition(1, 1));
        foreach (var keyValue in document.KeyValues)
        {
            AddKeyValue(root, keyValue);
        }
        foreach (var table in document.Tables)
        {
            AddTable(root, table);
        }
        return root;
    }

    private static void ReportDiagnostics(DiagnosticsBag diagnostics, ConfigErrorList errors)
    {
        // One recovery error usually drags a few more along on the same line ("expecting newline",
        // "unexpected token"); the first one of a line is the one that explains it.
        var lastLine = -1;
        foreach (var diagnostic in diagnostics)
        {
            if (diagnostic.Kind != DiagnosticMessageKind.Error)
            {
                continue;
            }
            var position = SourcePosition.From(diagnostic.Span);
            if (position.Line == lastLine)
            {
                continue;
            }
            lastLine = position.Line;
            errors.Add(position, CleanMessage(diagnostic.Message));
        }
    }

    /// <summary>Drops the echo of the earlier definition that Tomlyn quotes with its line breaks as '␤'.</summary>
    private static string CleanMessage(string message)
    {
        const string marker = " with `";
        var start = message.IndexOf(marker, StringComparison.Ordinal);
        if (start < 0 || !message.Contains("already defined", StringComparison.Ordinal))
        {
            return message;
        }
        var end = message.IndexOf("` ", start + marker.Length, StringComparison.Ordinal);
        return end < 0 ? message : string.Concat(message.AsSpan(0, start), message.AsSpan(end + 1));
    }

    private static void AddTable(TomlTableNode root, TableSyntaxBase table)
    {
        if (table.Name is null)
        {
            return;
        }
        var position = SourcePosition.From(table.Span);
        var segments = KeySegments(table.Name);
        var parent = root;
        for (var i = 0; i < segments.Count - 1; i++)
        {
            parent = ChildTable(parent, segments[i], position);
        }
        var (name, namePosition) = segments[^1];
        TomlTableNode target;
        if (table is TableArraySyntax)
        {
            var array = parent.Find(name)?.Value as TomlArrayNode;
            if (array is null)
            {
                array = new TomlArrayNode(position, isTableArray: true);
                parent.Entries.Add(new TomlEntry(name, namePosition, array));
            }
            target = new TomlTableNode(position);
            array.Items.Add(target);
        }
        else
        {
            target = ChildTable(parent, (name, namePosition), position);
        }
        foreach (var keyValue in table.Items)
        {
            AddKeyValue(target, keyValue);
        }
    }

    private static void AddKeyValue(TomlTableNode table, KeyValueSyntax keyValue)
    {
        if (keyValue.Key is null || keyValue.Value is null)
        {
            return;
        }
        var segments = KeySegments(keyValue.Key);
        for (var i = 0; i < segments.Count - 1; i++)
        {
            table = ChildTable(table, segments[i], segments[i].Position);
        }
        var (name, namePosition) = segments[^1];
        table.Entries.Add(new TomlEntry(name, namePosition, Convert(keyValue.Value)));
    }

    /// <summary>The table under <paramref name="segment"/>, created if new; for an array of tables, its last table.</summary>
    private static TomlTableNode ChildTable(TomlTableNode parent, (string Name, SourcePosition Position) segment, SourcePosition tablePosition)
    {
        switch (parent.Find(segment.Name)?.Value)
        {
            case TomlTableNode existing:
                return existing;
            case TomlArrayNode { IsTableArray: true, Items: [.., TomlTableNode last] }:
                return last;
            default:
                // Tomlyn's validation has already rejected a key that is both a value and a table.
                var created = new TomlTableNode(tablePosition);
                parent.Entries.Add(new TomlEntry(segment.Name, segment.Position, created));
                return created;
        }
    }

    private static List<(string Name, SourcePosition Position)> KeySegments(KeySyntax key)
    {
        var segments = new List<(string, SourcePosition)>();
        if (key.Key is not null)
        {
            segments.Add(KeySegment(key.Key));
        }
        foreach (var dotted in key.DotKeys)
        {
            if (dotted.Key is not null)
            {
                segments.Add(KeySegment(dotted.Key));
            }
        }
        return segments;
    }

    private static (string, SourcePosition) KeySegment(BareKeyOrStringValueSyntax key) => key switch
    {
        BareKeySyntax bare => (bare.Key?.Text ?? "", SourcePosition.From(bare.Span)),
        StringValueSyntax quoted => (quoted.Value ?? "", SourcePosition.From(quoted.Span)),
        _ => ("", SourcePosition.From(key.Span)),
    };

    private static TomlNode Convert(ValueSyntax value)
    {
        var position = SourcePosition.From(value.Span);
        switch (value)
        {
            case StringValueSyntax text:
                return new TomlStringNode(position, text.Value ?? "");
            case IntegerValueSyntax integer:
                return new TomlIntegerNode(position, integer.Value);
            case BooleanValueSyntax boolean:
                return new TomlBooleanNode(position, boolean.Value);
            case ArraySyntax array:
                var arrayNode = new TomlArrayNode(position, isTableArray: false);
                foreach (var item in array.Items)
                {
                    if (item.Value is not null)
                    {
                        arrayNode.Items.Add(Convert(item.Value));
                    }
                }
                return arrayNode;
            case InlineTableSyntax inline:
                var tableNode = new TomlTableNode(position);
                foreach (var item in inline.Items)
                {
                    if (item.KeyValue is not null)
                    {
                        AddKeyValue(tableNode, item.KeyValue);
                    }
                }
                return tableNode;
            case FloatValueSyntax:
                return new TomlOtherNode(position, "a float");
            default:
                return new TomlOtherNode(position, "a date-time");
        }
    }
}
