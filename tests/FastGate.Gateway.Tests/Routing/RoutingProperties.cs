using System.Text;
using FastGate.Gateway.Model;
using FastGate.Gateway.Routing;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using static FastGate.Gateway.Tests.Routing.RoutingTestData;

namespace FastGate.Gateway.Tests.Routing;

public class RoutingProperties
{
    /// <summary>A generated template with one concrete path it must match and the values that path carries.</summary>
    public sealed record Case(string Template, string Path, string[] Values)
    {
        public override string ToString() => $"{Template} <- {Path} [{string.Join(", ", Values)}]";
    }

    private sealed record Piece(char Kind, string Literal, string Value);

    // Small pools so that literals of one template often equal the values of another: that is what makes the
    // walk take a literal branch, fail deeper and backtrack to a parameter or catch-all.
    private static readonly string[] Literals = ["api", "v1", "users", "a", "b", "x-y", ""];
    private static readonly string[] SegmentValues = ["api", "users", "a", "42", "x_y", "b~c", "%2F"];

    private static readonly Gen<Piece> LiteralPiece = Gen.Elements(Literals.Where(l => l.Length > 0).ToArray()).Select(l => new Piece('L', l, l));
    private static readonly Gen<Piece> ParameterPiece = Gen.Elements(SegmentValues).Select(v => new Piece('P', "", v));
    private static readonly Gen<Piece> CatchAllPiece = Gen.Choose(0, 3)
        .SelectMany(n => Gen.ArrayOf(Gen.Elements(SegmentValues), n))
        .Select(values => new Piece('C', "", string.Join('/', values)));

    private static readonly Gen<Case> CaseGen =
        from count in Gen.Choose(1, 4)
        from middle in Gen.ArrayOf(Gen.Frequency((3, LiteralPiece), (2, ParameterPiece)), count - 1)
        from last in Gen.Frequency((3, LiteralPiece), (2, ParameterPiece), (2, CatchAllPiece), (1, Gen.Constant(new Piece('L', "", ""))))
        select ToCase([.. middle, last]);

    private static Case ToCase(Piece[] pieces)
    {
        var template = new StringBuilder();
        var path = new StringBuilder();
        var values = new List<string>();
        foreach (Piece piece in pieces)
        {
            template.Append('/');
            path.Append('/');
            switch (piece.Kind)
            {
                case 'L':
                    template.Append(piece.Literal);
                    break;
                case 'P':
                    template.Append($"{{p{values.Count}}}");
                    values.Add(piece.Value);
                    break;
                default:
                    template.Append($"{{*p{values.Count}}}");
                    values.Add(piece.Value);
                    break;
            }

            path.Append(piece.Value);
        }

        return new Case(template.ToString(), path.ToString(), [.. values]);
    }

    /// <summary>Rank of a template's segment at <paramref name="index"/>: lower is more specific.</summary>
    private static int Rank(PathTemplate template, int index)
    {
        if (index >= template.Segments.Count)
        {
            return -1; // The template ended where the path ended: only a catch-all can still be running.
        }

        return template.Segments[index].Kind switch
        {
            TemplateSegmentKind.Literal => 0,
            TemplateSegmentKind.Parameter => 1,
            _ => 2,
        };
    }

    /// <summary>Segment-by-segment comparison of two templates that both match one path; &lt;0 when a is more specific.</summary>
    private static int CompareSpecificity(PathTemplate a, PathTemplate b)
    {
        for (int i = 0; ; i++)
        {
            int ra = Rank(a, i);
            int rb = Rank(b, i);
            if (ra != rb || ra is -1 or 2)
            {
                return ra.CompareTo(rb);
            }
        }
    }

    [Property(MaxTest = 300)]
    public Property Every_generated_path_matches_its_route_or_a_more_specific_one() =>
        Prop.ForAll(Gen.NonEmptyListOf(CaseGen).Select(l => l.Take(12).ToArray()).ToArbitrary(), cases =>
        {
            // Skip generated duplicates and conflicts: keep the first of every shape.
            List<RouteModel> routes = [.. cases.Select((c, i) => Route($"r{i}", c.Template, order: i))];
            RouteTable.Build(routes, out IReadOnlyList<RouteConflict> conflicts);
            var dropped = conflicts.Select(c => c.Second).ToHashSet();
            routes = [.. routes.Where(r => !dropped.Contains(r))];
            RouteTable table = Table([.. routes]);

            foreach (RouteModel source in routes)
            {
                Case c = cases[source.Order];
                var match = Match(table, c.Path);
                if (match.Status != RouteMatchStatus.Matched)
                {
                    return false.Label($"{c} did not match: {match.Status}");
                }

                RouteModel winner = routes.Single(r => r.Name == match.Name);
                if (winner == source)
                {
                    string[] actual = Values(match.Values, c.Path);
                    if (!actual.SequenceEqual(c.Values))
                    {
                        return false.Label($"{c} captured [{string.Join(", ", actual)}]");
                    }
                }
                else if (CompareSpecificity(winner.Path, source.Path) > 0 ||
                    (CompareSpecificity(winner.Path, source.Path) == 0 && winner.Order > source.Order))
                {
                    return false.Label($"{c} was taken by the less specific {winner.Path.Text}");
                }
            }

            return true.ToProperty();
        });

    private static readonly Gen<string> RawPathGen =
        Gen.ArrayOf(Gen.Elements("a", "b", ".", "..", "%2e", "%2E", ".%2e", "%2F", "%2f..", "%41", "%7e", "%3a", "", "...", "x.y", "%25"))
            .Select(segments => "/" + string.Join('/', segments));

    [Property(MaxTest = 500)]
    public Property Normalizing_is_idempotent_shrinks_and_leaves_no_dot_segments() =>
        Prop.ForAll(RawPathGen.ToArbitrary(), raw =>
        {
            byte[] input = Encoding.ASCII.GetBytes(raw);
            var once = new byte[input.Length];
            if (!PathNormalizer.TryNormalize(input, once, out int written))
            {
                // Only a ".." above the root may fail here: every generated encoding is valid.
                return raw.Contains('.', StringComparison.Ordinal).Label($"{raw} rejected");
            }

            var twice = new byte[written];
            bool again = PathNormalizer.TryNormalize(once.AsSpan(0, written), twice, out int written2);
            string normalized = Encoding.ASCII.GetString(once, 0, written);
            string[] segments = normalized.Split('/');
            return (written <= input.Length).Label($"longer: {normalized}")
                .And(again && twice.AsSpan(0, written2).SequenceEqual(once.AsSpan(0, written))).Label($"not idempotent: {normalized}")
                .And(!segments.Any(s => s is "." or "..")).Label($"dot segment left: {normalized}")
                .And(normalized.StartsWith('/')).Label($"no leading slash: {normalized}");
        });
}
