namespace FastGate.Gateway.Security;

/// <summary>The precise outcome of validating one token; every value but <see cref="Valid"/> is a 401.</summary>
/// <remarks>The value goes to metrics and the log, never to the client (RFC 6750 section 3.1 only says
/// "invalid_token").</remarks>
internal enum JwtValidationResult
{
    Valid,
    /// <summary>Not three base64url parts, non-canonical base64url, bad JSON, wrong claim types, duplicate names.</summary>
    Malformed,
    /// <summary>Longer than <see cref="JwtPolicy.MaxTokenSize"/>; rejected before any decoding.</summary>
    TooLarge,
    /// <summary>"alg" is "none", unknown, or not in the policy's allow-list.</summary>
    AlgorithmNotAllowed,
    /// <summary>"kid" names no key of the current key set (a throttled key refresh was requested), or the set
    /// has no key for the algorithm.</summary>
    UnknownKey,
    /// <summary>The key named by "kid" is of another type or declares another algorithm (no algorithm confusion).</summary>
    KeyAlgorithmMismatch,
    BadSignature,
    /// <summary>"exp" is missing (RFC 8725 section 3.10 lets a gateway require it; FastGate does).</summary>
    MissingExpiry,
    Expired,
    NotYetValid,
    IssuedInFuture,
    WrongIssuer,
    WrongAudience,
    /// <summary>"crit" names a header parameter FastGate does not understand (RFC 7515 section 4.1.11).</summary>
    UnknownCriticalHeader,
    /// <summary>"typ" is present and is neither "JWT" nor "at+jwt" (RFC 8725 section 3.11, RFC 9068 section 2.1).</summary>
    WrongType,
}
