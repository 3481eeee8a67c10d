using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FastGate.Gateway.Security;
using static FastGate.Gateway.Tests.Security.JwtTestKeys;

namespace FastGate.Gateway.Tests.Security;

public class JwtValidatorTests
{
    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (JwtCase c in JwtCorpus.Valid.Concat(JwtCorpus.Hostile))
        {
            data.Add(c.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Corpus_token_gets_its_exact_result(string name)
    {
        JwtCase c = JwtCorpus.Valid.Concat(JwtCorpus.Hostile).Single(x => x.Name == name);
        var validator = new JwtValidator(JwtCorpus.Policy, KeySet, cacheCapacity: 0);

        Assert.Equal(c.Expected, validator.Validate(Encoding.ASCII.GetBytes(c.Token), Now, out _));
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Corpus_token_gets_the_same_result_through_the_cache_twice(string name)
    {
        JwtCase c = JwtCorpus.Valid.Concat(JwtCorpus.Hostile).Single(x => x.Name == name);
        var validator = new JwtValidator(JwtCorpus.Policy, KeySet);
        byte[] token = Encoding.ASCII.GetBytes(c.Token);

        Assert.Equal(c.Expected, validator.Validate(token, Now, out _));
        Assert.Equal(c.Expected, validator.Validate(token, Now, out _));
    }

    [Theory]
    [InlineData("HS256")]
    [InlineData("HS384")]
    [InlineData("HS512")]
    [InlineData("RS256")]
    [InlineData("RS384")]
    [InlineData("RS512")]
    [InlineData("PS256")]
    [InlineData("PS384")]
    [InlineData("PS512")]
    [InlineData("ES256")]
    [InlineData("ES384")]
    [InlineData("ES512")]
    public void Every_algorithm_validates_a_Microsoft_minted_token_and_exposes_its_claims(string name)
    {
        JwtAlgorithms algorithm = Enum.Parse<JwtAlgorithms>(name);
        var validator = new JwtValidator(Policy(), KeySet, cacheCapacity: 0);
        byte[] token = Encoding.ASCII.GetBytes(MintWithMicrosoft(algorithm));

        Assert.Equal(JwtValidationResult.Valid, validator.Validate(token, Now, out JwtClaims claims));
        Assert.True(claims.TryGetClaim("sub"u8, out JsonValueSpan sub));
        Assert.True(sub.ValueEquals("user-42"u8));
        Assert.InRange(claims.ExpiresAt, Now + 3500, Now + 3600);
    }

    [Theory]
    [InlineData("HS256")]
    [InlineData("RS256")]
    [InlineData("ES256")]
    public void An_algorithm_outside_the_policy_is_rejected_even_when_correctly_signed(string name)
    {
        JwtAlgorithms algorithm = Enum.Parse<JwtAlgorithms>(name);
        var validator = new JwtValidator(Policy(JwtAlgorithms.All & ~algorithm), KeySet, cacheCapacity: 0);

        Assert.Equal(JwtValidationResult.AlgorithmNotAllowed, validator.Validate(Encoding.ASCII.GetBytes(MintWithMicrosoft(algorithm)), Now, out _));
    }

    [Fact]
    public void A_header_one_validator_accepted_is_judged_again_by_another_and_still_checked_with_each_token()
    {
        var allowing = new JwtValidator(Policy(), KeySet, cacheCapacity: 0);
        var refusing = new JwtValidator(Policy(JwtAlgorithms.All & ~JwtAlgorithms.HS256), KeySet, cacheCapacity: 0);
        byte[] token = Encoding.ASCII.GetBytes(MintWithMicrosoft(JwtAlgorithms.HS256));
        byte[] forged = (byte[])token.Clone();
        forged[^2] = forged[^2] == (byte)'A' ? (byte)'B' : (byte)'A';

        // The same header text, on one thread: remembered by the first validator, never lent to the second.
        Assert.Equal(JwtValidationResult.Valid, allowing.Validate(token, Now, out _));
        Assert.Equal(JwtValidationResult.AlgorithmNotAllowed, refusing.Validate(token, Now, out _));
        Assert.Equal(JwtValidationResult.Valid, allowing.Validate(token, Now, out _));
        // A remembered header does not vouch for the rest of the token.
        Assert.Equal(JwtValidationResult.BadSignature, allowing.Validate(forged, Now, out _));
        Assert.Equal(JwtValidationResult.AlgorithmNotAllowed, refusing.Validate(token, Now, out _));
    }

    [Fact]
    public void A_context_keeps_the_last_accepted_header_for_the_validator_that_accepted_it()
    {
        var allowing = new JwtValidator(Policy(), KeySet, cacheCapacity: 0);
        var refusing = new JwtValidator(Policy(JwtAlgorithms.All & ~JwtAlgorithms.HS256), KeySet, cacheCapacity: 0);
        byte[] token = Encoding.ASCII.GetBytes(MintWithMicrosoft(JwtAlgorithms.HS256));
        byte[] forged = (byte[])token.Clone();
        forged[^2] = forged[^2] == (byte)'A' ? (byte)'B' : (byte)'A';
        using var context = new JwtValidationContext();
        using var other = new JwtValidationContext();

        Assert.Equal(JwtValidationResult.AlgorithmNotAllowed, refusing.Validate(token, Now, context));
        Assert.Null(context.LastHeader);
        Assert.Equal(JwtValidationResult.Valid, allowing.Validate(token, Now, context));
        JwtValidator.AcceptedHeader? remembered = context.LastHeader;
        Assert.NotNull(remembered);
        Assert.Equal(Array.IndexOf(token, (byte)'.'), remembered.EncodedLength);
        Assert.Equal(JwtAlgorithms.HS256, remembered.Algorithm);
        Assert.Equal(Encoding.ASCII.GetBytes(Kid(JwtAlgorithms.HS256)), remembered.Kid.ToArray());
        Assert.Null(other.LastHeader);

        // Kept across tokens, and never lent to another validator or another context.
        context.Reset();
        Assert.Same(remembered, context.LastHeader);
        Assert.Equal(JwtValidationResult.AlgorithmNotAllowed, refusing.Validate(token, Now, context));
        Assert.Equal(JwtValidationResult.AlgorithmNotAllowed, refusing.Validate(token, Now, other));
        Assert.Null(other.LastHeader);
        Assert.Equal(JwtValidationResult.BadSignature, allowing.Validate(forged, Now, context));
        Assert.Equal(JwtValidationResult.Valid, allowing.Validate(token, Now, context));
        Assert.Same(remembered, context.LastHeader);
    }

    /// <summary>The validator splits at the first and the last dot and leaves a dot in the payload to its decoding;
    /// every token with more than three parts stays Malformed, whatever its header says and whether that header
    /// was remembered from an earlier token.</summary>
    [Theory]
    [InlineData(null, "Valid")]
    [InlineData(",\"crit\":[\"exp\"]", "UnknownCriticalHeader")]
    [InlineData(",\"typ\":\"JOSE\"", "WrongType")]
    public void Extra_parts_are_malformed_whatever_the_header_says_and_whether_it_was_remembered(string? headerExtra, string threePartsName)
    {
        JwtValidationResult threeParts = Enum.Parse<JwtValidationResult>(threePartsName);
        var validator = new JwtValidator(Policy(), KeySet, cacheCapacity: 0);
        string header = headerExtra is null
            ? Header(JwtAlgorithms.HS256)
            : $"{{\"alg\":\"HS256\",\"kid\":\"{Kid(JwtAlgorithms.HS256)}\"{headerExtra}}}";
        string token = Sign(header, Payload(), JwtAlgorithms.HS256);
        string[] parts = token.Split('.');
        string refused = B64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + B64(Payload()) + ".";
        string[] malformed =
        [
            token + ".AAAA",
            token + ".",
            parts[0] + "." + parts[1][..10] + "." + parts[1][10..] + "." + parts[2],
            parts[0] + ".." + parts[1] + "." + parts[2],
            parts[0] + "." + parts[1] + ".." + parts[2],
            parts[0] + "." + parts[1],
            parts[0] + "..",
            "." + parts[1] + "." + parts[2],
            parts[0],
            refused + ".AAAA",
            refused + ".",
            refused.Split('.')[0] + ".A.B.C",
        ];

        for (int round = 0; round < 2; round++)
        {
            // The first round starts with nothing remembered by this validator; the second after the valid token.
            Assert.Equal(threeParts, validator.Validate(Encoding.ASCII.GetBytes(token), Now, out _));
            foreach (string bad in malformed)
            {
                Assert.True(JwtValidationResult.Malformed == validator.Validate(Encoding.ASCII.GetBytes(bad), Now, out _), bad);
            }

            Assert.Equal(JwtValidationResult.AlgorithmNotAllowed, new JwtValidator(Policy(JwtAlgorithms.HS384), KeySet, 0).Validate(Encoding.ASCII.GetBytes(token), Now, out _));

            // An empty signature is a third part: the header's verdict, or a signature that does not verify.
            JwtValidationResult unsigned = threeParts == JwtValidationResult.Valid ? JwtValidationResult.BadSignature : threeParts;
            Assert.Equal(unsigned, validator.Validate(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1] + "."), Now, out _));
        }
    }

    /// <summary>"iss" and "aud" are kept during the scan and compared after it; their types, the array's elements
    /// and the order of the verdicts are what they were when the scan compared them.</summary>
    [Theory]
    [InlineData("\"https://issuer.example\"", "\"fastgate\"", 0L, "Valid")]
    [InlineData("\"https://issuer.example\"", "[ \"x\" , \"fastgate\" ]", 0L, "Valid")]
    [InlineData("\"https://issuer.example\"", "[\"fastgate\",1]", 0L, "Malformed")]
    [InlineData("\"https://issuer.example\"", "[[\"fastgate\"]]", 0L, "Malformed")]
    [InlineData("\"https://issuer.example\"", "[\"x\",null]", 0L, "Malformed")]
    [InlineData("\"https://issuer.example\"", "{\"a\":\"fastgate\"}", 0L, "Malformed")]
    [InlineData("\"https://issuer.example\"", "null", 0L, "Malformed")]
    [InlineData("\"https://issuer.example\"", "[\"x\"]", 0L, "WrongAudience")]
    [InlineData("1", "\"fastgate\"", 0L, "Malformed")]
    [InlineData("[\"https://issuer.example\"]", "\"fastgate\"", 0L, "Malformed")]
    [InlineData("null", "\"fastgate\"", 0L, "Malformed")]
    [InlineData("\"https://issuer.exampl\"", "\"fastgate\"", 0L, "WrongIssuer")]
    [InlineData("\"https://issuer.example/\"", "\"x\"", 0L, "WrongIssuer")]
    [InlineData("\"https://evil.example\"", "\"x\"", -7200L, "Expired")]
    public void Issuer_and_audience_are_judged_after_the_scan_as_during_it(string iss, string aud, long expOffset, string expectedName)
    {
        JwtValidationResult expected = Enum.Parse<JwtValidationResult>(expectedName);
        var validator = new JwtValidator(Policy(), KeySet, cacheCapacity: 0);
        string payload = $"{{\"iss\":{iss},\"aud\":{aud},\"exp\":{Now + 3600 + expOffset}}}";

        Assert.Equal(expected, validator.Validate(Encoding.ASCII.GetBytes(Sign(Header(JwtAlgorithms.HS256), payload, JwtAlgorithms.HS256)), Now, out _));
    }

    [Fact]
    public void Time_checks_apply_the_skew_at_the_exact_second()
    {
        long now = 1_700_000_000;
        var validator = new JwtValidator(Policy(), KeySet, cacheCapacity: 0);
        byte[] Token(long exp, long nbf, long iat) =>
            Encoding.ASCII.GetBytes(Sign(Header(JwtAlgorithms.HS256), Payload(exp: exp, nbf: nbf, iat: iat), JwtAlgorithms.HS256));

        Assert.Equal(JwtValidationResult.Valid, validator.Validate(Token(now - 29, now, now), now, out _));
        Assert.Equal(JwtValidationResult.Expired, validator.Validate(Token(now - 30, now, now), now, out _));
        Assert.Equal(JwtValidationResult.Valid, validator.Validate(Token(now + 60, now + 30, now), now, out _));
        Assert.Equal(JwtValidationResult.NotYetValid, validator.Validate(Token(now + 60, now + 31, now), now, out _));
        Assert.Equal(JwtValidationResult.Valid, validator.Validate(Token(now + 60, now, now + 30), now, out _));
        Assert.Equal(JwtValidationResult.IssuedInFuture, validator.Validate(Token(now + 60, now, now + 31), now, out _));
        Assert.Equal(JwtValidationResult.Expired, validator.Validate(Token(long.MinValue + 1, now, now), now, out _));
        Assert.Equal(JwtValidationResult.Valid, validator.Validate(Token(long.MaxValue, now, now), now, out _));
    }

    [Fact]
    public void A_fractional_exp_is_truncated()
    {
        long now = 1_700_000_000;
        var validator = new JwtValidator(Policy(JwtAlgorithms.HS256), KeySet, cacheCapacity: 0);
        string payload = $"{{\"iss\":\"{Issuer}\",\"aud\":\"{Audience}\",\"exp\":{now + 30}.9}}";
        var zeroSkew = new JwtValidator(new JwtPolicy(Issuer, [Audience], JwtAlgorithms.HS256, TimeSpan.Zero), KeySet, 0);
        byte[] token = Encoding.ASCII.GetBytes(Sign(Header(JwtAlgorithms.HS256), payload, JwtAlgorithms.HS256));

        Assert.Equal(JwtValidationResult.Valid, zeroSkew.Validate(token, now + 29, out _));
        Assert.Equal(JwtValidationResult.Expired, zeroSkew.Validate(token, now + 30, out _));
        Assert.Equal(JwtValidationResult.Valid, validator.Validate(token, now + 59, out _));
    }

    [Fact]
    public void A_cached_token_expires_at_its_exp()
    {
        long now = 1_700_000_000;
        var validator = new JwtValidator(new JwtPolicy(Issuer, [Audience], JwtAlgorithms.All, TimeSpan.Zero), KeySet);
        byte[] token = Encoding.ASCII.GetBytes(Sign(Header(JwtAlgorithms.RS256), Payload(exp: now + 100, nbf: now, iat: now), JwtAlgorithms.RS256));

        Assert.Equal(JwtValidationResult.Valid, validator.Validate(token, now, out _));
        Assert.Equal(JwtValidationResult.Valid, validator.Validate(token, now + 99, out JwtClaims claims));
        Assert.Equal(now + 100, claims.ExpiresAt);
        Assert.Equal(JwtValidationResult.Expired, validator.Validate(token, now + 100, out _));
    }

    [Fact]
    public void A_cached_token_is_verified_again_after_the_key_set_changes()
    {
        var source = new SwappableKeySource(KeySet);
        var validator = new JwtValidator(Policy(), source);
        byte[] token = Encoding.ASCII.GetBytes(MintWithMicrosoft(JwtAlgorithms.RS256));
        Assert.Equal(JwtValidationResult.Valid, validator.Validate(token, Now, out _));

        source.Current = new JwtKeySet([JwtKey.ForRsa("rsa", OtherRsa)]);

        Assert.Equal(JwtValidationResult.BadSignature, validator.Validate(token, Now, out _));
    }

    [Fact]
    public void An_unknown_kid_requests_a_key_refresh_and_a_known_one_does_not()
    {
        var source = new SwappableKeySource(KeySet);
        var validator = new JwtValidator(Policy(), source, cacheCapacity: 0);

        validator.Validate(Encoding.ASCII.GetBytes(MintWithMicrosoft(JwtAlgorithms.RS256)), Now, out _);
        Assert.Equal(0, source.RefreshRequests);

        byte[] unknown = Encoding.ASCII.GetBytes(Sign(Header(JwtAlgorithms.RS256, kid: "rotated"), Payload(), JwtAlgorithms.RS256));
        Assert.Equal(JwtValidationResult.UnknownKey, validator.Validate(unknown, Now, out _));
        Assert.Equal(1, source.RefreshRequests);
    }

    [Fact]
    public void A_key_without_kid_verifies_tokens_with_or_without_kid()
    {
        var validator = new JwtValidator(Policy(JwtAlgorithms.Hmac), JwtKeySet.FromHmacSecret(HmacSecret), cacheCapacity: 0);

        Assert.Equal(JwtValidationResult.Valid, validator.Validate(Encoding.ASCII.GetBytes(Sign("{\"alg\":\"HS256\"}", Payload(), JwtAlgorithms.HS256)), Now, out _));
        Assert.Equal(JwtValidationResult.Valid, validator.Validate(Encoding.ASCII.GetBytes(Sign(Header(JwtAlgorithms.HS512, kid: "any"), Payload(), JwtAlgorithms.HS512)), Now, out _));
    }

    [Fact]
    public void An_hmac_secret_shorter_than_the_hash_does_not_verify_that_algorithm()
    {
        byte[] secret = HmacSecret[..32];
        var validator = new JwtValidator(Policy(JwtAlgorithms.Hmac), JwtKeySet.FromHmacSecret(secret), cacheCapacity: 0);

        Assert.Equal(JwtValidationResult.Valid, validator.Validate(Encoding.ASCII.GetBytes(Sign("{\"alg\":\"HS256\"}", Payload(), JwtAlgorithms.HS256, secret)), Now, out _));
        Assert.Equal(JwtValidationResult.UnknownKey, validator.Validate(Encoding.ASCII.GetBytes(Sign("{\"alg\":\"HS512\"}", Payload(), JwtAlgorithms.HS512, secret)), Now, out _));
        Assert.Throws<ArgumentException>(() => JwtKeySet.FromHmacSecret(secret.AsSpan(0, 31)));
    }

    [Fact]
    public void Claims_are_read_unescaped_and_written_as_safe_header_values()
    {
        var validator = new JwtValidator(Policy(), KeySet, cacheCapacity: 0);
        string extra = ",\"name\":\"J\\u00f6rg \\\"J\\\"\",\"n\":42,\"ok\":true,\"evil\":\"a\\r\\nX-Admin: 1\",\"arr\":[1]";
        byte[] token = Encoding.ASCII.GetBytes(Sign(Header(JwtAlgorithms.HS256), Payload(extra: extra), JwtAlgorithms.HS256));
        Assert.Equal(JwtValidationResult.Valid, validator.Validate(token, Now, out JwtClaims claims));
        Span<byte> buffer = stackalloc byte[64];

        Assert.True(claims.TryGetClaim("name"u8, out JsonValueSpan name));
        Assert.True(name.TryWriteHeaderValue(buffer, out int written));
        Assert.Equal("Jörg \"J\"", Encoding.UTF8.GetString(buffer[..written]));
        Assert.True(claims.TryGetClaim("n"u8, out JsonValueSpan n));
        Assert.True(n.TryGetInt64(out long number));
        Assert.Equal(42, number);
        Assert.True(n.TryWriteHeaderValue(buffer, out written));
        Assert.Equal("42", Encoding.ASCII.GetString(buffer[..written]));
        Assert.True(claims.TryGetClaim("ok"u8, out JsonValueSpan ok));
        Assert.Equal(JsonTokenType.True, ok.Kind);
        Assert.True(claims.TryGetClaim("evil"u8, out JsonValueSpan evil));
        Assert.False(evil.TryWriteHeaderValue(buffer, out _));
        Assert.True(claims.TryGetClaim("arr"u8, out JsonValueSpan arr));
        Assert.False(arr.TryWriteHeaderValue(buffer, out _));
        Assert.False(name.TryWriteHeaderValue(buffer[..4], out _));
        Assert.False(claims.TryGetClaim("missing"u8, out _));
        Assert.True(claims.TryGetClaim("sub"u8, out JsonValueSpan sub));
        Assert.Equal("\"user-42\"", Encoding.ASCII.GetString(sub.RawJson));
    }

    [Fact]
    public void The_context_keeps_the_claims_until_its_next_token()
    {
        var validator = new JwtValidator(Policy(), KeySet);
        using var context = new JwtValidationContext();
        byte[] token = Encoding.ASCII.GetBytes(MintWithMicrosoft(JwtAlgorithms.ES256));

        Assert.Equal(JwtValidationResult.Valid, validator.Validate(token, Now, context));
        Assert.True(context.Claims.TryGetClaim("sub"u8, out JsonValueSpan sub) && sub.ValueEquals("user-42"u8));
        Assert.Equal(JwtValidationResult.Valid, validator.Validate(token, Now, context));
        Assert.True(context.Claims.TryGetClaim("sub"u8, out sub) && sub.ValueEquals("user-42"u8));

        Assert.Equal(JwtValidationResult.Malformed, validator.Validate("x.y.z"u8, Now, context));
        Assert.False(context.HasClaims);
        Assert.False(context.Claims.TryGetClaim("sub"u8, out _));
    }

    [Theory]
    [InlineData("Bearer abc.def.ghi", "abc.def.ghi")]
    [InlineData("bearer   abc.def.ghi  ", "abc.def.ghi")]
    [InlineData("BEARER x", "x")]
    [InlineData("Basic abc", null)]
    [InlineData("Bearer", null)]
    [InlineData("Bearer ", null)]
    [InlineData("Bearerx abc", null)]
    public void Bearer_token_is_taken_from_the_authorization_value(string value, string? expected)
    {
        bool found = JwtValidator.TryGetBearerToken(Encoding.ASCII.GetBytes(value), out ReadOnlySpan<byte> token);

        Assert.Equal(expected is not null, found);
        if (expected is not null)
        {
            Assert.Equal(expected, Encoding.ASCII.GetString(token));
        }
    }

    [Fact]
    public void Jwks_document_builds_rsa_and_ec_keys_and_skips_what_it_must_not_use()
    {
        RSAParameters rsa = Rsa.ExportParameters(false);
        ECParameters ec = P384.ExportParameters(false);
        using var small = RSA.Create(1024);
        RSAParameters weak = small.ExportParameters(false);
        string json = $$"""
            {"keys":[
              {"kty":"RSA","kid":"r1","use":"sig","alg":"RS256","n":"{{B64(rsa.Modulus!)}}","e":"{{B64(rsa.Exponent!)}}"},
              {"kty":"EC","kid":"e1","crv":"P-384","x":"{{B64(ec.Q.X!)}}","y":"{{B64(ec.Q.Y!)}}"},
              {"kty":"oct","kid":"s1","k":"{{B64(HmacSecret)}}"},
              {"kty":"RSA","kid":"weak","n":"{{B64(weak.Modulus!)}}","e":"{{B64(weak.Exponent!)}}"},
              {"kty":"RSA","kid":"enc","use":"enc","n":"{{B64(rsa.Modulus!)}}","e":"{{B64(rsa.Exponent!)}}"},
              {"kty":"OKP","kid":"ed","crv":"Ed25519","x":"AAAA"},
              {"kty":"EC","kid":"k1","crv":"secp256k1","x":"AAAA","y":"AAAA"}
            ]}
            """;

        Assert.True(JwtKeySet.TryParseJwks(Encoding.UTF8.GetBytes(json), out JwtKeySet set, out string? error), error);

        Assert.Equal(["r1", "e1"], set.Keys.Select(k => k.Kid));
        Assert.Equal(JwtAlgorithms.RS256, set.Keys[0].Algorithm);
        Assert.Equal(JwtCurve.P384, set.Keys[1].Curve);
        Assert.Equal(5, set.Skipped.Count);
        Assert.Contains(set.Skipped, s => s.StartsWith("kid 's1': oct", StringComparison.Ordinal));

        Assert.True(JwtKeySet.TryParseJwks(Encoding.UTF8.GetBytes(json), out JwtKeySet withSecrets, out _, allowSymmetricKeys: true));
        Assert.Equal(["r1", "e1", "s1"], withSecrets.Keys.Select(k => k.Kid));

        var validator = new JwtValidator(Policy(), set, cacheCapacity: 0);
        Assert.Equal(JwtValidationResult.Valid, validator.Validate(Encoding.ASCII.GetBytes(Sign(Header(JwtAlgorithms.RS256, kid: "r1"), Payload(), JwtAlgorithms.RS256)), Now, out _));
        Assert.Equal(JwtValidationResult.KeyAlgorithmMismatch, validator.Validate(Encoding.ASCII.GetBytes(Sign(Header(JwtAlgorithms.PS256, kid: "r1"), Payload(), JwtAlgorithms.PS256)), Now, out _));
        Assert.Equal(JwtValidationResult.Valid, validator.Validate(Encoding.ASCII.GetBytes(Sign(Header(JwtAlgorithms.ES384, kid: "e1"), Payload(), JwtAlgorithms.ES384)), Now, out _));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{\"keys\":{}}")]
    [InlineData("{}")]
    public void Jwks_document_without_a_keys_array_is_an_error(string json)
    {
        Assert.False(JwtKeySet.TryParseJwks(Encoding.UTF8.GetBytes(json), out JwtKeySet set, out string? error));
        Assert.NotNull(error);
        Assert.Same(JwtKeySet.Empty, set);
    }

    [Fact]
    public void Verified_token_cache_is_bounded_and_compares_whole_tokens()
    {
        var cache = new VerifiedTokenCache(64);
        byte[] payload = "{}"u8.ToArray();
        for (int i = 0; i < 1000; i++)
        {
            byte[] token = Encoding.ASCII.GetBytes($"token-{i}");
            cache.Add(token, cache.Hash(token), payload, 2_000_000_000, KeySet, 1_700_000_000);
        }

        int found = Enumerable.Range(0, 1000).Count(i =>
        {
            byte[] token = Encoding.ASCII.GetBytes($"token-{i}");
            return cache.Find(token, cache.Hash(token), KeySet) is not null;
        });
        Assert.Equal(64, cache.Capacity);
        Assert.InRange(found, 1, 64);
        Assert.NotNull(cache.Find("token-999"u8, cache.Hash("token-999"u8), KeySet));

        // Same bucket and hash, other bytes: never a hit.
        Assert.Null(cache.Find("token-99X"u8, cache.Hash("token-999"u8), KeySet));
        Assert.Null(cache.Find("token-999"u8, cache.Hash("token-999"u8), JwtKeySet.Empty));
    }

    [Fact]
    public void Concurrent_validations_through_a_small_cache_each_see_their_own_claims()
    {
        var validator = new JwtValidator(Policy(), KeySet, cacheCapacity: 16);
        JwtAlgorithms[] algorithms = [JwtAlgorithms.HS256, JwtAlgorithms.HS512, JwtAlgorithms.RS256, JwtAlgorithms.ES256];
        byte[][] tokens = [.. Enumerable.Range(0, 64).Select(i =>
            Encoding.ASCII.GetBytes(Sign(Header(algorithms[i % 4]), Payload(extra: $",\"n\":{i}"), algorithms[i % 4])))];
        int failures = 0;

        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, worker =>
        {
            using var context = new JwtValidationContext();
            for (int i = 0; i < 1500; i++)
            {
                int index = (i * 7 + worker * 13) % tokens.Length;
                if (validator.Validate(tokens[index], Now, context) != JwtValidationResult.Valid
                    || !context.Claims.TryGetClaim("n"u8, out JsonValueSpan n)
                    || !n.TryGetInt64(out long value)
                    || value != index)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        });

        Assert.Equal(0, failures);
    }

    private sealed class SwappableKeySource(JwtKeySet keys) : IJwtKeySource
    {
        public JwtKeySet Current { get; set; } = keys;

        public int RefreshRequests { get; private set; }

        public void RequestRefresh() => RefreshRequests++;
    }
}
