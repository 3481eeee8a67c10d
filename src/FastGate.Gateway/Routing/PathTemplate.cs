using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace FastGate.Gateway.Routing;

/// <summary>A parsed match template: literal segments, <c>{name}</c>, and a final <c>{*rest}</c>.</summary>
/// <remarks>
/// The template is split after its leading '/' on every '/': "/" is one empty segment and a trailing slash is
/// a final empty literal segment, so "/a/" and "/a" are distinct, exact paths. Literals are compared with the
/// normalized path (see <see cref="PathNormalizer"/>), so they must already be in normalized form.
/// </remarks>
internal sealed class PathTemplate
{
    private PathTemplate(string text, IReadOnlyList<string> parameterNames, IReadOnlyList<TemplateSegment> segments)
    {
        Text = text;
        ParameterNames = parameterNames;
        Segments = segments;
    }

    public string Text { get; }

    public IReadOnlyList<string> ParameterNames { get; }

    public IReadOnlyList<TemplateSegment> Segments { get; }

    /// <returns>the index of the parameter in <see cref="ParameterNames"/> (and in <see cref="RouteValues"/>), or -1</returns>
    public int IndexOfParameter(string name)
    {
        for (int i = 0; i < ParameterNames.Count; i++)
        {
            if (string.Equals(ParameterNames[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    public bool IsCatchAll(int parameterIndex) =>
        Segments[^1].Kind == TemplateSegmentKind.CatchAll && Segments[^1].ParameterIndex == parameterIndex;

    public override string ToString() => Text;

    /// <param name="errorOffset">0-based offset into <paramref name="template"/> of the error</param>
    public static bool TryParse(string template, [NotNullWhen(true)] out PathTemplate? result, [NotNullWhen(false)] out string? error, out int errorOffset)
    {
        result = null;
        if (template.Length == 0 || template[0] != '/')
        {
            return Fail("a path template must start with '/'", 0, out error, out errorOffset);
        }

        var segments = new List<TemplateSegment>();
        var names = new List<string>();
        int catchAllOffset = -1;
        int start = 1;
        while (true)
        {
            int slash = template.IndexOf('/', start);
            int end = slash < 0 ? template.Length : slash;
            if (catchAllOffset >= 0)
            {
                return Fail("a catch-all parameter must be the last segment", catchAllOffset, out error, out errorOffset);
            }

            ReadOnlySpan<char> segment = template.AsSpan(start, end - start);
            if (segment.IsEmpty && slash >= 0)
            {
                return Fail("empty segment ('//')", slash, out error, out errorOffset);
            }

            string? message;
            int offset;
            if (segment.Length > 0 && segment[0] == '{')
            {
                if (!TryParseParameter(template, start, end, names, out bool catchAll, out message, out offset))
                {
                    return Fail(message, offset, out error, out errorOffset);
                }

                segments.Add(new TemplateSegment(catchAll ? TemplateSegmentKind.CatchAll : TemplateSegmentKind.Parameter, [], names.Count - 1));
                if (catchAll)
                {
                    catchAllOffset = start;
                }
            }
            else
            {
                // An empty segment here is the root "/" or a trailing slash: an exact, empty last segment.
                if (!TryCheckLiteral(template, start, end, out message, out offset))
                {
                    return Fail(message, offset, out error, out errorOffset);
                }

                segments.Add(new TemplateSegment(TemplateSegmentKind.Literal, Encoding.ASCII.GetBytes(template, start, end - start), -1));
            }

            if (slash < 0)
            {
                break;
            }

            start = slash + 1;
        }

        result = new PathTemplate(template, names.AsReadOnly(), segments.AsReadOnly());
        error = null;
        errorOffset = 0;
        return true;
    }

    private static bool TryParseParameter(string template, int start, int end, List<string> names, out bool catchAll, [NotNullWhen(false)] out string? error, out int errorOffset)
    {
        catchAll = false;
        int close = template.IndexOf('}', start, end - start);
        if (close < 0)
        {
            return Fail("unbalanced '{': missing '}'", start, out error, out errorOffset);
        }

        if (close != end - 1)
        {
            return Fail("a parameter must be a whole segment: unexpected text after '}'", close + 1, out error, out errorOffset);
        }

        int nameStart = start + 1;
        if (nameStart < close && template[nameStart] == '*')
        {
            catchAll = true;
            nameStart++;
        }

        string name = template[nameStart..close];
        if (name.Length == 0)
        {
            return Fail("empty parameter name", start, out error, out errorOffset);
        }

        int bad = UriChars.FindInvalidNameChar(name);
        if (bad >= 0)
        {
            return Fail($"invalid parameter name '{name}': use letters, digits and '_', not starting with a digit", nameStart + bad, out error, out errorOffset);
        }

        foreach (string existing in names)
        {
            if (string.Equals(existing, name, StringComparison.OrdinalIgnoreCase))
            {
                return Fail($"duplicate parameter name '{name}'", nameStart, out error, out errorOffset);
            }
        }

        if (names.Count == RouteValues.MaxCount)
        {
            return Fail($"too many parameters: at most {RouteValues.MaxCount}", start, out error, out errorOffset);
        }

        names.Add(name);
        error = null;
        errorOffset = 0;
        return true;
    }

    private static bool TryCheckLiteral(string template, int start, int end, [NotNullWhen(false)] out string? error, out int errorOffset)
    {
        ReadOnlySpan<char> segment = template.AsSpan(start, end - start);
        if (segment is "." or "..")
        {
            return Fail("'.' and '..' segments are not allowed (paths are matched after dot-segment removal)", start, out error, out errorOffset);
        }

        for (int i = start; i < end; i++)
        {
            char c = template[i];
            string? message = c switch
            {
                '{' => "a parameter must be a whole segment: unexpected text before '{'",
                '}' => "unbalanced '}'",
                '%' => UriChars.CheckNormalizedPercent(template.AsSpan(0, end), i),
                _ => UriChars.IsPcharNotPercent(c) ? null : $"invalid character {UriChars.Describe(c)} in a path segment",
            };
            if (message is not null)
            {
                return Fail(message, i, out error, out errorOffset);
            }
        }

        error = null;
        errorOffset = 0;
        return true;
    }

    private static bool Fail(string message, int offset, out string error, out int errorOffset)
    {
        error = message;
        errorOffset = offset;
        return false;
    }
}
