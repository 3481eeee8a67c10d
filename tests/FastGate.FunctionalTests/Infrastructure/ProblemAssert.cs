using System.Text.Json;

namespace FastGate.FunctionalTests.Infrastructure;

/// <summary>Checks a gateway-made application/problem+json answer (RFC 9457) field by field.</summary>
internal static class ProblemAssert
{
    /// <param name="type">the last segment of the problem type, e.g. "malformed-request"</param>
    /// <param name="close">whether the answer must announce "Connection: close"</param>
    public static void Is(RawResponse response, int status, string type, bool? close = null)
    {
        Assert.Equal(status, response.Status);
        Assert.Equal("application/problem+json", response.Header("Content-Type"));
        Assert.Equal(response.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Header("Content-Length"));
        using var document = JsonDocument.Parse(response.Body);
        var root = document.RootElement;
        Assert.Equal("https://fastgate.dev/problems/" + type, root.GetProperty("type").GetString());
        Assert.Equal(response.StatusLine[13..], root.GetProperty("title").GetString());
        Assert.Equal(status, root.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("detail").GetString()));
        var instance = root.GetProperty("instance").GetString();
        Assert.False(string.IsNullOrEmpty(instance));
        Assert.Equal(response.Header("X-Request-Id"), instance);
        if (close is { } mustClose)
        {
            Assert.Equal(mustClose, string.Equals(response.Header("Connection"), "close", StringComparison.OrdinalIgnoreCase));
        }
    }
}
