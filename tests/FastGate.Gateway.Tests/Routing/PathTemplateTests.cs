using FastGate.Gateway.Routing;

namespace FastGate.Gateway.Tests.Routing;

public class PathTemplateTests
{
    [Theory]
    [InlineData("/", new[] { "L:" })]
    [InlineData("/api/users", new[] { "L:api", "L:users" })]
    [InlineData("/api/users/", new[] { "L:api", "L:users", "L:" })]
    [InlineData("/api/users/{id}", new[] { "L:api", "L:users", "P:0" })]
    [InlineData("/api/{id}/", new[] { "L:api", "P:0", "L:" })]
    [InlineData("/files/{*rest}", new[] { "L:files", "C:0" })]
    [InlineData("/{*rest}", new[] { "C:0" })]
    [InlineData("/{a}/{b_2}/{*_c}", new[] { "P:0", "P:1", "C:2" })]
    [InlineData("/a%2Fb/c:d@e!$&'()*+,;=-._~", new[] { "L:a%2Fb", "L:c:d@e!$&'()*+,;=-._~" })]
    [InlineData("/...", new[] { "L:..." })]
    public void Parses_valid_templates(string text, string[] expected)
    {
        PathTemplate template = RoutingTestData.Template(text);
        string[] actual = [.. template.Segments.Select(s => s.Kind switch
        {
            TemplateSegmentKind.Literal => "L:" + System.Text.Encoding.ASCII.GetString(s.Literal),
            TemplateSegmentKind.Parameter => "P:" + s.ParameterIndex,
            _ => "C:" + s.ParameterIndex,
        })];
        Assert.Equal(expected, actual);
        Assert.Equal(text, template.Text);
    }

    [Fact]
    public void Lists_parameter_names_in_template_order()
    {
        PathTemplate template = RoutingTestData.Template("/{tenant}/users/{id}/{*rest}");
        Assert.Equal(["tenant", "id", "rest"], template.ParameterNames);
        Assert.Equal(1, template.IndexOfParameter("id"));
        Assert.Equal(-1, template.IndexOfParameter("ID"));
        Assert.True(template.IsCatchAll(2));
        Assert.False(template.IsCatchAll(1));
    }

    [Theory]
    [InlineData("", "a path template must start with '/'", 0)]
    [InlineData("api/users", "a path template must start with '/'", 0)]
    [InlineData("//", "empty segment ('//')", 1)]
    [InlineData("/api//users", "empty segment ('//')", 5)]
    [InlineData("/api/{id", "unbalanced '{': missing '}'", 5)]
    [InlineData("/api/{id/x}", "unbalanced '{': missing '}'", 5)]
    [InlineData("/api/id}", "unbalanced '}'", 7)]
    [InlineData("/api/v{id}", "a parameter must be a whole segment: unexpected text before '{'", 6)]
    [InlineData("/api/{id}.json", "a parameter must be a whole segment: unexpected text after '}'", 9)]
    [InlineData("/api/{}", "empty parameter name", 5)]
    [InlineData("/api/{*}", "empty parameter name", 5)]
    [InlineData("/api/{1d}", "invalid parameter name '1d': use letters, digits and '_', not starting with a digit", 6)]
    [InlineData("/api/{user-id}", "invalid parameter name 'user-id': use letters, digits and '_', not starting with a digit", 10)]
    [InlineData("/api/{*re st}", "invalid parameter name 're st': use letters, digits and '_', not starting with a digit", 9)]
    [InlineData("/{id}/x/{id}", "duplicate parameter name 'id'", 9)]
    [InlineData("/{id}/{*Id}", "duplicate parameter name 'Id'", 8)]
    [InlineData("/files/{*rest}/x", "a catch-all parameter must be the last segment", 7)]
    [InlineData("/files/{*rest}/", "a catch-all parameter must be the last segment", 7)]
    [InlineData("/a b", "invalid character ' ' in a path segment", 2)]
    [InlineData("/a\u00e9", "invalid character U+00E9 in a path segment", 2)]
    [InlineData("/a?b", "invalid character '?' in a path segment", 2)]
    [InlineData("/a/#", "invalid character '#' in a path segment", 3)]
    [InlineData("/a\\b", "invalid character '\\' in a path segment", 2)]
    [InlineData("/api/./x", "'.' and '..' segments are not allowed (paths are matched after dot-segment removal)", 5)]
    [InlineData("/api/..", "'.' and '..' segments are not allowed (paths are matched after dot-segment removal)", 5)]
    [InlineData("/a%2", "invalid percent-encoding: '%' must be followed by two hex digits", 2)]
    [InlineData("/a%G1/b", "invalid percent-encoding: '%' must be followed by two hex digits", 2)]
    [InlineData("/a%2f", "percent-encoding must use upper-case hex digits (paths are matched after normalization)", 2)]
    [InlineData("/a%41", "percent-encoded unreserved character 'A' must be written as is (paths are matched after normalization)", 2)]
    [InlineData("/a%2E", "percent-encoded unreserved character '.' must be written as is (paths are matched after normalization)", 2)]
    [InlineData("/a%00", "'%00' is not allowed", 2)]
    public void Rejects_invalid_templates(string text, string message, int offset)
    {
        Assert.False(PathTemplate.TryParse(text, out PathTemplate? template, out string? error, out int errorOffset));
        Assert.Null(template);
        Assert.Equal(message, error);
        Assert.Equal(offset, errorOffset);
    }

    [Fact]
    public void Rejects_more_than_MaxCount_parameters()
    {
        string sixteen = string.Concat(Enumerable.Range(0, RouteValues.MaxCount).Select(i => $"/{{p{i}}}"));
        Assert.True(PathTemplate.TryParse(sixteen, out _, out _, out _));

        Assert.False(PathTemplate.TryParse(sixteen + "/{p16}", out _, out string? error, out int offset));
        Assert.Equal("too many parameters: at most 16", error);
        Assert.Equal(sixteen.Length + 1, offset);
    }
}
