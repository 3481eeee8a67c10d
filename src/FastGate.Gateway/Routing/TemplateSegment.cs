namespace FastGate.Gateway.Routing;

internal enum TemplateSegmentKind : byte
{
    Literal,
    /// <summary><c>{name}</c>: exactly one non-empty segment.</summary>
    Parameter,
    /// <summary><c>{*name}</c>: the remainder of the path, zero or more segments.</summary>
    CatchAll,
}

/// <summary>One segment of a <see cref="PathTemplate"/>.</summary>
/// <param name="Literal">the ASCII bytes of a literal segment (empty for a trailing slash); empty for parameters</param>
/// <param name="ParameterIndex">the parameter's index in <see cref="PathTemplate.ParameterNames"/>, or -1</param>
internal sealed record TemplateSegment(TemplateSegmentKind Kind, byte[] Literal, int ParameterIndex);
