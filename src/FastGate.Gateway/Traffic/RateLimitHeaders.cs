namespace FastGate.Gateway.Traffic;

/// <summary>
/// Writes the rate-limit response field values into caller memory without allocating, following
/// draft-ietf-httpapi-ratelimit-headers-11 (May 2026), whose two fields are Structured Field Lists
/// (RFC 9651) of a quoted policy name with parameters:
/// <code>
/// RateLimit-Policy: "per_client";q=100;w=1;fastgate-burst=200     (section 3)
/// RateLimit: "per_client";r=42;t=1                                 (section 4)
/// Retry-After: 3                                                   (RFC 9110 section 10.2.3, on 429)
/// </code>
/// Only values are written; the caller writes the field names (<see cref="PolicyName"/>,
/// <see cref="RateLimitName"/>, <see cref="RetryAfterName"/>).
/// </summary>
internal static class RateLimitHeaders
{
    public static ReadOnlySpan<byte> PolicyName => "RateLimit-Policy"u8;

    public static ReadOnlySpan<byte> RateLimitName => "RateLimit"u8;

    public static ReadOnlySpan<byte> RetryAfterName => "Retry-After"u8;

    /// <summary>Longest RateLimit value for a policy: name + ";r=" + 19 digits + ";t=" + 10 digits.</summary>
    public static int MaxRateLimitLength(RateLimitPolicy policy) => policy.QuotedName.Length + 3 + 19 + 3 + 10;

    /// <summary>The policy's constant `RateLimit-Policy` value (computed once with the policy).</summary>
    public static bool TryWritePolicy(RateLimitPolicy policy, Span<byte> destination, out int written)
    {
        written = 0;
        if (!policy.PolicyHeaderValue.AsSpan().TryCopyTo(destination))
        {
            return false;
        }

        written = policy.PolicyHeaderValue.Length;
        return true;
    }

    /// <summary>
    /// `RateLimit: "name";r=R;t=T`: r the whole tokens left (section 4.1.1), t the seconds until the
    /// bucket is full again (section 4.1.2, the window in which no more than r requests are granted).
    /// </summary>
    public static bool TryWriteRateLimit(RateLimitPolicy policy, in RateLimitDecision decision, Span<byte> destination, out int written)
    {
        written = 0;
        ReadOnlySpan<byte> name = policy.QuotedName;
        if (!name.TryCopyTo(destination))
        {
            return false;
        }

        int position = name.Length;
        if (!TryAppend(destination, ref position, ";r="u8)
            || !decision.Remaining.TryFormat(destination[position..], out int digits))
        {
            return false;
        }

        position += digits;
        if (!TryAppend(destination, ref position, ";t="u8)
            || !decision.ResetSeconds.TryFormat(destination[position..], out digits))
        {
            return false;
        }

        written = position + digits;
        return true;
    }

    /// <summary>`Retry-After` as delay-seconds (RFC 9110 section 10.2.3); at least 1 on a denial.</summary>
    public static bool TryWriteRetryAfter(in RateLimitDecision decision, Span<byte> destination, out int written) =>
        decision.RetryAfterSeconds.TryFormat(destination, out written);

    private static bool TryAppend(Span<byte> destination, ref int position, ReadOnlySpan<byte> text)
    {
        if (!text.TryCopyTo(destination[position..]))
        {
            return false;
        }

        position += text.Length;
        return true;
    }
}
