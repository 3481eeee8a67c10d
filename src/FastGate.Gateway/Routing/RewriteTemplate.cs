using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace FastGate.Gateway.Routing;

/// <summary>A compiled rewrite template (path, optionally with a query) over a route's captured parameters.</summary>
/// <remarks>
/// Parameters may appear anywhere: as a whole segment, inside a segment, or in the query. Captured bytes are
/// normalized path bytes (already percent-encoded) and are copied as they are into the path part. In the query
/// part a captured '&amp;', '=' or '+' would change the meaning of the query (a client could add parameters
/// with "/orders/1&amp;admin=true"), so those three are percent-encoded there (RFC 3986 section 3.4 leaves
/// them as data only when encoded).
/// </remarks>
internal sealed class RewriteTemplate
{
    private readonly Part[] _parts;

    private RewriteTemplate(string text, Part[] parts, bool hasQuery)
    {
        Text = text;
        _parts = parts;
        HasQuery = hasQuery;
    }

    public string Text { get; }

    /// <summary>True when the template has a '?': the caller appends the client's query with '&amp;', not '?'.</summary>
    public bool HasQuery { get; }

    public static bool TryCreate(string template, PathTemplate matched, [NotNullWhen(true)] out RewriteTemplate? result, [NotNullWhen(false)] out string? error, out int errorOffset)
    {
        result = null;
        if (template.Length == 0 || template[0] != '/')
        {
            return Fail("a rewrite must start with '/'", 0, out error, out errorOffset);
        }

        var parts = new List<Part>();
        bool inQuery = false;
        int literalStart = 0;
        for (int i = 0; i < template.Length; i++)
        {
            char c = template[i];
            if (c == '{')
            {
                if (!TryParseParameter(template, i, matched, out int close, out int parameterIndex, out error, out errorOffset))
                {
                    return false;
                }

                AddLiteral(parts, template, literalStart, i);
                parts.Add(new Part(null, parameterIndex, inQuery));
                i = close;
                literalStart = close + 1;
                continue;
            }

            string? message = c switch
            {
                '}' => "unbalanced '}'",
                '#' => "a rewrite cannot contain a fragment ('#')",
                '%' => i + 2 < template.Length && UriChars.HexValue(template[i + 1]) >= 0 && UriChars.HexValue(template[i + 2]) >= 0
                    ? null
                    : "invalid percent-encoding: '%' must be followed by two hex digits",
                '?' => null,
                _ => (inQuery ? UriChars.IsQueryCharNotPercent(c) : c == '/' || UriChars.IsPcharNotPercent(c))
                    ? null
                    : $"invalid character {UriChars.Describe(c)} in a rewrite",
            };
            if (message is not null)
            {
                return Fail(message, i, out error, out errorOffset);
            }

            inQuery |= c == '?';
        }

        AddLiteral(parts, template, literalStart, template.Length);
        result = new RewriteTemplate(template, [.. parts], inQuery);
        error = null;
        errorOffset = 0;
        return true;
    }

    /// <summary>
    /// Writes the rewritten path (and the template's query, if any) into <paramref name="destination"/>.
    /// Returns the bytes written, or -1 when the destination is too small.
    /// </summary>
    /// <param name="path">the path the values were captured from</param>
    public int Write(Span<byte> destination, ReadOnlySpan<byte> path, in RouteValues values)
    {
        int written = 0;
        foreach (Part part in _parts)
        {
            if (part.Literal is { } literal)
            {
                if (!literal.AsSpan().TryCopyTo(destination[written..]))
                {
                    return -1;
                }

                written += literal.Length;
                continue;
            }

            ReadOnlySpan<byte> value = values.GetValue(path, part.ParameterIndex);
            int n = part.InQuery ? WriteQueryValue(destination[written..], value) : (value.TryCopyTo(destination[written..]) ? value.Length : -1);
            if (n < 0)
            {
                return -1;
            }

            written += n;
        }

        return written;
    }

    public override string ToString() => Text;

    private static int WriteQueryValue(Span<byte> destination, ReadOnlySpan<byte> value)
    {
        int written = 0;
        foreach (byte b in value)
        {
            if (b is (byte)'&' or (byte)'=' or (byte)'+')
            {
                if (written + 3 > destination.Length)
                {
                    return -1;
                }

                destination[written] = (byte)'%';
                destination[written + 1] = "0123456789ABCDEF"u8[b >> 4];
                destination[written + 2] = "0123456789ABCDEF"u8[b & 0xF];
                written += 3;
            }
            else
            {
                if (written >= destination.Length)
                {
                    return -1;
                }

                destination[written++] = b;
            }
        }

        return written;
    }

    private static bool TryParseParameter(string template, int open, PathTemplate matched, out int close, out int parameterIndex, [NotNullWhen(false)] out string? error, out int errorOffset)
    {
        parameterIndex = -1;
        close = template.IndexOf('}', open + 1);
        int nextOpen = template.IndexOf('{', open + 1);
        if (close < 0 || (nextOpen >= 0 && nextOpen < close))
        {
            return Fail("unbalanced '{': missing '}'", open, out error, out errorOffset);
        }

        int nameStart = open + 1;
        bool catchAll = nameStart < close && template[nameStart] == '*';
        if (catchAll)
        {
            nameStart++;
        }

        string name = template[nameStart..close];
        if (name.Length == 0)
        {
            return Fail("empty parameter name", open, out error, out errorOffset);
        }

        int bad = UriChars.FindInvalidNameChar(name);
        if (bad >= 0)
        {
            return Fail($"invalid parameter name '{name}': use letters, digits and '_', not starting with a digit", nameStart + bad, out error, out errorOffset);
        }

        parameterIndex = matched.IndexOfParameter(name);
        if (parameterIndex < 0)
        {
            return Fail($"'{name}' is not a parameter of the match path '{matched.Text}'", nameStart, out error, out errorOffset);
        }

        if (catchAll && !matched.IsCatchAll(parameterIndex))
        {
            return Fail($"'{{*{name}}}' marks a catch-all, but '{name}' is a single-segment parameter of '{matched.Text}'", open, out error, out errorOffset);
        }

        error = null;
        errorOffset = 0;
        return true;
    }

    private static void AddLiteral(List<Part> parts, string template, int start, int end)
    {
        if (end > start)
        {
            parts.Add(new Part(Encoding.ASCII.GetBytes(template, start, end - start), -1, false));
        }
    }

    private static bool Fail(string message, int offset, out string error, out int errorOffset)
    {
        error = message;
        errorOffset = offset;
        return false;
    }

    /// <summary>Either literal bytes or the index of a captured parameter.</summary>
    private readonly record struct Part(byte[]? Literal, int ParameterIndex, bool InQuery);
}
