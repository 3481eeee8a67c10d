using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;

namespace FastGate.Gateway.Security;

/// <summary>An immutable set of verification keys; a refresh builds a new set and swaps one reference.</summary>
internal sealed class JwtKeySet : IJwtKeySource
{
    private readonly JwtKey[] _keys;

    public JwtKeySet(IEnumerable<JwtKey> keys, IReadOnlyList<string>? skipped = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _keys = [.. keys];
        Skipped = skipped ?? [];
    }

    public static JwtKeySet Empty { get; } = new([]);

    public IReadOnlyList<JwtKey> Keys => _keys;

    /// <summary>Why JWKs of the document were ignored (for the log), e.g. "kid 'x': kty 'OKP' is not supported".</summary>
    public IReadOnlyList<string> Skipped { get; }

    JwtKeySet IJwtKeySource.Current => this;

    void IJwtKeySource.RequestRefresh()
    {
        // A fixed set has nothing to refresh.
    }

    /// <summary>A set of one HMAC secret, from <c>secret_env</c> or a secret file (never from the route file).</summary>
    public static JwtKeySet FromHmacSecret(ReadOnlySpan<byte> secret, string? kid = null, JwtAlgorithms algorithm = JwtAlgorithms.None) =>
        new([JwtKey.ForHmac(kid, secret, algorithm)]);

    /// <summary>Builds a set from a JWKS document (RFC 7517 section 5); false with a reason when the document
    /// itself is unusable. Off the hot path: allocates freely.</summary>
    /// <remarks>
    /// JWKs this gateway cannot or must not use are skipped, as RFC 7517 section 5 asks, and listed in
    /// <see cref="Skipped"/>: unknown "kty" or "crv", "use" other than "sig", RSA keys under 2048 bits, bad members.
    /// <c>oct</c> keys (HMAC secrets) are skipped unless <paramref name="allowSymmetricKeys"/>: a JWKS is usually
    /// public, and a public HMAC secret lets anyone mint tokens; secrets come from <c>secret_env</c> or a file.
    /// </remarks>
    public static bool TryParseJwks(ReadOnlySpan<byte> json, out JwtKeySet keySet, out string? error, bool allowSymmetricKeys = false)
    {
        keySet = Empty;
        error = null;
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(json);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            error = $"the JWKS document is not valid JSON: {e.Message}";
            return false;
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("keys", out JsonElement keysElement)
                || keysElement.ValueKind != JsonValueKind.Array)
            {
                error = "the JWKS document has no \"keys\" array (RFC 7517 section 5.1)";
                return false;
            }

            var keys = new List<JwtKey>();
            var skipped = new List<string>();
            foreach (JsonElement jwk in keysElement.EnumerateArray())
            {
                string? reason = TryBuildKey(jwk, allowSymmetricKeys, out JwtKey? key);
                if (key is not null)
                {
                    keys.Add(key);
                }
                else
                {
                    string kid = jwk.ValueKind == JsonValueKind.Object && jwk.TryGetProperty("kid", out JsonElement k) ? k.ToString() : "";
                    skipped.Add($"kid '{kid}': {reason}");
                }
            }

            keySet = new JwtKeySet(keys, skipped);
            return true;
        }
    }

    /// <summary>The key whose "kid" equals <paramref name="kid"/> (unescaped UTF-8), or null.</summary>
    internal JwtKey? Find(ReadOnlySpan<byte> kid)
    {
        foreach (JwtKey key in _keys)
        {
            if (key.KidUtf8 is not null && kid.SequenceEqual(key.KidUtf8))
            {
                return key;
            }
        }

        return null;
    }

    internal JwtKey[] All => _keys;

    private static string? TryBuildKey(JsonElement jwk, bool allowSymmetricKeys, out JwtKey? key)
    {
        key = null;
        if (jwk.ValueKind != JsonValueKind.Object)
        {
            return "not a JSON object";
        }

        string? kid = GetString(jwk, "kid");
        string? kty = GetString(jwk, "kty");
        string? use = GetString(jwk, "use");
        string? alg = GetString(jwk, "alg");
        if (use is not null && use != "sig")
        {
            return $"use '{use}' is not 'sig'";
        }

        JwtAlgorithms algorithm = JwtAlgorithms.None;
        if (alg is not null && !JwtAlgorithmInfo.TryParse(alg, out algorithm))
        {
            return $"alg '{alg}' is not supported";
        }

        try
        {
            switch (kty)
            {
                case "RSA":
                    byte[]? n = GetBytes(jwk, "n");
                    byte[]? e = GetBytes(jwk, "e");
                    if (n is null || e is null)
                    {
                        return "RSA key without valid 'n' and 'e'";
                    }

                    key = JwtKey.ForRsa(kid, RSA.Create(new RSAParameters { Modulus = n, Exponent = e }), algorithm);
                    return null;
                case "EC":
                    string? crv = GetString(jwk, "crv");
                    (ECCurve curve, int size) = crv switch
                    {
                        "P-256" => (ECCurve.NamedCurves.nistP256, 32),
                        "P-384" => (ECCurve.NamedCurves.nistP384, 48),
                        "P-521" => (ECCurve.NamedCurves.nistP521, 66),
                        _ => (default(ECCurve), 0),
                    };
                    byte[]? x = GetBytes(jwk, "x");
                    byte[]? y = GetBytes(jwk, "y");
                    if (size == 0)
                    {
                        return $"crv '{crv}' is not supported";
                    }

                    // RFC 7518 section 6.2.1.2: x and y are the full coordinate size, not shortened.
                    if (x is null || y is null || x.Length != size || y.Length != size)
                    {
                        return "EC key without valid 'x' and 'y'";
                    }

                    key = JwtKey.ForEcdsa(kid, ECDsa.Create(new ECParameters { Curve = curve, Q = new ECPoint { X = x, Y = y } }), algorithm);
                    return null;
                case "oct":
                    if (!allowSymmetricKeys)
                    {
                        return "oct (HMAC) keys are not accepted from a JWKS; use secret_env or a secret file";
                    }

                    byte[]? k = GetBytes(jwk, "k");
                    if (k is null)
                    {
                        return "oct key without valid 'k'";
                    }

                    key = JwtKey.ForHmac(kid, k, algorithm);
                    return null;
                default:
                    return $"kty '{kty}' is not supported";
            }
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            return e.Message;
        }
    }

    private static string? GetString(JsonElement jwk, string name) =>
        jwk.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static byte[]? GetBytes(JsonElement jwk, string name)
    {
        string? text = GetString(jwk, name);
        if (text is null || text.Length == 0)
        {
            return null;
        }

        byte[] buffer = new byte[Base64Url.GetMaxDecodedLength(text.Length)];
        return Base64Url.TryDecodeFromChars(text, buffer, out int written) ? buffer[..written] : null;
    }
}

/// <summary>Where a validator gets its current keys; a JWKS provider swaps the set behind it.</summary>
internal interface IJwtKeySource
{
    /// <summary>The current set; read once per token (one volatile read).</summary>
    JwtKeySet Current { get; }

    /// <summary>A token named a key the set does not have: refresh if the throttle allows. Never blocks.</summary>
    void RequestRefresh();
}
