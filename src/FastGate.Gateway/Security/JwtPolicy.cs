namespace FastGate.Gateway.Security;

/// <summary>What a token must satisfy for one <c>[auth.NAME]</c> section; immutable, compiled from config.</summary>
internal sealed class JwtPolicy
{
    /// <summary>8 KiB: far above real access tokens (1-2 KiB) and below the default request head limit.</summary>
    public const int DefaultMaxTokenSize = 8 * 1024;

    public JwtPolicy(
        string issuer,
        IReadOnlyList<string> audiences,
        JwtAlgorithms algorithms,
        TimeSpan clockSkew,
        int maxTokenSize = DefaultMaxTokenSize)
    {
        ArgumentException.ThrowIfNullOrEmpty(issuer);
        ArgumentNullException.ThrowIfNull(audiences);
        if (audiences.Count == 0)
        {
            throw new ArgumentException("at least one audience is required (RFC 8725 section 3.9)", nameof(audiences));
        }

        if (algorithms == JwtAlgorithms.None || (algorithms & ~JwtAlgorithms.All) != 0)
        {
            throw new ArgumentException("at least one known algorithm is required", nameof(algorithms));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(clockSkew, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokenSize, 16);

        Issuer = issuer;
        Audiences = [.. audiences];
        Algorithms = algorithms;
        ClockSkew = clockSkew;
        MaxTokenSize = maxTokenSize;
        IssuerUtf8 = System.Text.Encoding.UTF8.GetBytes(issuer);
        AudiencesUtf8 = [.. audiences.Select(a => System.Text.Encoding.UTF8.GetBytes(a))];
        ClockSkewSeconds = (long)Math.Ceiling(clockSkew.TotalSeconds);
    }

    public string Issuer { get; }

    public IReadOnlyList<string> Audiences { get; }

    public JwtAlgorithms Algorithms { get; }

    public TimeSpan ClockSkew { get; }

    /// <summary>The longest token accepted, in bytes of its compact serialization.</summary>
    public int MaxTokenSize { get; }

    internal byte[] IssuerUtf8 { get; }

    internal byte[][] AudiencesUtf8 { get; }

    internal long ClockSkewSeconds { get; }
}
