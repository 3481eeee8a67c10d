using System.Globalization;

namespace FastGate.Gateway.Configuration;

/// <summary>
/// Durations: one or more <c>NUMBER UNIT</c> groups, units <c>h</c>, <c>m</c>, <c>s</c>, <c>ms</c> from the
/// largest to the smallest, each at most once: <c>"250ms"</c>, <c>"5s"</c>, <c>"1m30s"</c>, <c>"1h"</c>.
/// Whole numbers only; the total must be positive.
/// </summary>
internal static class DurationSyntax
{
    public const string Forms = "a positive duration like \"250ms\", \"5s\", \"1m\", \"1h\" or \"1m30s\"";

    // NOTE: a year is far past any timeout or interval the gateway has; the bound keeps TimeSpan
    // arithmetic (deadlines = now + timeout) away from overflow.
    private static readonly TimeSpan s_max = TimeSpan.FromDays(365);

    public static bool TryParse(string text, out TimeSpan result)
    {
        result = TimeSpan.Zero;
        var rest = text.AsSpan();
        var lastRank = int.MaxValue;
        while (!rest.IsEmpty)
        {
            var digits = 0;
            while (digits < rest.Length && char.IsAsciiDigit(rest[digits]))
            {
                digits++;
            }
            // Nine digits always fit a long; the product with the unit is bounded below.
            if (digits is 0 or > 9)
            {
                return false;
            }
            var number = long.Parse(rest[..digits], NumberStyles.None, CultureInfo.InvariantCulture);
            rest = rest[digits..];

            var (rank, ticksPerUnit, unitLength) = rest switch
            {
                ['m', 's', ..] => (0, TimeSpan.TicksPerMillisecond, 2),
                ['s', ..] => (1, TimeSpan.TicksPerSecond, 1),
                ['m', ..] => (2, TimeSpan.TicksPerMinute, 1),
                ['h', ..] => (3, TimeSpan.TicksPerHour, 1),
                _ => (-1, 0, 0),
            };
            rest = rest[unitLength..];
            if (rank < 0 || rank >= lastRank || number > s_max.Ticks / ticksPerUnit)
            {
                return false;
            }
            lastRank = rank;
            result += TimeSpan.FromTicks(number * ticksPerUnit);
            if (result > s_max)
            {
                return false;
            }
        }
        return result > TimeSpan.Zero;
    }

    /// <summary>The shortest form that <see cref="TryParse"/> reads back, for messages.</summary>
    public static string Format(TimeSpan value)
    {
        if (value.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            return $"{(long)value.TotalMilliseconds}ms";
        }
        if (value.Ticks % TimeSpan.TicksPerMinute != 0)
        {
            return $"{(long)value.TotalSeconds}s";
        }
        return value.Ticks % TimeSpan.TicksPerHour != 0 ? $"{(long)value.TotalMinutes}m" : $"{(long)value.TotalHours}h";
    }
}

/// <summary>
/// Sizes: an integer of bytes, or a string <c>NUMBER UNIT</c> with the IEC 80000-13 units: <c>B</c>;
/// binary <c>KiB</c>, <c>MiB</c>, <c>GiB</c> (powers of 1024); decimal <c>KB</c>, <c>MB</c>, <c>GB</c>
/// (powers of 1000, as the standard defines them, not the 1024 some tools mean).
/// </summary>
internal static class SizeSyntax
{
    public const string Forms = "an integer of bytes or a string like \"512B\", \"16KiB\", \"10MiB\", \"1GiB\" (KB, MB, GB are powers of 1000)";

    private static readonly (string Unit, long Factor)[] s_units =
    [
        ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30),
        ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000),
        ("B", 1),
    ];

    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        var digits = 0;
        while (digits < text.Length && char.IsAsciiDigit(text[digits]))
        {
            digits++;
        }
        // Eighteen digits always fit a long; the unit's factor is checked against overflow below.
        if (digits is 0 or > 18)
        {
            return false;
        }
        var unit = text.AsSpan(digits);
        foreach (var (name, factor) in s_units)
        {
            if (unit.SequenceEqual(name))
            {
                var number = long.Parse(text.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture);
                if (number > long.MaxValue / factor)
                {
                    return false;
                }
                bytes = number * factor;
                return true;
            }
        }
        return false;
    }
}

/// <summary>"Did you mean" for names: the closest candidate by edit distance, when it is close enough.</summary>
internal static class NameSuggestion
{
    public static string? Closest(string name, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var distance = Distance(name.ToLowerInvariant(), candidate.ToLowerInvariant());
            // Close = a typo or two, and never most of the word (which would suggest 'host' for 'port').
            var allowed = Math.Min(3, Math.Max(1, Math.Max(name.Length, candidate.Length) / 3));
            if (distance <= allowed && distance < bestDistance)
            {
                (best, bestDistance) = (candidate, distance);
            }
        }
        return best;
    }

    /// <summary>" (did you mean 'x'?)" or "".</summary>
    public static string Hint(string name, IEnumerable<string> candidates) =>
        Closest(name, candidates) is { } closest ? $" (did you mean '{closest}'?)" : "";

    /// <summary>Optimal string alignment distance: Levenshtein plus the swap of two neighbours.</summary>
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }
}
