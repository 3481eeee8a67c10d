using System.Diagnostics;
using System.Text;

namespace FastGate.Gateway.Traffic;

/// <summary>What a request is counted by (`key` in a `[rate_limits.NAME]` table).</summary>
internal enum RateLimitKeyKind : byte
{
    /// <summary>The client address (the socket peer, or the forwarded one from a trusted proxy).</summary>
    ClientIp,
    /// <summary>`claim:NAME`: the value of a claim of the validated token.</summary>
    Claim,
    /// <summary>`header:NAME`: the value of a request header.</summary>
    Header,
    /// <summary>`route`: one budget for the whole route.</summary>
    Route,
}

/// <summary>Where the buckets live (`store`).</summary>
internal enum RateLimitStoreKind : byte
{
    Local,
    Redis,
}

/// <summary>What a shared store's limiter answers while its store cannot be reached (`on_store_failure`).</summary>
internal enum StoreFailureMode : byte
{
    /// <summary>Allow the request: availability over strictness.</summary>
    Open,
    /// <summary>Deny the request with 429: strictness over availability.</summary>
    Closed,
}

/// <summary>
/// One `[rate_limits.NAME]` policy compiled for the hot path: a token bucket of <see cref="Burst"/> tokens
/// refilled continuously at <see cref="Rate"/> tokens per <see cref="Per"/>, decided with GCRA (the
/// generic cell rate algorithm: one "theoretical arrival time" per key instead of a token count and a
/// refill timestamp, so a decision reads and writes a single 64-bit value).
/// </summary>
/// <remarks>
/// Time is in <see cref="Stopwatch"/> timestamp units (<see cref="TicksPerSecond"/>), the clock the
/// caller passes as <c>nowTicks</c>.
/// </remarks>
internal sealed class RateLimitPolicy
{
    public RateLimitPolicy(
        string name,
        long rate,
        TimeSpan per,
        long burst,
        RateLimitKeyKind keyKind,
        string? keyName = null,
        RateLimitStoreKind store = RateLimitStoreKind.Local,
        StoreFailureMode onStoreFailure = StoreFailureMode.Open,
        long ticksPerSecond = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(rate, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        if (per <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(per), per, "The period must be positive.");
        }

        if (keyKind is RateLimitKeyKind.Claim or RateLimitKeyKind.Header && string.IsNullOrEmpty(keyName))
        {
            throw new ArgumentException($"A {keyKind} key needs a name (claim:NAME or header:NAME).", nameof(keyName));
        }

        Name = name;
        Rate = rate;
        Per = per;
        Burst = burst;
        KeyKind = keyKind;
        KeyName = keyName;
        Store = store;
        OnStoreFailure = onStoreFailure;
        TicksPerSecond = ticksPerSecond > 0 ? ticksPerSecond : Stopwatch.Frequency;

        // Emission interval T = per / rate, rounded to the clock's unit. With a 1 ns clock the rounding
        // error is below 1 ns per token, so it only matters above ~10^8 tokens per second.
        double interval = per.TotalSeconds * TicksPerSecond / rate;
        if (interval < 1 || interval * burst > long.MaxValue / 4)
        {
            throw new ArgumentOutOfRangeException(nameof(rate), rate, "rate/per/burst out of the clock's range.");
        }

        EmissionInterval = (long)Math.Round(interval);
        BurstTolerance = EmissionInterval * burst;
        EmissionIntervalMicroseconds = Math.Max(1, (long)Math.Round(per.TotalMilliseconds * 1000 / rate));

        QuotedName = Encoding.ASCII.GetBytes(QuoteSfString(name));
        PolicyHeaderValue = BuildPolicyHeader();
    }

    public string Name { get; }
    public long Rate { get; }
    public TimeSpan Per { get; }
    public long Burst { get; }
    public RateLimitKeyKind KeyKind { get; }

    /// <summary>The claim or header name for <see cref="RateLimitKeyKind.Claim"/> and <see cref="RateLimitKeyKind.Header"/>.</summary>
    public string? KeyName { get; }

    public RateLimitStoreKind Store { get; }
    public StoreFailureMode OnStoreFailure { get; }
    public long TicksPerSecond { get; }

    /// <summary>GCRA's T: the clock ticks one token is worth.</summary>
    public long EmissionInterval { get; }

    /// <summary>GCRA's limit: how far the theoretical arrival time may run ahead of now (burst × T).</summary>
    public long BurstTolerance { get; }

    /// <summary>T in microseconds, the unit of the Redis script (Redis TIME has microseconds).</summary>
    public long EmissionIntervalMicroseconds { get; }

    /// <summary>The policy name as a Structured Field String (quotes included), for the RateLimit field.</summary>
    public byte[] QuotedName { get; }

    /// <summary>
    /// The complete `RateLimit-Policy` field value, computed once: <c>"name";q=Q;w=W</c> and, when the
    /// burst differs from the quota, the vendor parameter <c>fastgate-burst</c>
    /// (draft-ietf-httpapi-ratelimit-headers-11, sections 3 and 3.1).
    /// </summary>
    public byte[] PolicyHeaderValue { get; }

    /// <summary>
    /// One GCRA step against a key's stored theoretical arrival time (0 = a key never seen): on success the
    /// new TAT is written back through <paramref name="tat"/>.
    /// </summary>
    public RateLimitDecision Decide(ref long tat, long now)
    {
        long start = tat > now ? tat : now;
        long next = start + EmissionInterval;
        long allowAt = next - BurstTolerance;
        if (now < allowAt)
        {
            // Denied: one more token needs allowAt - now; the bucket is full again at start.
            return RateLimitDecision.Deny(this, allowAt - now, start - now);
        }

        tat = next;
        return RateLimitDecision.Allow(this, next - now);
    }

    /// <summary>
    /// Parses the `key` setting: <c>client_ip</c>, <c>route</c>, <c>claim:NAME</c> or <c>header:NAME</c>
    /// (the name non-empty). False on anything else, for the configuration validator to report.
    /// </summary>
    public static bool TryParseKey(string text, out RateLimitKeyKind kind, out string? name)
    {
        name = null;
        kind = RateLimitKeyKind.ClientIp;
        switch (text)
        {
            case "client_ip":
                return true;
            case "route":
                kind = RateLimitKeyKind.Route;
                return true;
        }

        int colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == text.Length - 1)
        {
            return false;
        }

        string prefix = text[..colon];
        name = text[(colon + 1)..];
        if (prefix == "claim")
        {
            kind = RateLimitKeyKind.Claim;
            return true;
        }

        if (prefix == "header")
        {
            kind = RateLimitKeyKind.Header;
            return true;
        }

        name = null;
        return false;
    }

    public int CeilSeconds(long ticks)
    {
        if (ticks <= 0)
        {
            return 0;
        }

        long seconds = (ticks + TicksPerSecond - 1) / TicksPerSecond;
        return seconds > int.MaxValue ? int.MaxValue : (int)seconds;
    }

    private byte[] BuildPolicyHeader()
    {
        // The window "w" is whole seconds (draft-11 section 3.1.3: "Sub-second precision is not
        // supported"), so a sub-second or fractional period is advertised as the quota per whole
        // second count: 10 per 500ms reads q=20;w=1.
        long quota = Rate;
        long window;
        if (Per.Ticks % TimeSpan.TicksPerSecond == 0)
        {
            window = Per.Ticks / TimeSpan.TicksPerSecond;
        }
        else
        {
            window = Math.Max(1, (long)Math.Ceiling(Per.TotalSeconds));
            quota = (long)Math.Floor(Rate * window / Per.TotalSeconds);
        }

        var text = new StringBuilder();
        text.Append(QuoteSfString(Name)).Append(";q=").Append(quota).Append(";w=").Append(window);
        if (Burst != quota)
        {
            // Section 3.1: service-specific parameters carry a vendor prefix.
            text.Append(";fastgate-burst=").Append(Burst);
        }

        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>RFC 9651 section 3.3.3: a String is printable ASCII in quotes, with '"' and '\' escaped.</summary>
    private static string QuoteSfString(string value)
    {
        var quoted = new StringBuilder(value.Length + 2).Append('"');
        foreach (char c in value)
        {
            if (c is < (char)0x20 or > (char)0x7E)
            {
                throw new ArgumentException($"Rate limit name '{value}' must be printable ASCII.", nameof(value));
            }

            if (c is '"' or '\\')
            {
                quoted.Append('\\');
            }

            quoted.Append(c);
        }

        return quoted.Append('"').ToString();
    }
}
