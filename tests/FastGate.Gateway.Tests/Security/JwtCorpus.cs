using System.Security.Cryptography;
using System.Text;
using FastGate.Gateway.Security;
using Microsoft.IdentityModel.Tokens;
using static FastGate.Gateway.Tests.Security.JwtTestKeys;

namespace FastGate.Gateway.Tests.Security;

/// <summary>One token of the corpus: what FastGate must answer, and whether Microsoft's handler deliberately
/// answers otherwise (then <see cref="Difference"/> says why).</summary>
internal sealed record JwtCase(string Name, string Token, JwtValidationResult Expected, string? Difference = null)
{
    public override string ToString() => Name;
}

/// <summary>Valid tokens and every attack of RFC 8725 that applies to a JWS gateway, for the policy
/// <see cref="Policy"/> (every algorithm but HS384, so "alg not allowed" is a properly signed HS384 token).</summary>
internal static class JwtCorpus
{
    public const JwtAlgorithms CorpusAlgorithms = JwtAlgorithms.All & ~JwtAlgorithms.HS384;

    /// <summary>Microsoft does not check "iat" (it is informational to it); RFC 7519 section 4.1.6 leaves it to
    /// the application, and FastGate rejects a token issued in the future beyond the clock skew.</summary>
    public const string IatDifference = "Microsoft does not validate iat";

    /// <summary>FastGate accepts only "JWT" and "at+jwt" (RFC 8725 section 3.11); Microsoft accepts any typ unless
    /// ValidTypes is set.</summary>
    public const string TypDifference = "Microsoft accepts any typ";

    /// <summary>RFC 7519 section 2 defines NumericDate as a JSON number; Microsoft also parses a string.</summary>
    public const string NumericDateDifference = "Microsoft accepts a string exp";

    /// <summary>RFC 7515 section 4.1.11: a recipient MUST reject a "crit" it does not understand; Microsoft's
    /// handler ignores "crit".</summary>
    public const string CritDifference = "Microsoft ignores crit";

    /// <summary>FastGate requires unpadded base64url (RFC 7515 section 2); Microsoft's decoder skips '=' padding
    /// of the signature (the signature is not part of the signing input, so padding it keeps it valid).</summary>
    public const string PaddingDifference = "Microsoft accepts a padded signature";

    /// <summary>FastGate rejects a header or payload with content after its JSON object; Microsoft stops reading
    /// at the end of the object.</summary>
    public const string TrailingJsonDifference = "Microsoft ignores content after the JSON object";

    /// <summary>RFC 7515 section 4 and RFC 7519 section 4 let a parser reject duplicate member names or take the
    /// last; FastGate rejects them, so FastGate and an upstream parser can never read different claims from one
    /// token. Microsoft accepts them.</summary>
    public const string DuplicateDifference = "Microsoft accepts duplicate claim names";

    public static JwtPolicy Policy => JwtTestKeys.Policy(CorpusAlgorithms);

    public static IReadOnlyList<JwtCase> Valid { get; } = BuildValid();

    public static IReadOnlyList<JwtCase> Hostile { get; } = BuildHostile();

    private static List<JwtCase> BuildValid()
    {
        var cases = new List<JwtCase>();
        foreach (JwtAlgorithms algorithm in AllAlgorithms.Where(a => a != JwtAlgorithms.HS384))
        {
            cases.Add(new($"valid_{algorithm}_microsoft", MintWithMicrosoft(algorithm), JwtValidationResult.Valid));
            cases.Add(new($"valid_{algorithm}_hand", Sign(Header(algorithm), Payload(), algorithm), JwtValidationResult.Valid));
        }

        long now = Now;
        cases.Add(new("valid_aud_array", Sign(Header(JwtAlgorithms.RS256), Payload(aud: "[\"x\",\"fastgate\"]"), JwtAlgorithms.RS256), JwtValidationResult.Valid));
        cases.Add(new("valid_second_audience", Sign(Header(JwtAlgorithms.RS256), Payload(aud: "\"other-audience\""), JwtAlgorithms.RS256), JwtValidationResult.Valid));
        // No "expired within the skew" case here: the corpus is built once, and under a loaded test run
        // such a token outlived the skew before it was checked. Time_checks_apply_the_skew_at_the_exact_second
        // covers it with a fixed clock.
        cases.Add(new("valid_nbf_within_skew", Sign(Header(JwtAlgorithms.ES256), Payload(nbf: now + 10), JwtAlgorithms.ES256), JwtValidationResult.Valid));
        cases.Add(new("valid_typ_at_jwt", Sign("{\"alg\":\"RS256\",\"kid\":\"rsa\",\"typ\":\"at+jwt\"}", Payload(), JwtAlgorithms.RS256), JwtValidationResult.Valid));
        cases.Add(new("valid_typ_lowercase", Sign("{\"alg\":\"RS256\",\"kid\":\"rsa\",\"typ\":\"jwt\"}", Payload(), JwtAlgorithms.RS256), JwtValidationResult.Valid));
        cases.Add(new("valid_no_typ", Sign("{\"alg\":\"HS256\",\"kid\":\"hmac\"}", Payload(), JwtAlgorithms.HS256), JwtValidationResult.Valid));
        cases.Add(new("valid_escaped_issuer", Sign(Header(JwtAlgorithms.HS256), Payload(iss: "https:\\/\\/issuer.example"), JwtAlgorithms.HS256), JwtValidationResult.Valid));
        cases.Add(new("valid_unknown_header_ignored", Sign(Header(JwtAlgorithms.HS256, extra: ",\"jku\":\"https://evil.example/jwks\""), Payload(), JwtAlgorithms.HS256), JwtValidationResult.Valid));
        cases.Add(new("valid_nested_claims", Sign(Header(JwtAlgorithms.HS256), Payload(extra: ",\"roles\":[\"a\",\"b\"],\"ctx\":{\"x\":[1,{\"y\":null}]}"), JwtAlgorithms.HS256), JwtValidationResult.Valid));
        return cases;
    }

    private static List<JwtCase> BuildHostile()
    {
        long now = Now;
        string payload = Payload();
        string rs = Header(JwtAlgorithms.RS256);
        var cases = new List<JwtCase>
        {
            // RFC 8725 section 2.1: "none" and algorithms outside the allow-list.
            new("alg_none_empty_signature", B64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + B64(payload) + ".", JwtValidationResult.AlgorithmNotAllowed),
            new("alg_none_with_signature", SignWith("{\"alg\":\"none\",\"kid\":\"hmac\"}", payload, i => HMACSHA256.HashData(HmacSecret, i)), JwtValidationResult.AlgorithmNotAllowed),
            new("alg_None_case", B64("{\"alg\":\"None\"}") + "." + B64(payload) + ".", JwtValidationResult.AlgorithmNotAllowed),
            new("alg_not_allowed_HS384", Sign(Header(JwtAlgorithms.HS384), payload, JwtAlgorithms.HS384), JwtValidationResult.AlgorithmNotAllowed),
            new("alg_unknown", SignWith("{\"alg\":\"HS1024\",\"kid\":\"hmac\"}", payload, i => HMACSHA512.HashData(HmacSecret, i)), JwtValidationResult.AlgorithmNotAllowed),
            new("alg_not_string", SignWith("{\"alg\":256,\"kid\":\"hmac\"}", payload, i => HMACSHA256.HashData(HmacSecret, i)), JwtValidationResult.Malformed),
            new("alg_missing", SignWith("{\"kid\":\"hmac\"}", payload, i => HMACSHA256.HashData(HmacSecret, i)), JwtValidationResult.Malformed),

            // RFC 8725 section 2.1: algorithm confusion, the RSA public key used as an HMAC secret.
            new("confusion_hs256_rsa_pem", Sign(Header(JwtAlgorithms.HS256, kid: "rsa"), payload, JwtAlgorithms.HS256, Encoding.ASCII.GetBytes(Rsa.ExportSubjectPublicKeyInfoPem())), JwtValidationResult.KeyAlgorithmMismatch),
            new("confusion_hs256_rsa_der", Sign(Header(JwtAlgorithms.HS256, kid: "rsa"), payload, JwtAlgorithms.HS256, Rsa.ExportSubjectPublicKeyInfo()), JwtValidationResult.KeyAlgorithmMismatch),
            new("confusion_hs256_rsa_der_no_kid", Sign("{\"alg\":\"HS256\"}", payload, JwtAlgorithms.HS256, Rsa.ExportSubjectPublicKeyInfo()), JwtValidationResult.BadSignature),
            new("confusion_es256_kid_rsa", Sign(Header(JwtAlgorithms.ES256, kid: "rsa"), payload, JwtAlgorithms.ES256), JwtValidationResult.KeyAlgorithmMismatch),
            new("confusion_rs256_kid_hmac", Sign(Header(JwtAlgorithms.RS256, kid: "hmac"), payload, JwtAlgorithms.RS256), JwtValidationResult.KeyAlgorithmMismatch),
            new("confusion_es384_kid_p256", Sign(Header(JwtAlgorithms.ES384, kid: "p256"), payload, JwtAlgorithms.ES384), JwtValidationResult.KeyAlgorithmMismatch),

            // Keys.
            new("kid_unknown", Sign(Header(JwtAlgorithms.RS256, kid: "nope"), payload, JwtAlgorithms.RS256), JwtValidationResult.UnknownKey),
            new("kid_not_string", Sign("{\"alg\":\"RS256\",\"kid\":1}", payload, JwtAlgorithms.RS256), JwtValidationResult.Malformed),
            new("signature_other_key", Sign(rs, payload, JwtAlgorithms.RS256, rsa: OtherRsa), JwtValidationResult.BadSignature),
            new("signature_wrong_hmac_secret", Sign(Header(JwtAlgorithms.HS256), payload, JwtAlgorithms.HS256, Encoding.ASCII.GetBytes(new string('k', 64))), JwtValidationResult.BadSignature),
            new("signature_flipped_byte", MapSignature(Sign(rs, payload, JwtAlgorithms.RS256), s => { s[10] ^= 1; return s; }), JwtValidationResult.BadSignature),
            new("signature_truncated", MapSignature(Sign(rs, payload, JwtAlgorithms.RS256), s => s[..^1]), JwtValidationResult.BadSignature),
            new("signature_truncated_es256", MapSignature(Sign(Header(JwtAlgorithms.ES256), payload, JwtAlgorithms.ES256), s => s[..^2]), JwtValidationResult.BadSignature),
            new("signature_hs256_truncated", MapSignature(Sign(Header(JwtAlgorithms.HS256), payload, JwtAlgorithms.HS256), s => s[..16]), JwtValidationResult.BadSignature),
            new("signature_empty", Sign(rs, payload, JwtAlgorithms.RS256).Split('.')[0] + "." + B64(payload) + ".", JwtValidationResult.BadSignature),
            new("signature_es256_der", SignWith(Header(JwtAlgorithms.ES256), payload, i => P256.SignData(i, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)), JwtValidationResult.BadSignature),
            new("payload_swapped_after_signing", SwapPayload(Sign(rs, payload, JwtAlgorithms.RS256), Payload(iss: Issuer, extra: ",\"admin\":true")), JwtValidationResult.BadSignature),

            // Lifetime (RFC 7519 section 4.1), 30 s of skew.
            new("expired", Sign(rs, Payload(exp: now - 3600), JwtAlgorithms.RS256), JwtValidationResult.Expired),
            new("expired_beyond_skew", Sign(rs, Payload(exp: now - 60), JwtAlgorithms.RS256), JwtValidationResult.Expired),
            new("exp_missing", Sign(rs, $"{{\"iss\":\"{Issuer}\",\"aud\":\"{Audience}\"}}", JwtAlgorithms.RS256), JwtValidationResult.MissingExpiry),
            new("exp_string", Sign(rs, $"{{\"iss\":\"{Issuer}\",\"aud\":\"{Audience}\",\"exp\":\"{now + 3600}\"}}", JwtAlgorithms.RS256), JwtValidationResult.Malformed, NumericDateDifference),
            new("nbf_future", Sign(rs, Payload(nbf: now + 3600), JwtAlgorithms.RS256), JwtValidationResult.NotYetValid),
            new("iat_future", Sign(rs, Payload(iat: now + 3600), JwtAlgorithms.RS256), JwtValidationResult.IssuedInFuture, IatDifference),

            // Issuer and audience (RFC 8725 sections 3.8, 3.9).
            new("iss_wrong", Sign(rs, Payload(iss: "https://evil.example"), JwtAlgorithms.RS256), JwtValidationResult.WrongIssuer),
            new("iss_case", Sign(rs, Payload(iss: "HTTPS://ISSUER.EXAMPLE"), JwtAlgorithms.RS256), JwtValidationResult.WrongIssuer),
            new("iss_missing", Sign(rs, $"{{\"aud\":\"{Audience}\",\"exp\":{now + 3600}}}", JwtAlgorithms.RS256), JwtValidationResult.WrongIssuer),
            new("aud_wrong_string", Sign(rs, Payload(aud: "\"someone-else\""), JwtAlgorithms.RS256), JwtValidationResult.WrongAudience),
            new("aud_wrong_array", Sign(rs, Payload(aud: "[\"a\",\"b\"]"), JwtAlgorithms.RS256), JwtValidationResult.WrongAudience),
            new("aud_empty_array", Sign(rs, Payload(aud: "[]"), JwtAlgorithms.RS256), JwtValidationResult.WrongAudience),
            new("aud_prefix", Sign(rs, Payload(aud: "\"fastgat\""), JwtAlgorithms.RS256), JwtValidationResult.WrongAudience),
            new("aud_missing", Sign(rs, $"{{\"iss\":\"{Issuer}\",\"exp\":{now + 3600}}}", JwtAlgorithms.RS256), JwtValidationResult.WrongAudience),

            // Header parameters.
            new("crit_unknown", Sign("{\"alg\":\"RS256\",\"kid\":\"rsa\",\"crit\":[\"exp2\"],\"exp2\":1}", payload, JwtAlgorithms.RS256), JwtValidationResult.UnknownCriticalHeader, CritDifference),
            new("typ_jwe", Sign("{\"alg\":\"RS256\",\"kid\":\"rsa\",\"typ\":\"JOSE+JSON\"}", payload, JwtAlgorithms.RS256), JwtValidationResult.WrongType, TypDifference),
            new("typ_dpop", Sign("{\"alg\":\"RS256\",\"kid\":\"rsa\",\"typ\":\"dpop+jwt\"}", payload, JwtAlgorithms.RS256), JwtValidationResult.WrongType, TypDifference),

            // Size, before any decoding.
            new("too_large", Sign(rs, Payload(extra: $",\"pad\":\"{new string('a', 8000)}\""), JwtAlgorithms.RS256), JwtValidationResult.TooLarge),

            // Structure and base64url (RFC 7515 section 2, RFC 4648 section 3.5).
            new("empty", "", JwtValidationResult.Malformed),
            new("two_parts", B64(rs) + "." + B64(payload), JwtValidationResult.Malformed),
            new("four_parts", Sign(rs, payload, JwtAlgorithms.RS256) + ".AAAA", JwtValidationResult.Malformed),
            new("jwe_five_parts", B64("{\"alg\":\"RSA-OAEP\",\"enc\":\"A256GCM\"}") + ".AAAA.AAAA.AAAA.AAAA", JwtValidationResult.Malformed),
            new("empty_header", "." + B64(payload) + ".AAAA", JwtValidationResult.Malformed),
            new("invalid_char_payload", Replace(Sign(rs, payload, JwtAlgorithms.RS256), 1, 5, '*'), JwtValidationResult.Malformed),
            new("standard_base64_char", Replace(Sign(rs, payload, JwtAlgorithms.RS256), 2, 5, '+'), JwtValidationResult.Malformed),
            new("padding_header", PadPart(Sign(UnalignedHeader(), payload, JwtAlgorithms.HS256), 0), JwtValidationResult.Malformed),
            new("padding_signature", Sign(rs, payload, JwtAlgorithms.RS256) + "==", JwtValidationResult.Malformed, PaddingDifference),
            new("non_canonical_signature", NonCanonicalSignature(Sign(rs, payload, JwtAlgorithms.RS256)), JwtValidationResult.Malformed),
            new("non_canonical_header_resigned", SignEncoded(NonCanonical(B64(UnalignedHeader())), B64(payload), JwtAlgorithms.HS256), JwtValidationResult.Malformed),
            new("whitespace_in_token", Replace(Sign(rs, payload, JwtAlgorithms.RS256), 1, 5, ' '), JwtValidationResult.Malformed),

            // JSON.
            new("header_bad_json", SignWith("{\"alg\":\"HS256\",\"kid\":\"hmac\"", payload, i => HMACSHA256.HashData(HmacSecret, i)), JwtValidationResult.Malformed),
            new("header_array", SignWith("[\"HS256\"]", payload, i => HMACSHA256.HashData(HmacSecret, i)), JwtValidationResult.Malformed),
            new("header_trailing_garbage", SignWith(Header(JwtAlgorithms.HS256) + "x", payload, i => HMACSHA256.HashData(HmacSecret, i)), JwtValidationResult.Malformed, TrailingJsonDifference),
            new("payload_bad_json", Sign(rs, payload[..^1], JwtAlgorithms.RS256), JwtValidationResult.Malformed),
            new("payload_trailing_garbage", Sign(rs, payload + "{}", JwtAlgorithms.RS256), JwtValidationResult.Malformed, TrailingJsonDifference),
            new("payload_comment", Sign(rs, payload.Replace("{", "{/*c*/", StringComparison.Ordinal), JwtAlgorithms.RS256), JwtValidationResult.Malformed),
            new("payload_not_object", Sign(rs, "\"hello\"", JwtAlgorithms.RS256), JwtValidationResult.Malformed),
            new("payload_invalid_utf8", SignEncoded(B64(rs), B64([.. Encoding.UTF8.GetBytes(payload[..^1]), .. ",\"x\":\""u8.ToArray(), 0xC3, 0x28, (byte)'"', (byte)'}']), JwtAlgorithms.RS256), JwtValidationResult.Malformed),
            new("aud_number", Sign(rs, Payload(aud: "42"), JwtAlgorithms.RS256), JwtValidationResult.Malformed),

            // Duplicate names (RFC 7515 section 4, RFC 7519 section 4).
            new("duplicate_iss", Sign(rs, Payload(iss: Issuer, extra: ",\"iss\":\"https://evil.example\""), JwtAlgorithms.RS256), JwtValidationResult.Malformed),
            new("duplicate_exp", Sign(rs, Payload(exp: now - 3600, extra: $",\"exp\":{now + 3600}"), JwtAlgorithms.RS256), JwtValidationResult.Malformed, DuplicateDifference),
            new("duplicate_escaped_aud", Sign(rs, Payload(extra: ",\"a\\u0075d\":\"fastgate\""), JwtAlgorithms.RS256), JwtValidationResult.Malformed, DuplicateDifference),
            new("escaped_exp_name_is_exp", Sign(rs, Payload(exp: now - 3600).Replace("\"exp\"", "\"\\u0065xp\"", StringComparison.Ordinal), JwtAlgorithms.RS256), JwtValidationResult.Expired),
            new("escaped_iss_name_is_iss", Sign(rs, Payload(iss: "https://evil.example").Replace("\"iss\"", "\"i\\u0073s\"", StringComparison.Ordinal), JwtAlgorithms.RS256), JwtValidationResult.WrongIssuer),
            new("duplicate_custom_claim", Sign(rs, Payload(extra: ",\"role\":\"user\",\"role\":\"admin\""), JwtAlgorithms.RS256), JwtValidationResult.Malformed, DuplicateDifference),
            new("duplicate_header_alg", SignWith("{\"alg\":\"HS256\",\"kid\":\"hmac\",\"alg\":\"RS256\"}", payload, i => HMACSHA256.HashData(HmacSecret, i)), JwtValidationResult.Malformed),
        };
        return cases;
    }

    private static string SignEncoded(string encodedHeader, string encodedPayload, JwtAlgorithms algorithm)
    {
        string input = encodedHeader + "." + encodedPayload;
        return input + "." + B64(SignBytes(algorithm, Encoding.ASCII.GetBytes(input)));
    }

    private static string MapSignature(string token, Func<byte[], byte[]> map)
    {
        string[] parts = token.Split('.');
        return parts[0] + "." + parts[1] + "." + B64(map(Base64UrlEncoder.DecodeBytes(parts[2])));
    }

    private static string SwapPayload(string token, string payload)
    {
        string[] parts = token.Split('.');
        return parts[0] + "." + B64(payload) + "." + parts[2];
    }

    private static string Replace(string token, int part, int index, char c)
    {
        string[] parts = token.Split('.');
        char[] chars = parts[part].ToCharArray();
        chars[index] = c;
        parts[part] = new string(chars);
        return string.Join('.', parts);
    }

    /// <summary>Pads part <paramref name="part"/> with '=' to a multiple of 4 (the header is chosen so it needs it).</summary>
    private static string PadPart(string token, int part)
    {
        string[] parts = token.Split('.');
        parts[part] = parts[part].PadRight((parts[part].Length + 3) / 4 * 4, '=');
        return string.Join('.', parts);
    }

    private static string NonCanonicalSignature(string token)
    {
        string[] parts = token.Split('.');
        parts[2] = NonCanonical(parts[2]);
        return string.Join('.', parts);
    }

    /// <summary>An HS256 header whose base64url form ends in a partial quantum (so it can be padded or bent).</summary>
    private static string UnalignedHeader()
    {
        for (int n = 1; ; n++)
        {
            string header = Header(JwtAlgorithms.HS256, extra: $",\"x\":\"{new string('a', n)}\"");
            if (B64(header).Length % 4 == 2)
            {
                return header;
            }
        }
    }

    /// <summary>Sets an unused low bit of the last character: decodes to the same bytes, but is not the encoding.</summary>
    public static string NonCanonical(string encoded)
    {
        if (encoded.Length % 4 is 0 or 1)
        {
            throw new ArgumentException("needs a final partial quantum", nameof(encoded));
        }

        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        int value = alphabet.IndexOf(encoded[^1], StringComparison.Ordinal);
        return encoded[..^1] + alphabet[value | 1];
    }
}
