using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Unicode;

namespace FastGate.Gateway.Security;

/// <summary>Validates compact JWS tokens (RFC 7519, RFC 7515) against one <see cref="JwtPolicy"/>, following
/// the JWT best current practice (RFC 8725); allocation-free per token.</summary>
/// <remarks>
/// Order of checks, each failing fast with its own <see cref="JwtValidationResult"/>:
/// <list type="number">
/// <item>size, before any decoding; then the verified-token cache (a hit skips everything below but "exp");</item>
/// <item>three parts, strict base64url of the header, the header JSON (unique names, valid UTF-8);</item>
/// <item>"alg" against the policy's allow-list before anything else is looked at (RFC 8725 section 3.1);
/// "none" cannot be allowed; then "crit" (RFC 7515 section 4.1.11: FastGate understands no extension, so
/// any "crit" is rejected) and "typ";</item>
/// <item>the key: by "kid" (unknown: a throttled refresh is requested); a key verifies only the algorithms of
/// its type and declared "alg" (RFC 8725 section 3.1: an RSA public key is never an HMAC secret). Keys without
/// a "kid" are candidates for any token; a token without "kid" is tried with every fitting key;</item>
/// <item>the signature, before the payload JSON is parsed, so unauthenticated bytes never reach the parser;</item>
/// <item>the claims: "exp" required; "exp", "nbf", "iat" with the clock skew (RFC 7519 section 4.1);
/// "iss" exact; "aud" a string or an array holding one of the policy's audiences (RFC 8725 sections 3.8, 3.9).</item>
/// </list>
/// Header parameters that carry keys ("jwk", "jku", "x5u", "x5c") are ignored: keys come only from the key set.
/// Thread-safe; one instance per <c>[auth.NAME]</c>.
/// </remarks>
[SkipLocalsInit]
internal sealed class JwtValidator
{
    /// <summary>An RSA 8192 signature; ES512 is 132 bytes, HS512 64.</summary>
    private const int MaxSignatureBytes = 1024;
    private const int MaxKidBytes = 256;

    [ThreadStatic]
    private static JwtValidationContext? t_context;

    private readonly JwtPolicy _policy;
    private readonly IJwtKeySource _keys;
    private readonly VerifiedTokenCache? _cache;

    /// <param name="cacheCapacity">verified tokens kept (rounded up to a power of two); 0 disables the cache</param>
    public JwtValidator(JwtPolicy policy, IJwtKeySource keys, int cacheCapacity = VerifiedTokenCache.DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(keys);
        _policy = policy;
        _keys = keys;
        _cache = cacheCapacity > 0 ? new VerifiedTokenCache(cacheCapacity) : null;
    }

    public JwtPolicy Policy => _policy;

    /// <summary>Validates with a context owned by the calling thread: <paramref name="claims"/> stays valid only
    /// until the next validation on this thread, so read it before any await (or use the context overload).</summary>
    public JwtValidationResult Validate(ReadOnlySpan<byte> token, long nowUnixSeconds, out JwtClaims claims)
    {
        JwtValidationContext context = t_context ??= new JwtValidationContext();
        JwtValidationResult result = Validate(token, nowUnixSeconds, context);
        claims = context.Claims;
        return result;
    }

    /// <summary>Validates; on <see cref="JwtValidationResult.Valid"/> the claims are in
    /// <see cref="JwtValidationContext.Claims"/> until the context validates another token.</summary>
    public JwtValidationResult Validate(ReadOnlySpan<byte> token, long nowUnixSeconds, JwtValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Reset();
        if (token.Length > _policy.MaxTokenSize)
        {
            return JwtValidationResult.TooLarge;
        }

        JwtKeySet keys = _keys.Current;
        ulong hash = 0;
        if (_cache is not null)
        {
            hash = _cache.Hash(token);
            VerifiedTokenCache.Entry? entry = _cache.Find(token, hash, keys);
            if (entry is not null)
            {
                if (nowUnixSeconds - _policy.ClockSkewSeconds >= entry.ExpiresAt)
                {
                    return JwtValidationResult.Expired;
                }

                context.SetPayload(entry.Payload, entry.ExpiresAt);
                return JwtValidationResult.Valid;
            }
        }

        try
        {
            JwtValidationResult result = ValidateUncached(token, nowUnixSeconds, keys, context, out long expiresAt);
            if (result == JwtValidationResult.Valid && _cache is not null)
            {
                _cache.Add(token, hash, context.Claims.Payload, expiresAt, keys, nowUnixSeconds);
            }

            return result;
        }
        catch (JsonException)
        {
            // Utf8JsonReader reports invalid JSON by throwing; only hostile or broken tokens get here.
            context.Reset();
            return JwtValidationResult.Malformed;
        }
    }

    /// <summary>The token of an Authorization field value "Bearer TOKEN" (RFC 6750 section 2.1; the scheme is
    /// case-insensitive, RFC 9110 section 11.1).</summary>
    public static bool TryGetBearerToken(ReadOnlySpan<byte> authorization, out ReadOnlySpan<byte> token)
    {
        token = default;
        if (authorization.Length < 8 || !System.Text.Ascii.EqualsIgnoreCase(authorization[..6], "Bearer"u8) || authorization[6] != (byte)' ')
        {
            return false;
        }

        token = authorization[7..].Trim((byte)' ');
        return !token.IsEmpty;
    }

    private JwtValidationResult ValidateUncached(
        ReadOnlySpan<byte> token, long now, JwtKeySet keys, JwtValidationContext context, out long expiresAt)
    {
        expiresAt = 0;

        // RFC 7515 section 7.1: BASE64URL(header) '.' BASE64URL(payload) '.' BASE64URL(signature). The header ends
        // at the first dot (found by the remembered header's text when it matches) and the signature starts after
        // the last: a dot anywhere between them makes the payload fail its decoding, so a token of more than three
        // parts is still Malformed without a search through the payload. Only a rejected header could answer
        // before the payload is decoded; it looks for such a dot itself, so the verdicts stay those of a split
        // that refuses extra parts first.
        AcceptedHeader? last = context.LastHeader;
        bool remembered = last is not null && last.Precedes(this, token);
        int firstDot = remembered ? last!.EncodedLength : token.IndexOf((byte)'.');
        int lastDot = token.LastIndexOf((byte)'.');
        if (firstDot <= 0 || lastDot - firstDot <= 1)
        {
            return JwtValidationResult.Malformed;
        }

        ReadOnlySpan<byte> encodedHeader = token[..firstDot];
        ReadOnlySpan<byte> encodedPayload = token[(firstDot + 1)..lastDot];
        ReadOnlySpan<byte> encodedSignature = token[(lastDot + 1)..];
        ReadOnlySpan<byte> signingInput = token[..lastDot];

        int headerCapacity = Base64UrlStrict.MaxDecodedLength(encodedHeader.Length);
        Span<byte> buffer = context.GetBuffer(headerCapacity + Base64UrlStrict.MaxDecodedLength(encodedPayload.Length));
        JwtAlgorithms algorithm;
        int kidLength;
        scoped ReadOnlySpan<byte> kid;
        Span<byte> kidBuffer = stackalloc byte[MaxKidBytes];
        if (remembered)
        {
            algorithm = last!.Algorithm;
            kidLength = last.KidLength;
            kid = last.Kid;
        }
        else
        {
            if (!Base64UrlStrict.TryDecode(encodedHeader, buffer, out int headerLength))
            {
                return JwtValidationResult.Malformed;
            }

            JwtValidationResult headerResult = ReadHeader(buffer[..headerLength], kidBuffer, out algorithm, out kidLength);
            if (headerResult != JwtValidationResult.Valid)
            {
                return encodedPayload.Contains((byte)'.') ? JwtValidationResult.Malformed : headerResult;
            }

            kid = kidLength < 0 ? default : kidBuffer[..kidLength];
            AcceptedHeader.Remember(context, this, encodedHeader, algorithm, kidLength, kid);
        }

        if (!Base64UrlStrict.TryDecode(encodedPayload, buffer[headerCapacity..], out int payloadLength))
        {
            return JwtValidationResult.Malformed;
        }

        Span<byte> signature = stackalloc byte[MaxSignatureBytes];
        if (encodedSignature.Length > Base64UrlStrict.MaxDecodedLength(MaxSignatureBytes) + 4
            || !Base64UrlStrict.TryDecode(encodedSignature, signature, out int signatureLength))
        {
            return encodedSignature.IsEmpty ? JwtValidationResult.BadSignature : JwtValidationResult.Malformed;
        }

        JwtValidationResult signatureResult = VerifySignature(
            keys, algorithm, kid, kidLength >= 0, signingInput, signature[..signatureLength]);
        if (signatureResult != JwtValidationResult.Valid)
        {
            return signatureResult;
        }

        ReadOnlySpan<byte> payload = buffer.Slice(headerCapacity, payloadLength);
        JwtValidationResult claimsResult = ReadClaims(payload, now, out expiresAt);
        if (claimsResult == JwtValidationResult.Valid)
        {
            context.SetPayload(headerCapacity, payloadLength, expiresAt);
        }

        return claimsResult;
    }

    /// <param name="kidLength">-1 when the header has no "kid"</param>
    /// <remarks>The scan decides only valid UTF-8 (it checks what is not ASCII itself); what it leaves is checked
    /// here before the reader sees it.</remarks>
    private JwtValidationResult ReadHeader(ReadOnlySpan<byte> header, Span<byte> kid, out JwtAlgorithms algorithm, out int kidLength)
    {
        if (TryReadHeaderFast(header, kid, out algorithm, out kidLength, out JwtValidationResult result))
        {
            return result;
        }

        if (!Utf8.IsValid(header))
        {
            algorithm = JwtAlgorithms.None;
            kidLength = -1;
            return JwtValidationResult.Malformed;
        }

        return ReadHeaderWithReader(header, kid, out algorithm, out kidLength);
    }

    /// <summary>The header by <see cref="JwtJsonMembers"/>; false when that scan is unsure or a member has the
    /// wrong type, and <see cref="ReadHeaderWithReader"/> decides.</summary>
    private bool TryReadHeaderFast(
        ReadOnlySpan<byte> header, Span<byte> kid, out JwtAlgorithms algorithm, out int kidLength, out JwtValidationResult result)
    {
        var members = new HeaderMembers(kid);
        bool decided = JwtJsonMembers.Scan(header, ref members) == JwtJsonStep.End;
        algorithm = members.Algorithm;
        kidLength = members.KidLength;
        result = decided
            ? HeaderVerdict(members.HasAlgorithm, members.KnownAlgorithm, algorithm, members.HasCrit, members.TypeOk, ref kidLength)
            : JwtValidationResult.Malformed;
        return decided;
    }

    /// <summary>The header by Utf8JsonReader: escapes, unusual shapes, and every malformed header.</summary>
    private JwtValidationResult ReadHeaderWithReader(ReadOnlySpan<byte> header, Span<byte> kid, out JwtAlgorithms algorithm, out int kidLength)
    {
        algorithm = JwtAlgorithms.None;
        kidLength = -1;
        bool hasAlgorithm = false;
        bool knownAlgorithm = false;
        bool hasCrit = false;
        bool typeOk = true;
        Span<byte> nameBytes = stackalloc byte[JwtMemberNames.MaxNameBytes];
        Span<int> nameSpans = stackalloc int[JwtMemberNames.MaxMembers];
        var names = default(JwtMemberNames);
        Span<byte> algorithmName = stackalloc byte[8];
        Span<byte> typeBuffer = stackalloc byte[32];
        var reader = new Utf8JsonReader(header);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return JwtValidationResult.Malformed;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!TryAddName(ref names, nameSpans, in reader, nameBytes))
            {
                return JwtValidationResult.Malformed;
            }

            if (reader.ValueTextEquals("alg"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    return JwtValidationResult.Malformed;
                }

                hasAlgorithm = true;
                knownAlgorithm = TryCopyString(in reader, algorithmName, out int nameLength)
                    && JwtAlgorithmInfo.TryParse(algorithmName[..nameLength], out algorithm);
            }
            else if (reader.ValueTextEquals("kid"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    return JwtValidationResult.Malformed;
                }

                // A kid longer than any configured one cannot match: -2 keeps "present" without the bytes.
                kidLength = TryCopyString(in reader, kid, out int written) ? written : -2;
            }
            else if (reader.ValueTextEquals("typ"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    return JwtValidationResult.Malformed;
                }

                typeOk = TryCopyString(in reader, typeBuffer, out int typeLength) && IsAcceptedType(typeBuffer[..typeLength]);
            }
            else if (reader.ValueTextEquals("crit"u8))
            {
                reader.Read();
                hasCrit = true;
                reader.Skip();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        // Anything after the object throws in Read (one JSON value per document).
        if (reader.TokenType != JsonTokenType.EndObject || reader.Read() || names.HasDuplicate(nameSpans, nameBytes))
        {
            return JwtValidationResult.Malformed;
        }

        return HeaderVerdict(hasAlgorithm, knownAlgorithm, algorithm, hasCrit, typeOk, ref kidLength);
    }

    /// <summary>The checks on a well-formed header, in the order of the class remarks.</summary>
    private JwtValidationResult HeaderVerdict(bool hasAlgorithm, bool knownAlgorithm, JwtAlgorithms algorithm, bool hasCrit, bool typeOk, ref int kidLength)
    {
        if (!hasAlgorithm)
        {
            return JwtValidationResult.Malformed;
        }

        if (!knownAlgorithm || (algorithm & _policy.Algorithms) == 0)
        {
            return JwtValidationResult.AlgorithmNotAllowed;
        }

        if (hasCrit)
        {
            return JwtValidationResult.UnknownCriticalHeader;
        }

        if (kidLength == -2)
        {
            kidLength = 0;
            return JwtValidationResult.UnknownKey;
        }

        return typeOk ? JwtValidationResult.Valid : JwtValidationResult.WrongType;
    }

    /// <summary>"JWT" (RFC 7519 section 5.1) or "at+jwt" (RFC 9068 section 2.1), with or without the
    /// "application/" prefix, case-insensitive (RFC 7515 section 4.1.9).</summary>
    private static bool IsAcceptedType(ReadOnlySpan<byte> value)
    {
        if (value.Length > 12 && System.Text.Ascii.EqualsIgnoreCase(value[..12], "application/"u8))
        {
            value = value[12..];
        }

        return System.Text.Ascii.EqualsIgnoreCase(value, "JWT"u8) || System.Text.Ascii.EqualsIgnoreCase(value, "at+jwt"u8);
    }

    private JwtValidationResult VerifySignature(
        JwtKeySet keys, JwtAlgorithms algorithm, ReadOnlySpan<byte> kid, bool hasKid, ReadOnlySpan<byte> signingInput, ReadOnlySpan<byte> signature)
    {
        if (hasKid)
        {
            JwtKey? key = keys.Find(kid);
            if (key is not null)
            {
                if (!key.Supports(algorithm))
                {
                    return JwtValidationResult.KeyAlgorithmMismatch;
                }

                return Verify(key, algorithm, signingInput, signature) ? JwtValidationResult.Valid : JwtValidationResult.BadSignature;
            }
        }

        // No kid, or a kid no key carries: keys configured without a kid are candidates for any token.
        bool candidate = false;
        foreach (JwtKey key in keys.All)
        {
            if ((hasKid && key.KidUtf8 is not null) || !key.Supports(algorithm))
            {
                continue;
            }

            candidate = true;
            if (Verify(key, algorithm, signingInput, signature))
            {
                return JwtValidationResult.Valid;
            }
        }

        if (!candidate)
        {
            if (hasKid)
            {
                // The issuer may have rotated its keys since the last fetch.
                _keys.RequestRefresh();
            }

            return JwtValidationResult.UnknownKey;
        }

        return JwtValidationResult.BadSignature;
    }

    private static bool Verify(JwtKey key, JwtAlgorithms algorithm, ReadOnlySpan<byte> signingInput, ReadOnlySpan<byte> signature)
    {
        // The native HMAC throws nothing, and stays out of the try below: in a try region the JIT calls each of
        // its P/Invokes through a stub instead of inlining the call (3-5 ns of a cold HS256 validation).
        if (key.HasNativeHmac)
        {
            return VerifyHmac(key, algorithm, signingInput, signature);
        }

        try
        {
            switch (key.Type)
            {
                case JwtKeyType.Oct:
                    return VerifyHmac(key, algorithm, signingInput, signature);
                case JwtKeyType.Rsa:
                    RSASignaturePadding padding = (algorithm & (JwtAlgorithms.PS256 | JwtAlgorithms.PS384 | JwtAlgorithms.PS512)) != 0
                        ? RSASignaturePadding.Pss
                        : RSASignaturePadding.Pkcs1;
                    return key.Rsa!.VerifyData(signingInput, signature, JwtAlgorithmInfo.Hash(algorithm), padding);
                default:
                    // RFC 7518 section 3.4: R || S, each the size of the curve order, not DER.
                    return key.Ecdsa!.VerifyData(
                        signingInput, signature, JwtAlgorithmInfo.Hash(algorithm), DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
            }
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static bool VerifyHmac(JwtKey key, JwtAlgorithms algorithm, ReadOnlySpan<byte> signingInput, ReadOnlySpan<byte> signature)
    {
        Span<byte> mac = stackalloc byte[64];
        int length = key.ComputeHmac(algorithm, signingInput, mac);
        return HmacSha2.MacEquals(mac[..length], signature);
    }

    private JwtValidationResult ReadClaims(ReadOnlySpan<byte> payload, long now, out long expiresAt)
    {
        if (TryReadClaimsFast(payload, now, out expiresAt, out JwtValidationResult result))
        {
            return result;
        }

        if (!Utf8.IsValid(payload))
        {
            expiresAt = 0;
            return JwtValidationResult.Malformed;
        }

        return ReadClaimsWithReader(payload, now, out expiresAt);
    }

    /// <summary>The claims by <see cref="JwtJsonMembers"/>; false when that scan is unsure, a registered claim
    /// has the wrong type, or a date is not a plain integer, and <see cref="ReadClaimsWithReader"/> decides.</summary>
    private bool TryReadClaimsFast(ReadOnlySpan<byte> payload, long now, out long expiresAt, out JwtValidationResult result)
    {
        var members = new ClaimMembers();
        bool decided = JwtJsonMembers.Scan(payload, ref members) == JwtJsonStep.End;
        expiresAt = members.ExpiresAt;
        result = JwtValidationResult.Malformed;
        if (!decided)
        {
            return false;
        }

        bool audienceOk = members.IsAudience(_policy, out decided);
        if (decided)
        {
            result = ClaimsVerdict(now, members.HasExpiry, expiresAt, members.NotBefore, members.IssuedAt, members.IsIssuer(_policy), audienceOk);
        }

        return decided;
    }

    /// <summary>The claims by Utf8JsonReader: escapes, fractional dates, unusual shapes, and every malformed
    /// claims set.</summary>
    private JwtValidationResult ReadClaimsWithReader(ReadOnlySpan<byte> payload, long now, out long expiresAt)
    {
        expiresAt = 0;
        bool hasExpiry = false;
        long notBefore = long.MinValue;
        long issuedAt = long.MinValue;
        bool issuerOk = false;
        bool audienceOk = false;
        Span<byte> nameBytes = stackalloc byte[JwtMemberNames.MaxNameBytes];
        Span<int> nameSpans = stackalloc int[JwtMemberNames.MaxMembers];
        var names = default(JwtMemberNames);
        var reader = new Utf8JsonReader(payload);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return JwtValidationResult.Malformed;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!TryAddName(ref names, nameSpans, in reader, nameBytes))
            {
                return JwtValidationResult.Malformed;
            }

            RegisteredClaim claim = ClassifyClaim(in reader);
            if (claim == RegisteredClaim.Expiry)
            {
                reader.Read();
                if (!TryGetNumericDate(ref reader, out expiresAt))
                {
                    return JwtValidationResult.Malformed;
                }

                hasExpiry = true;
            }
            else if (claim == RegisteredClaim.NotBefore)
            {
                reader.Read();
                if (!TryGetNumericDate(ref reader, out notBefore))
                {
                    return JwtValidationResult.Malformed;
                }
            }
            else if (claim == RegisteredClaim.IssuedAt)
            {
                reader.Read();
                if (!TryGetNumericDate(ref reader, out issuedAt))
                {
                    return JwtValidationResult.Malformed;
                }
            }
            else if (claim == RegisteredClaim.Issuer)
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    return JwtValidationResult.Malformed;
                }

                issuerOk = reader.ValueTextEquals(_policy.IssuerUtf8);
            }
            else if (claim == RegisteredClaim.Audience)
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    audienceOk = IsAudienceEscaped(ref reader);
                }
                else if (reader.TokenType == JsonTokenType.StartArray)
                {
                    while (reader.Read() && reader.TokenType == JsonTokenType.String)
                    {
                        audienceOk |= IsAudienceEscaped(ref reader);
                    }

                    if (reader.TokenType != JsonTokenType.EndArray)
                    {
                        return JwtValidationResult.Malformed;
                    }
                }
                else
                {
                    return JwtValidationResult.Malformed;
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (reader.TokenType != JsonTokenType.EndObject || reader.Read() || names.HasDuplicate(nameSpans, nameBytes))
        {
            return JwtValidationResult.Malformed;
        }

        return ClaimsVerdict(now, hasExpiry, expiresAt, notBefore, issuedAt, issuerOk, audienceOk);
    }

    /// <summary>The checks on a well-formed claims set (RFC 7519 section 4.1, RFC 8725 sections 3.8 and 3.9).</summary>
    private JwtValidationResult ClaimsVerdict(
        long now, bool hasExpiry, long expiresAt, long notBefore, long issuedAt, bool issuerOk, bool audienceOk)
    {
        long skew = _policy.ClockSkewSeconds;
        if (!hasExpiry)
        {
            return JwtValidationResult.MissingExpiry;
        }

        // Compared as "now - skew" so an exp near long.MaxValue cannot overflow.
        if (now - skew >= expiresAt)
        {
            return JwtValidationResult.Expired;
        }

        if (notBefore > now + skew)
        {
            return JwtValidationResult.NotYetValid;
        }

        if (issuedAt > now + skew)
        {
            return JwtValidationResult.IssuedInFuture;
        }

        if (!issuerOk)
        {
            return JwtValidationResult.WrongIssuer;
        }

        return audienceOk ? JwtValidationResult.Valid : JwtValidationResult.WrongAudience;
    }

    private enum RegisteredClaim
    {
        Other,
        Expiry,
        NotBefore,
        IssuedAt,
        Issuer,
        Audience,
    }

    /// <summary>Which registered claim the current property name is (RFC 7519 section 4.1). The five names this
    /// validator reads are all three bytes long: an unescaped name is told by its length and one 24-bit compare
    /// instead of up to five ValueTextEquals calls per member; an escaped one takes those calls, which unescape.</summary>
    private static RegisteredClaim ClassifyClaim(in Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped)
        {
            return reader.ValueTextEquals("exp"u8) ? RegisteredClaim.Expiry
                : reader.ValueTextEquals("nbf"u8) ? RegisteredClaim.NotBefore
                : reader.ValueTextEquals("iat"u8) ? RegisteredClaim.IssuedAt
                : reader.ValueTextEquals("iss"u8) ? RegisteredClaim.Issuer
                : reader.ValueTextEquals("aud"u8) ? RegisteredClaim.Audience
                : RegisteredClaim.Other;
        }

        return ClassifyClaim(reader.ValueSpan);
    }

    /// <summary>An unescaped name.</summary>
    private static RegisteredClaim ClassifyClaim(ReadOnlySpan<byte> name)
    {
        if (name.Length != 3)
        {
            return RegisteredClaim.Other;
        }

        return (name[0] | (name[1] << 8) | (name[2] << 16)) switch
        {
            'e' | ('x' << 8) | ('p' << 16) => RegisteredClaim.Expiry,
            'n' | ('b' << 8) | ('f' << 16) => RegisteredClaim.NotBefore,
            'i' | ('a' << 8) | ('t' << 16) => RegisteredClaim.IssuedAt,
            'i' | ('s' << 8) | ('s' << 16) => RegisteredClaim.Issuer,
            'a' | ('u' << 8) | ('d' << 16) => RegisteredClaim.Audience,
            _ => RegisteredClaim.Other,
        };
    }

    private static bool IsAudience(JwtPolicy policy, ReadOnlySpan<byte> value)
    {
        foreach (byte[] audience in policy.AudiencesUtf8)
        {
            if (value.SequenceEqual(audience))
            {
                return true;
            }
        }

        return false;
    }

    private bool IsAudienceEscaped(ref Utf8JsonReader reader)
    {
        foreach (byte[] audience in _policy.AudiencesUtf8)
        {
            if (reader.ValueTextEquals(audience))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>RFC 7519 section 2: NumericDate is a JSON number of seconds, possibly fractional; the fraction is
    /// dropped (an "exp" of 10.9 expires at 10, never later).</summary>
    private static bool TryGetNumericDate(ref Utf8JsonReader reader, out long seconds)
    {
        seconds = 0;
        if (reader.TokenType != JsonTokenType.Number)
        {
            return false;
        }

        if (reader.TryGetInt64(out seconds))
        {
            return true;
        }

        if (!reader.TryGetDouble(out double value) || !double.IsFinite(value))
        {
            return false;
        }

        seconds = value >= long.MaxValue ? long.MaxValue : value <= long.MinValue ? long.MinValue : (long)Math.Floor(value);
        return true;
    }

    /// <summary>Unescapes the current string or property name; false when it may not fit (an escaped value is
    /// raw (escaped) length bounds the unescaped one, so that is what is checked).</summary>
    private static bool TryCopyString(in Utf8JsonReader reader, Span<byte> destination, out int written)
    {
        written = 0;
        if (reader.ValueSpan.Length > destination.Length)
        {
            return false;
        }

        if (reader.ValueIsEscaped)
        {
            written = reader.CopyString(destination);
        }
        else
        {
            reader.ValueSpan.CopyTo(destination);
            written = reader.ValueSpan.Length;
        }

        return true;
    }

    /// <summary>Unescapes the current property name into <paramref name="nameBytes"/> after the names before it and
    /// records it; false past the limits of <see cref="JwtMemberNames"/>.</summary>
    private static bool TryAddName(ref JwtMemberNames names, Span<int> nameSpans, in Utf8JsonReader reader, Span<byte> nameBytes)
    {
        int start = names.NameBytes;
        return TryCopyString(in reader, nameBytes[start..], out int length) && names.TryAdd(nameSpans, start, length);
    }

    /// <summary>The header members the validator reads, collected by <see cref="JwtJsonMembers.Scan"/>.</summary>
    private ref struct HeaderMembers : IJwtJsonMemberHandler
    {
        private readonly Span<byte> _kid;

        public HeaderMembers(Span<byte> kid)
        {
            _kid = kid;
            KidLength = -1;
            TypeOk = true;
        }

        public JwtAlgorithms Algorithm;
        public bool HasAlgorithm;
        public bool KnownAlgorithm;
        public bool HasCrit;
        public bool TypeOk;

        /// <summary>-1 without "kid", -2 for one longer than any key's.</summary>
        public int KidLength;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool OnMember(ReadOnlySpan<byte> name, JsonTokenType kind, ReadOnlySpan<byte> value, long integer)
        {
            if (name.Length == 4)
            {
                HasCrit |= name.SequenceEqual("crit"u8);
                return true;
            }

            if (name.Length != 3)
            {
                return true;
            }

            switch (name[0] | (name[1] << 8) | (name[2] << 16))
            {
                case 'a' | ('l' << 8) | ('g' << 16):
                    HasAlgorithm = true;
                    KnownAlgorithm = JwtAlgorithmInfo.TryParse(value, out Algorithm);
                    break;
                case 'k' | ('i' << 8) | ('d' << 16):
                    KidLength = value.TryCopyTo(_kid) ? value.Length : -2;
                    break;
                case 't' | ('y' << 8) | ('p' << 16):
                    TypeOk = IsAcceptedType(value);
                    break;
                default:
                    return true;
            }

            // The three are strings (RFC 7515 sections 4.1.1, 4.1.4, 4.1.9); any other type the reader path rejects.
            return kind == JsonTokenType.String;
        }
    }

    /// <summary>The registered claims the validator reads, collected by <see cref="JwtJsonMembers.Scan"/>.</summary>
    /// <remarks>During the scan the "iss" and "aud" values are only kept (spans into the document) and compared once
    /// it ends: a call in the member loop (a span compare is one) makes the JIT save and reload the loop's live
    /// registers around it. With the compares in the loop, the benchmark token's claims scan took 30-40 ns more than
    /// with a handler that does nothing (perf-results/benchmarks_2026-11-27_hs256d.md). The scan rejects duplicate
    /// names, so each value is the claim's only one.</remarks>
    private ref struct ClaimMembers : IJwtJsonMemberHandler
    {
        public ClaimMembers()
        {
            NotBefore = long.MinValue;
            IssuedAt = long.MinValue;
        }

        public long ExpiresAt;
        public bool HasExpiry;
        public long NotBefore;
        public long IssuedAt;
        public bool HasIssuer;
        public ReadOnlySpan<byte> Issuer;

        /// <summary><see cref="JsonTokenType.String"/> or <see cref="JsonTokenType.StartArray"/> when the claims hold
        /// an "aud", else <see cref="JsonTokenType.None"/>.</summary>
        public JsonTokenType AudienceKind;
        public ReadOnlySpan<byte> Audience;

        /// <summary>False for a registered claim of the wrong type, or a date that is not a plain integer
        /// (a fraction, an exponent): the reader path decides those.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool OnMember(ReadOnlySpan<byte> name, JsonTokenType kind, ReadOnlySpan<byte> value, long integer)
        {
            switch (ClassifyClaim(name))
            {
                case RegisteredClaim.Other:
                    return true;
                case RegisteredClaim.Expiry:
                    ExpiresAt = integer;
                    HasExpiry = true;
                    return integer != JwtJsonMembers.NotAnInteger;
                case RegisteredClaim.NotBefore:
                    NotBefore = integer;
                    return integer != JwtJsonMembers.NotAnInteger;
                case RegisteredClaim.IssuedAt:
                    IssuedAt = integer;
                    return integer != JwtJsonMembers.NotAnInteger;
                case RegisteredClaim.Issuer:
                    HasIssuer = true;
                    Issuer = value;
                    return kind == JsonTokenType.String;
                default:
                    AudienceKind = kind;
                    Audience = value;
                    return kind is JsonTokenType.String or JsonTokenType.StartArray;
            }
        }

        /// <summary>Whether the "iss" kept by the scan is the policy's, exactly (RFC 7519 section 4.1.1).</summary>
        public readonly bool IsIssuer(JwtPolicy policy) => HasIssuer && Issuer.SequenceEqual(policy.IssuerUtf8);

        /// <summary>Whether the "aud" kept by the scan, a string or an array of them, names one of the policy's
        /// audiences (RFC 7519 section 4.1.3); false in <paramref name="decided"/> for an array holding anything
        /// but strings, which the reader path decides.</summary>
        public readonly bool IsAudience(JwtPolicy policy, out bool decided)
        {
            decided = true;
            if (AudienceKind == JsonTokenType.String)
            {
                return JwtValidator.IsAudience(policy, Audience);
            }

            if (AudienceKind != JsonTokenType.StartArray)
            {
                return false;
            }

            bool audienceOk = false;
            int position = 0;
            bool notString;
            while (JwtJsonMembers.TryNextString(Audience, ref position, out ReadOnlySpan<byte> element, out notString))
            {
                audienceOk |= JwtValidator.IsAudience(policy, element);
            }

            decided = !notString;
            return audienceOk;
        }
    }

    /// <summary>
    /// The last header a validation context saw accepted by a validator, as its base64url text and what it said. An
    /// issuer signs all its tokens under one header ({"alg":"HS256","typ":"JWT","kid":"..."}), so the next token's
    /// first part is most often the same bytes: the same text decodes to the same JSON and gets the same verdict
    /// under the same policy, and the decoding and scanning (about 50 ns of a cold HS256 validation,
    /// perf-results/benchmarks_2026-11-26_hs256c.md) are skipped. Kept by the context (one per connection, or per
    /// thread for the overload without one), so it is written without locks and its buffers are reused: nothing
    /// is allocated after a context's first token. A thread-static slot cost a call to the TLS lookup
    /// (__tls_get_addr) on every validation, 5-10 ns (perf-results/benchmarks_2026-11-27_hs256e.md). Only accepted
    /// headers are kept, and only short ones.
    /// </summary>
    internal sealed class AcceptedHeader
    {
        private const int MaxEncodedBytes = 256;

        private readonly byte[] _encoded = new byte[MaxEncodedBytes];
        private readonly byte[] _kid = new byte[MaxKidBytes];
        private int _encodedLength;
        private JwtValidator? _validator;

        public JwtAlgorithms Algorithm { get; private set; }

        /// <summary>-1 when the header has no "kid".</summary>
        public int KidLength { get; private set; }

        public ReadOnlySpan<byte> Kid => _kid.AsSpan(0, Math.Max(KidLength, 0));

        public int EncodedLength => _encodedLength;

        /// <summary>Whether <paramref name="token"/> starts with this header's text and a dot, for the same
        /// validator: its first dot is then at <see cref="EncodedLength"/> (base64url text has none).</summary>
        public bool Precedes(JwtValidator validator, ReadOnlySpan<byte> token) =>
            ReferenceEquals(_validator, validator) && token.Length > _encodedLength && token[_encodedLength] == (byte)'.'
            && token[.._encodedLength].SequenceEqual(_encoded.AsSpan(0, _encodedLength));

        public static void Remember(
            JwtValidationContext context, JwtValidator validator, ReadOnlySpan<byte> encodedHeader, JwtAlgorithms algorithm, int kidLength, ReadOnlySpan<byte> kid)
        {
            if (encodedHeader.Length > MaxEncodedBytes)
            {
                return;
            }

            var entry = context.LastHeader ??= new AcceptedHeader();
            encodedHeader.CopyTo(entry._encoded);
            entry._encodedLength = encodedHeader.Length;
            kid.CopyTo(entry._kid);
            entry.KidLength = kidLength;
            entry.Algorithm = algorithm;
            entry._validator = validator;
        }
    }
}
