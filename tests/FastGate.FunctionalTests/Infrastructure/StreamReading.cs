using System.Text;

namespace FastGate.FunctionalTests.Infrastructure;

/// <summary>Reads a response body incrementally, to see what reached the client before the body ended.</summary>
internal static class StreamReading
{
    /// <summary>Reads until what was read contains <paramref name="marker"/>; fails if the body ends first or nothing comes in 10 s.</summary>
    public static async Task<StringBuilder> ReadUntilAsync(Stream stream, string marker)
    {
        var seen = new StringBuilder();
        var buffer = new byte[1024];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!seen.ToString().Contains(marker, StringComparison.Ordinal))
        {
            int n = await stream.ReadAsync(buffer, deadline.Token);
            Xunit.Assert.NotEqual(0, n);
            seen.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }

        return seen;
    }
}
